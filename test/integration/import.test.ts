// `queuewatch import` into an embedded DynamoDB (dynalite): a generated export with bad lines,
// duplicates and a conflict; re-runs; resuming after an interruption and after a failure; both
// write strategies; CSV; and the command line itself.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryFlowStore } from '#shared/adapters/memory-flow.ts';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { MIRROR_TABLE } from '#shared/adapters/tables.ts';
import { formatRecords } from '#shared/cli/generate-command.ts';
import { main } from '#shared/cli/main.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { type GeneratedRecord, generateQueue } from '#shared/generate/queue.ts';
import { validateRecord } from '#shared/ingest/change.ts';
import { ImportError, type ImportOptions, importCases } from '#shared/ingest/import.ts';
import { CaseFileError } from '#shared/io/case-file.ts';
import {
  createTables,
  type EmbeddedDynamo,
  ensureNamedTables,
  existingTables,
  localDynamoClient,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { openIndexRefs } from '#test/support/open-index.ts';

const NOW = Date.parse('2026-11-27T09:00:00Z');
const HOUR = 3_600_000;
const PII = /SYNTHETIC-(PERSON|ADDRESS|NOTE)/;
const config = loadConfig();
const districts = Object.keys(config.file.districts);

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let dir: string;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  dir = mkdtempSync(join(tmpdir(), 'queuewatch-import-'));
});

afterAll(async () => {
  await dynamo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freshTable(): Promise<string> {
  return (await createTables(dynamo.client, `imp${tableCount++}`)).mirror;
}

interface Fixture {
  file: string;
  lines: string[];
  /** Line numbers (1-based) of the lines that must be rejected, with their reason code. */
  rejected: Map<number, string>;
}

/** A generated export with source-system fields, and bad lines, duplicates and a conflict mixed in. */
function fixture(name: string, open: number, closed: number): Fixture {
  const records = [
    ...generateQueue({ open, closed, seed: 7, nowMs: NOW, districts, withSourceFields: true }),
  ];
  const lines: Array<{ text: string; code?: string }> = records.map((r) => ({ text: JSON.stringify(r) }));
  const at = (i: number) => records[i] as GeneratedRecord;
  // An earlier version (ms < 0) entered its stage no later than it was written.
  const later = (r: GeneratedRecord, ms: number): GeneratedRecord => ({
    ...r,
    ...(ms < 0 ? { stageEnteredAt: new Date(Date.parse(r.stageEnteredAt) + ms).toISOString() } : {}),
    sourceUpdatedAt: new Date(Date.parse(r.sourceUpdatedAt) + ms).toISOString(),
  });
  const insert = (index: number, text: string, code?: string) =>
    lines.splice(index, 0, code ? { text, code } : { text });

  insert(3, JSON.stringify(at(0)).slice(0, 70), 'unreadable');
  insert(40, JSON.stringify({ ...at(1), caseRef: 'DA-900-0000001', district: 'D99' }), 'unknown-district');
  insert(
    90,
    JSON.stringify({
      ...at(2),
      caseRef: 'DA-900-0000002',
      stageEnteredAt: '2099-01-01T00:00:00Z',
    }),
    'future-stage',
  );
  insert(
    130,
    JSON.stringify({ ...at(3), caseRef: 'DA-900-0000003', childrenInvolved: 'yes' }),
    'invalid-fields',
  );
  insert(
    170,
    JSON.stringify({ ...at(4), caseRef: 'DA-900\u0000\u001b[2J', notes: 'x'.repeat(50_000) }),
    'invalid-fields',
  );
  insert(210, JSON.stringify({ ...at(5), category: "x'; DROP TABLE mirror;--" }), 'invalid-fields');
  insert(240, JSON.stringify({ ...at(6), stageEnteredAt: '2026-11-20T09:00:00' }), 'invalid-fields');
  // Duplicates: a newer version of case 10 far down the file (an update), an older one of case 11
  // (older than stored), and the same version of case 12 with other content (a conflict, rejected).
  lines.push({ text: JSON.stringify(later({ ...at(10), stage: 'closed' }, HOUR)) });
  lines.push({ text: JSON.stringify(later(at(11), -HOUR)) });
  lines.push({
    text: JSON.stringify({ ...at(12), riskLevel: at(12).riskLevel === 'high' ? 'standard' : 'high' }),
    code: 'conflict',
  });
  // Timestamps with an offset are fine (normalised to UTC).
  lines.push({
    text: JSON.stringify({
      ...at(13),
      caseRef: 'DA-900-0000013',
      stageEnteredAt: '2026-11-27T08:00:00+01:00',
      sourceUpdatedAt: '2026-11-27T08:30:00+01:00',
    }),
  });

  const file = join(dir, name);
  writeFileSync(file, `${lines.map((l) => l.text).join('\n')}\n`);
  const rejected = new Map<number, string>();
  lines.forEach((l, i) => {
    if (l.code) rejected.set(i + 1, l.code);
  });
  return { file, lines: lines.map((l) => l.text), rejected };
}

/** What the mirror must hold: the valid lines applied in file order to the in-memory mirror. */
async function expectedMirror(lines: string[]): Promise<MemoryMirror> {
  const mirror = new MemoryMirror();
  for (const line of lines) {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    const checked = validateRecord(raw, config.vocabulary, NOW);
    if (checked.ok) await mirror.apply(checked, NOW);
  }
  return mirror;
}

async function tableState(tableName: string) {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: doc }, { TableName: tableName, ConsistentRead: true })) {
    // Without the write's bookkeeping: when, and the stage it replaced (which depends on the
    // order versions arrive in, by design: a version skipped as older made no transition).
    for (const { mirroredAt: _, priorStage: __, ...item } of page.Items ?? []) items.push(item);
  }
  return items.sort((a, b) => String(a.caseRef).localeCompare(String(b.caseRef)));
}

const openIndex = (tableName: string) => openIndexRefs(doc, tableName);

const memoryState = (mirror: MemoryMirror) =>
  [...mirror.items.values()]
    .map(({ mirroredAt: _, priorStage: __, ...item }) => item)
    .sort((a, b) => a.caseRef.localeCompare(b.caseRef));

const options = (f: Fixture, tableName: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
  file: f.file,
  client: doc,
  tableName,
  vocabulary: config.vocabulary,
  nowMs: NOW,
  rejectsFile: `${f.file}.${tableName}.rejects.jsonl`,
  checkpointFile: `${f.file}.${tableName}.checkpoint.json`,
  ...extra,
});

const rejectsIn = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number; code: string; reason: string; caseRef?: string });

describe('importCases', () => {
  it('imports a generated export with bad lines, reports it truly and leaves exactly the open cases indexed', async () => {
    const f = fixture('mixed.jsonl', 500, 150);
    const table = await freshTable();
    const progress: number[] = [];

    const report = await importCases(options(f, table, { onProgress: (p) => progress.push(p.line) }));

    const expected = await expectedMirror(f.lines);
    const valid = f.lines.length - f.rejected.size;
    expect(report).toMatchObject({
      read: f.lines.length,
      created: expected.items.size,
      updated: 1, // case 10's later line
      unchanged: 0,
      stale: 1, // case 11's late, older line
      rejected: f.rejected.size,
      reasons: { unreadable: 1, 'unknown-district': 1, 'future-stage': 1, 'invalid-fields': 4, conflict: 1 },
      interrupted: false,
    });
    expect(report.imported + report.stale).toBe(valid);
    expect(await tableState(table)).toEqual(memoryState(expected));
    const open = memoryState(expected)
      .filter((i) => i.openShard !== undefined)
      .map((i) => i.caseRef);
    expect(await openIndex(table)).toEqual(open.sort());
    // The rejects file: every rejected line with its reason, nothing else, no personal data.
    const rejects = rejectsIn(report.rejectsFile as string);
    expect(new Map(rejects.map((r) => [r.line, r.code]))).toEqual(f.rejected);
    for (const r of rejects) expect(r.reason.length).toBeGreaterThan(10);
    expect(rejects.find((r) => r.code === 'conflict')?.reason).toMatch(
      /the mirror holds other content for the same version/,
    );
    expect(JSON.stringify([rejects, report, await tableState(table)])).not.toMatch(PII);
    expect(progress.at(-1)).toBe(f.lines.length);
  });

  it('changes nothing when re-run: every line is unchanged, older or rejected as before', async () => {
    const f = fixture('rerun.jsonl', 200, 50);
    const table = await freshTable();
    const first = await importCases(options(f, table));
    const before = await tableState(table);

    const second = await importCases(options(f, table));

    const cases = before.length;
    expect(second).toMatchObject({
      read: first.read,
      created: 0,
      updated: 0,
      unchanged: cases,
      stale: f.lines.length - f.rejected.size - cases, // every earlier version of a case in the file
      rejected: first.rejected,
    });
    expect(await tableState(table)).toEqual(before);
  });

  it('never overwrites a newer version already in the mirror, and updates an older one', async () => {
    const f = fixture('stored.jsonl', 100, 0);
    const table = await freshTable();
    const [newerThanFile, olderThanFile] = [
      JSON.parse(f.lines[20] as string),
      JSON.parse(f.lines[21] as string),
    ];
    const shift = (r: CaseRecord, ms: number): CaseRecord => ({
      ...r,
      riskLevel: 'medium',
      // An earlier version entered its stage no later than it was written.
      ...(ms < 0 ? { stageEnteredAt: new Date(Date.parse(r.stageEnteredAt) + ms).toISOString() } : {}),
      sourceUpdatedAt: new Date(Date.parse(r.sourceUpdatedAt) + ms).toISOString(),
    });
    const stored = [shift(newerThanFile, HOUR), shift(olderThanFile, -HOUR)];
    for (const r of stored) {
      const checked = validateRecord(r, config.vocabulary, NOW);
      if (!checked.ok) throw new Error(checked.reason);
      await doc.send(new PutCommand({ TableName: table, Item: toMirrorItem(checked.record, NOW) }));
    }

    const report = await importCases(options(f, table));

    expect(report.updated).toBe(1 + 1); // the stored older version, and case 10's later line
    expect(report.stale).toBe(1 + 1); // the line older than stored, and case 11's late line
    const state = new Map((await tableState(table)).map((i) => [i.caseRef, i]));
    expect(state.get(newerThanFile.caseRef)).toMatchObject({ riskLevel: 'medium' });
    expect(state.get(olderThanFile.caseRef)).toMatchObject({ riskLevel: olderThanFile.riskLevel });
  });

  it('resumes after an interruption and ends as an uninterrupted import would', async () => {
    const f = fixture('resume.jsonl', 600, 200);
    const table = await freshTable();
    const controller = new AbortController();

    const first = await importCases(
      options(f, table, {
        chunkSize: 50,
        concurrency: 4,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.line > f.lines.length / 3) controller.abort();
        },
      }),
    );
    expect(first.interrupted).toBe(true);
    expect(first.committedLine).toBeGreaterThan(0);
    expect(first.committedLine).toBeLessThan(f.lines.length);
    const checkpoint = JSON.parse(readFileSync(first.checkpointFile, 'utf8'));
    expect(checkpoint.line).toBe(first.committedLine);

    const second = await importCases(options(f, table, { chunkSize: 50, concurrency: 4, resume: true }));

    expect(second).toMatchObject({
      interrupted: false,
      resumedAfterLine: first.committedLine,
      read: f.lines.length,
    });
    expect(second.rejected).toBe(f.rejected.size);
    const expected = await expectedMirror(f.lines);
    // Lines written by chunks in flight past the checkpoint come back as unchanged: still counted once.
    expect(second.created + second.unchanged).toBe(expected.items.size);
    expect(await tableState(table)).toEqual(memoryState(expected));
    expect(new Map(rejectsIn(second.rejectsFile as string).map((r) => [r.line, r.code]))).toEqual(f.rejected);
    expect(() => readFileSync(second.checkpointFile)).toThrow(); // removed once complete
  });

  it('stops soon when told to after the whole file is read: the chunks in flight start no new writes, and a resume finishes', async () => {
    const f = fixture('stop-late.jsonl', 600, 200);
    const table = await freshTable();
    const controller = new AbortController();
    let writesAfterStop = 0;

    // Every chunk is in flight at once (12 chunks of 50, 16 allowed): reading ends before the stop.
    const first = await importCases(
      options(f, table, {
        chunkSize: 50,
        concurrency: 16,
        signal: controller.signal,
        onProgress: () => {
          if (controller.signal.aborted) writesAfterStop += 1;
          controller.abort();
        },
      }),
    );

    expect(first.interrupted).toBe(true);
    expect(first.committedLine).toBeLessThan(f.lines.length);
    expect(writesAfterStop).toBeLessThan(12 - 1);
    expect(JSON.parse(readFileSync(first.checkpointFile, 'utf8')).line).toBe(first.committedLine);
    const second = await importCases(options(f, table, { chunkSize: 50, concurrency: 16, resume: true }));
    expect(second).toMatchObject({ interrupted: false, resumedAfterLine: first.committedLine });
    expect(await tableState(table)).toEqual(memoryState(await expectedMirror(f.lines)));
  });

  it('resumes from another working directory: the rejects file is the same file, however it is named', async () => {
    const f = fixture('resume-elsewhere.jsonl', 600, 200);
    const table = await freshTable();
    const absolute = `${f.file}.${table}.rejects.jsonl`;
    // Named relative to this directory the first time, absolutely the second (as from another one).
    const relativeName = relative(process.cwd(), absolute);
    const controller = new AbortController();

    const first = await importCases(
      options(f, table, {
        chunkSize: 50,
        concurrency: 4,
        rejectsFile: relativeName,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.line > f.lines.length / 3) controller.abort();
        },
      }),
    );
    const second = await importCases(
      options(f, table, { chunkSize: 50, rejectsFile: absolute, resume: true }),
    );

    expect(first.interrupted).toBe(true);
    expect(second).toMatchObject({
      interrupted: false,
      resumedAfterLine: first.committedLine,
      read: f.lines.length,
    });
    expect(new Map(rejectsIn(absolute).map((r) => [r.line, r.code]))).toEqual(f.rejected);
  });

  it('stops on a lasting DynamoDB failure with a checkpoint, and a resume completes the import', async () => {
    const f = fixture('crash.jsonl', 400, 100);
    const table = await freshTable();
    const broken = DynamoDBDocumentClient.from(localDynamoClient(dynamo.endpoint), {
      marshallOptions: { removeUndefinedValues: true },
    });
    let writes = 0;
    broken.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as object;
        if (('Item' in input || 'UpdateExpression' in input) && ++writes > 150) {
          throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
        }
        return next(args);
      },
      { step: 'build', name: 'breakAfter150Writes' },
    );

    const failed = await importCases(
      options(f, table, { client: broken, chunkSize: 50, concurrency: 4 }),
    ).catch((error: unknown) => error);
    broken.destroy();
    expect(failed).toBeInstanceOf(ImportError);
    const report = (failed as ImportError).report;
    expect((failed as ImportError).message).toMatch(/re-run with --resume/);
    expect(report?.committedLine).toBeLessThan(f.lines.length);

    const resumed = await importCases(options(f, table, { chunkSize: 50, concurrency: 4, resume: true }));

    expect(resumed.resumedAfterLine).toBe(report?.committedLine);
    expect(resumed.read).toBe(f.lines.length);
    expect(await tableState(table)).toEqual(memoryState(await expectedMirror(f.lines)));
    expect(new Map(rejectsIn(resumed.rejectsFile as string).map((r) => [r.line, r.code]))).toEqual(
      f.rejected,
    );
  });

  it('ends in the same state with batch writes (exclusive) as with conditional writes', async () => {
    const f = fixture('exclusive.jsonl', 300, 100);
    const [conditional, exclusive] = [await freshTable(), await freshTable()];
    const a = await importCases(options(f, conditional));
    const b = await importCases(options(f, exclusive, { strategy: 'exclusive' }));
    const {
      durationMs: _a,
      ratePerSecond: _ra,
      rejectsFile: _fa,
      checkpointFile: _ca,
      strategy: _sa,
      ...countsA
    } = a;
    const {
      durationMs: _b,
      ratePerSecond: _rb,
      rejectsFile: _fb,
      checkpointFile: _cb,
      strategy: _sb,
      ...countsB
    } = b;
    expect(countsB).toEqual(countsA);
    expect(await tableState(exclusive)).toEqual(await tableState(conditional));
    const rerun = await importCases(options(f, exclusive, { strategy: 'exclusive' }));
    expect(rerun).toMatchObject({ created: 0, updated: 0, unchanged: a.created });
  });

  it('reads a CSV export the same way', async () => {
    const records = [
      ...generateQueue({ open: 120, closed: 30, seed: 3, nowMs: NOW, districts, withSourceFields: true }),
    ];
    const file = join(dir, 'export.csv');
    const bad = { ...(records[0] as GeneratedRecord), caseRef: 'CP-900-0000001', district: 'D77' };
    writeFileSync(file, [...formatRecords([...records, bad], 'csv')].join(''));
    const table = await freshTable();

    const report = await importCases({
      file,
      client: doc,
      tableName: table,
      vocabulary: config.vocabulary,
      nowMs: NOW,
      rejectsFile: `${file}.rejects.jsonl`,
    });

    expect(report).toMatchObject({
      read: 151,
      created: 150,
      rejected: 1,
      reasons: { 'unknown-district': 1 },
    });
    expect(rejectsIn(`${file}.rejects.jsonl`)).toEqual([
      {
        line: 152,
        code: 'unknown-district',
        caseRef: 'CP-900-0000001',
        reason: "district is not one of the config's districts",
      },
    ]);
    expect(JSON.stringify(await tableState(table))).not.toMatch(PII);
  });
});

describe('importCases: awkward exports', () => {
  it('reads a CSV export with a BOM and CRLF line ends, rejects an over-long row and implausible dates, and loads every other row', async () => {
    const records = [
      ...generateQueue({ open: 60, closed: 10, seed: 5, nowMs: NOW, districts, withSourceFields: true }),
    ];
    const at = (i: number) => records[i] as GeneratedRecord;
    const awkward = [...records];
    awkward[20] = { ...at(20), caseRef: 'DA-900-0000001', notes: `SYNTHETIC-NOTE ${'x'.repeat(200_000)}` };
    awkward[21] = { ...at(21), caseRef: 'DA-900-0000002', stageEnteredAt: '1990-05-17T00:00:00Z' };
    awkward[22] = { ...at(22), caseRef: 'DA-900-0000003', sourceUpdatedAt: '2031-01-01T00:00:00Z' };
    awkward[23] = { ...at(23), caseRef: 'DA-900-0000004', category: 'synthetic-person' };
    // The header is line 1, so record i is on line i + 2: the four above on lines 22 to 25.
    const lines = [...formatRecords(awkward, 'csv')].map((row) => row.replace(/\n$/, ''));
    lines[0] = `\uFEFF${lines[0]}`;
    const file = join(dir, 'awkward.csv');
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    const table = await freshTable();

    const report = await importCases({
      file,
      client: doc,
      tableName: table,
      vocabulary: config.vocabulary,
      nowMs: NOW,
    });

    expect(report).toMatchObject({
      read: records.length,
      created: records.length - 4,
      rejected: 4,
      reasons: { 'too-large': 1, 'implausible-date': 2, 'unknown-category': 1 },
    });
    const rejects = rejectsIn(report.rejectsFile as string);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [22, 'too-large'],
      [23, 'implausible-date'],
      [24, 'implausible-date'],
      [25, 'unknown-category'],
    ]);
    const stored = new Set((await tableState(table)).map((i) => i.caseRef));
    expect(stored.size).toBe(records.length - 4);
    expect(stored.has((records.at(-1) as GeneratedRecord).caseRef)).toBe(true);
    expect(JSON.stringify(rejects)).not.toMatch(/SYNTHETIC|synthetic-person|1990-05-17|2031-01-01/);
  });

  it('refuses a CSV export whose header names a case field twice, before writing anything', async () => {
    const file = join(dir, 'dup-header.csv');
    const records = [...generateQueue({ open: 5, seed: 6, nowMs: NOW, districts })];
    const [header, ...rows] = [...formatRecords(records, 'csv')];
    writeFileSync(
      file,
      [`${(header as string).trim()},stage\n`, ...rows.map((r) => `${r.trim()},closed\n`)].join(''),
    );
    const table = await freshTable();

    const error = await importCases({
      file,
      client: doc,
      tableName: table,
      vocabulary: config.vocabulary,
      nowMs: NOW,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(/the CSV header names stage twice \(columns 5 and 9\)/);
    expect(await tableState(table)).toEqual([]);
  });
});

describe('queuewatch import', () => {
  it('creates local tables, imports, prints a report and exits 3 when some lines were rejected', async () => {
    const f = fixture('cli.jsonl', 150, 50);
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
    let code: number;
    try {
      code = await main([
        'import',
        f.file,
        '--endpoint',
        dynamo.endpoint,
        '--prefix',
        'cli',
        '--create-tables',
      ]);
      process.exitCode = undefined;
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const text = out.join('');
    expect(code).toBe(3);
    expect(text).toMatch(/-> cli-mirror \(conditional writes\)/);
    expect(text).toMatch(new RegExp(`read\\s+${f.lines.length}`));
    expect(text).toMatch(
      /rejected\s+8 \(invalid-fields 4, .*\): line and reason in .*cli\.jsonl\.rejects\.jsonl/,
    );
    expect(err.join('')).toMatch(/created the cli-\* tables/);
    expect(text + err.join('')).not.toMatch(PII);

    const rerun: string[] = [];
    const again = vi.spyOn(process.stdout, 'write').mockImplementation((c) => rerun.push(String(c)) > 0);
    const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await main(['import', f.file, '--endpoint', dynamo.endpoint, '--prefix', 'cli']);
      process.exitCode = undefined;
    } finally {
      again.mockRestore();
      quiet.mockRestore();
    }
    expect(rerun.join('')).toMatch(/imported\s+0 \(created 0, updated 0\)/);
  });

  it('refuses to guess a table on AWS', async () => {
    const err: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
    let code: number;
    try {
      code = await main(['import', join(dir, 'nothing.jsonl')]);
    } finally {
      stderr.mockRestore();
    }
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/name the mirror table: --table NAME or --prefix PREFIX/);
  });
});

/** Runs the CLI in process, capturing what it prints; the exit status as main returns it. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
  try {
    const code = await main(args);
    process.exitCode = undefined;
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** A small export of valid records, one a line. */
function plainExport(name: string, records: readonly GeneratedRecord[]): string {
  const file = join(dir, name);
  writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

describe('importCases: recovery and chunking', () => {
  it.each(['conditional', 'exclusive'] as const)(
    'replaces a malformed stored item with the file’s valid record and imports the rest (%s)',
    async (strategy) => {
      const records = [
        ...generateQueue({ open: 30, seed: 11, nowMs: NOW, districts, withSourceFields: true }),
      ];
      const file = plainExport(`malformed-${strategy}.jsonl`, records);
      const table = await freshTable();
      const target = records[5] as GeneratedRecord;
      // Stored by something older or broken: a risk level this version does not know.
      const checked = validateRecord(target, config.vocabulary, NOW);
      if (!checked.ok) throw new Error(checked.reason);
      const malformed = { ...toMirrorItem(checked.record, NOW), riskLevel: 'extreme' };
      await doc.send(new PutCommand({ TableName: table, Item: malformed }));

      const report = await importCases({
        file,
        client: doc,
        tableName: table,
        vocabulary: config.vocabulary,
        nowMs: NOW,
        strategy,
      });

      expect(report).toMatchObject({
        read: 30,
        created: 29,
        updated: 1,
        replacedMalformed: 1,
        rejected: 0,
      });
      const state = new Map((await tableState(table)).map((i) => [i.caseRef, i]));
      expect(state.size).toBe(30);
      expect(state.get(target.caseRef)).toMatchObject({ riskLevel: checked.record.riskLevel });
    },
  );

  it('records the same transitions and counts whether a case’s lines are adjacent or chunks apart', async () => {
    const others = [...generateQueue({ open: 250, seed: 12, nowMs: NOW, districts, withSourceFields: true })];
    const base = {
      caseRef: 'DA-950-0000001',
      category: 'domestic-abuse',
      riskLevel: 'high',
      district: districts[0] as string,
      childrenInvolved: false,
    };
    const version = (stage: string, hoursAgo: number) => {
      const at = new Date(NOW - hoursAgo * HOUR).toISOString();
      return { ...base, stage, stageEnteredAt: at, sourceUpdatedAt: at } as unknown as GeneratedRecord;
    };
    const history = [
      version('awaiting-supervisor-review', 9),
      version('awaiting-risk-assessment', 6),
      version('awaiting-referral', 3),
    ];
    const adjacent = plainExport('history-adjacent.jsonl', [
      ...others.slice(0, 10),
      ...history,
      ...others.slice(10),
    ]);
    const spread = plainExport('history-spread.jsonl', [
      ...others.slice(0, 10),
      history[0] as GeneratedRecord,
      ...others.slice(10, 130),
      history[1] as GeneratedRecord,
      ...others.slice(130, 250),
      history[2] as GeneratedRecord,
    ]);
    const run = async (file: string) => {
      const flow = new MemoryFlowStore();
      const report = await importCases({
        file,
        client: doc,
        tableName: await freshTable(),
        vocabulary: config.vocabulary,
        nowMs: NOW,
        flow,
      });
      const moves = [...flow.transitions.values()]
        .filter((t) => t.caseRef === base.caseRef)
        .map((t) => `${t.from}->${t.to}`);
      return { report, moves };
    };

    const a = await run(adjacent);
    const b = await run(spread);

    expect(a.moves).toEqual([
      'new->awaiting-supervisor-review',
      'awaiting-supervisor-review->awaiting-risk-assessment',
      'awaiting-risk-assessment->awaiting-referral',
    ]);
    expect(b.moves).toEqual(a.moves);
    // Nothing was stored before the case's first line: no line of it is older than stored.
    expect(a.report).toMatchObject({ created: 251, updated: 2, stale: 0 });
    expect(b.report).toMatchObject({ created: 251, updated: 2, stale: 0 });
  });

  it('stops cleanly, resumable, when writing the rejects file fails part-way', async () => {
    const f = fixture('disk-full.jsonl', 300, 0);
    const table = await freshTable();
    const out = mkdtempSync(join(tmpdir(), 'queuewatch-rejects-'));
    let chunks = 0;

    const error = await importCases(
      options(f, table, {
        chunkSize: 20,
        concurrency: 2,
        rejectsFile: join(out, 'rejects.jsonl'),
        // The rejects file's directory goes away after two chunks, as a full disk would fail it.
        onProgress: () => {
          if (++chunks === 2) rmSync(out, { recursive: true, force: true });
        },
      }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImportError);
    expect((error as ImportError).message).toMatch(/import stopped after line \d+ .*re-run with --resume/);
    const checkpoint = JSON.parse(readFileSync(`${f.file}.${table}.checkpoint.json`, 'utf8'));
    expect(checkpoint.line).toBeGreaterThan(0);
    expect(checkpoint.line).toBeLessThan(f.lines.length);
  });
});

describe('queuewatch import: checks before writing', () => {
  it.each(['--checkpoint', '--rejects'])(
    'refuses a %s path in a directory that does not exist, before writing anything (exit 2)',
    async (option) => {
      const file = plainExport(`unwritable${option}.jsonl`, [
        ...generateQueue({ open: 5, seed: 13, nowMs: NOW, districts, withSourceFields: true }),
      ]);
      const path = join(dir, 'no-such-dir', 'out.json');

      const { code, err } = await cli([
        'import',
        file,
        '--endpoint',
        dynamo.endpoint,
        '--prefix',
        `unwritable${option.slice(2)}`,
        '--create-tables',
        option,
        path,
      ]);

      expect(code).toBe(2);
      expect(err).toContain(`cannot write ${path} (${option}): no such directory`);
      expect(err).not.toMatch(/created/);
    },
  );

  it('refuses a directory as the file to import (exit 2)', async () => {
    const { code, err } = await cli(['import', dir, '--endpoint', dynamo.endpoint, '--prefix', 'isdir']);

    expect(code).toBe(2);
    expect(err).toContain(`cannot read ${dir}: it is a directory`);
  });

  it('creates a missing flow table beside an existing mirror with --create-tables', async () => {
    const file = plainExport('flow-missing.jsonl', [
      ...generateQueue({ open: 20, seed: 14, nowMs: NOW, districts, withSourceFields: true }),
    ]);
    await createTables(dynamo.client, 'noflow-other'); // some other prefix's tables exist too
    await ensureNamedTables(dynamo.client, [{ table: MIRROR_TABLE, name: 'noflow-mirror' }]);

    const { code, err } = await cli([
      'import',
      file,
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'noflow',
      '--create-tables',
    ]);

    expect(err).toMatch(/created .*noflow-flow/);
    expect(code).toBe(0);
    expect(await existingTables(dynamo.client)).toContain('noflow-flow');
  });

  it('names a missing flow table and writes nothing to the mirror (exit 4)', async () => {
    const file = plainExport('flow-absent.jsonl', [
      ...generateQueue({ open: 20, seed: 15, nowMs: NOW, districts, withSourceFields: true }),
    ]);
    const tables = await createTables(dynamo.client, 'absentflow');

    const { code, err } = await cli([
      'import',
      file,
      '--endpoint',
      dynamo.endpoint,
      '--table',
      tables.mirror,
      '--flow-table',
      'no-such-flow',
    ]);

    expect(code).toBe(4);
    expect(err).toMatch(/has no table no-such-flow/);
    expect(await tableState(tables.mirror)).toEqual([]);
  });
});
