// Moving a mirror from the first release's open-cases index (every open case under one partition
// key) to the index by district, on a real embedded DynamoDB, as the README's steps do it: the new
// index beside the old (openCasesIndex: legacy), the scan still reading the old while the feed
// writes both attributes, the backfill (queuewatch migrate open-index), then the scan reading the
// new one. No alert is lost and none is sent twice across the switch.
//
// dynalite cannot add an index to a table that exists, so the table is created as the CDK app
// leaves it after the first step (both indexes), and filled as the first release wrote it.

import { spawn } from 'node:child_process';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource, mirrorOpenCases, openIndexOptions } from '#shared/adapters/mirror-reader.ts';
import { backfillOpenShards } from '#shared/adapters/open-index-migration.ts';
import { DynamoStateStore } from '#shared/adapters/state-store.ts';
import {
  createTableInput,
  LEGACY_OPEN_INDEX_NAME,
  MIRROR_TABLE_MIGRATING,
  OPEN_SHARD_ATTRIBUTE,
  type TableId,
} from '#shared/adapters/tables.ts';
import { queueStatus } from '#shared/app/status.ts';
import { main } from '#shared/cli/main.ts';
import { loadConfig } from '#shared/config/load.ts';
import { type CaseRecord, isOpenStage } from '#shared/domain/case.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import { createScanHandler } from '#shared/scan/handler.ts';
import type { OutgoingMessage, Publisher } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { REPO_ROOT } from '#test/support/fixtures.ts';
import { openIndexRefs } from '#test/support/open-index.ts';

const config = loadConfig();
const districts = Object.keys(config.file.districts);
const NOW = Date.parse('2026-11-27T09:00:00Z');
const HOUR = 3_600_000;

class Recorder implements Publisher {
  readonly messages: OutgoingMessage[] = [];
  async publish(message: OutgoingMessage): Promise<string> {
    this.messages.push(message);
    return `msg-${this.messages.length}`;
  }
}

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let n = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.close();
});

/** Tables of a deployment after the first step: the mirror with both indexes, the rest as usual. */
async function migratingTables() {
  n += 1;
  const tables = await createTables(dynamo.client, `m${n}`);
  const mirror = `m${n}-mirror-both`;
  await dynamo.client.send(new CreateTableCommand(createTableInput(MIRROR_TABLE_MIGRATING, mirror)));
  return { ...tables, mirror };
}

/** An item as the first release wrote it: in the old index only. */
function firstReleaseItem(record: CaseRecord, nowMs = NOW - HOUR) {
  const { [OPEN_SHARD_ATTRIBUTE]: _dropped, ...item } = toMirrorItem(record, nowMs);
  return item;
}

/** Writes `records` into `table` as the first release wrote them, and into `twin`, if given, as a
 * mirror sharded from the start has them. */
async function seed(table: string, records: readonly CaseRecord[], twin?: string): Promise<void> {
  await Promise.all([
    seedMirror(doc, table, records, NOW - HOUR, { item: firstReleaseItem }),
    ...(twin ? [seedMirror(doc, twin, records, NOW - HOUR)] : []),
  ]);
}

function scan(
  tables: Record<TableId, string>,
  publisher: Publisher,
  nowMs: number,
  legacy: boolean,
  runId: string,
) {
  return runScan({
    config,
    nowMs,
    runId,
    source: new DynamoOpenCaseSource(doc, tables.mirror, { pageSize: 200, legacy }),
    ledger: new DynamoLedger(doc, tables.ledger),
    publisher,
    audit: new DynamoAuditLog(doc, tables.audit),
  });
}

/** What people received in a run, comparable between deployments (message ids and links aside). */
function received(result: Awaited<ReturnType<typeof runScan>>): string[] {
  return result.messages
    .map((m) =>
      [
        m.groups.join(','),
        m.kind,
        m.trigger ?? '',
        m.levels.join(','),
        [...m.caseRefs].sort().join(','),
        [...m.newCaseRefs].sort().join(','),
        [...m.resolved].sort().join(','),
      ].join(' | '),
    )
    .sort();
}

describe('migrating to the sharded open-cases index', () => {
  it('gives the CLI (status, digest, removal check) every open case at every step: the old index while the table has it', async () => {
    const tables = await migratingTables();
    const twin = await createTables(dynamo.client, `t${n}`);
    const queue = [...generateQueue({ seed: 5, open: 120, closed: 40, nowMs: NOW, districts })];
    await seed(tables.mirror, queue, twin.mirror);
    const openCount = queue.filter((c) => isOpenStage(c.stage)).length;

    // Not yet backfilled: the index by district holds none of them; the old one holds them all.
    const unmigrated = await queueStatus(await mirrorOpenCases(doc, tables.mirror), config, NOW);
    const sharded = await queueStatus(await mirrorOpenCases(doc, twin.mirror), config, NOW);
    expect(await openIndexRefs(doc, tables.mirror, districts)).toEqual([]);
    expect(unmigrated.open).toBe(openCount);
    expect(sharded.open).toBe(openCount);
    expect(unmigrated.byDistrict).toEqual(sharded.byDistrict);
  });

  it('backfills every open case, and the scan switches index without a lost or repeated alert', async () => {
    // The deployment that migrates, and a twin that was sharded from the start, fed alike.
    const tables = await migratingTables();
    const twin = await createTables(dynamo.client, `t${n}`);
    const queue = [
      ...generateQueue({ seed: 12, open: 400, closed: 300, nowMs: NOW, districts, backlog: 200 }),
    ];
    await seed(tables.mirror, queue, twin.mirror);
    const open = queue.filter((c) => isOpenStage(c.stage));
    expect(await openIndexRefs(doc, tables.mirror, districts)).toEqual([]);

    // Step 1: deployed with openCasesIndex: legacy. The scan reads the old index as before.
    const first = await scan(tables, new Recorder(), NOW, true, 'run-1');
    const twinFirst = await scan(twin, new Recorder(), NOW, false, 'run-1');
    expect(first.failures).toEqual([]);
    expect(first.messages.length).toBeGreaterThan(0);
    expect(received(first)).toEqual(received(twinFirst));

    // Meanwhile the feed, already on the new code, writes both attributes: a new case, and a
    // case that closes after its supervisor was told of it.
    const arrived: CaseRecord = {
      ...(open[0] as CaseRecord),
      caseRef: 'DA-900-0000001',
      category: 'domestic-abuse',
      riskLevel: 'high',
      stage: 'awaiting-risk-assessment',
      stageEnteredAt: new Date(NOW - 40 * HOUR).toISOString(),
      sourceUpdatedAt: new Date(NOW + 60_000).toISOString(),
    };
    const told = new Set(first.messages.flatMap((m) => m.caseRefs));
    const closing = open.find((c) => told.has(c.caseRef)) as CaseRecord;
    const closedAt = new Date(NOW + 60_000).toISOString();
    for (const record of [
      arrived,
      { ...closing, stage: 'closed' as const, stageEnteredAt: closedAt, sourceUpdatedAt: closedAt },
    ]) {
      for (const table of [tables.mirror, twin.mirror]) {
        await doc.send(new PutCommand({ TableName: table, Item: toMirrorItem(record, NOW + 60_000) }));
      }
    }

    // Step 2: the backfill, run twice (an interrupted pass is simply run again).
    const report = await backfillOpenShards(doc, tables.mirror, districts);
    const again = await backfillOpenShards(doc, tables.mirror, districts);
    const openNow = open.length; // one closed, one arrived
    expect(report).toMatchObject({ legacyOpen: openNow, shardedOpen: openNow, complete: true });
    expect(report.backfilled).toBe(open.length - 1); // the new case had its shard from the feed
    expect(again).toMatchObject({ backfilled: 0, alreadyDone: openNow, complete: true });
    expect(await openIndexRefs(doc, tables.mirror, districts)).toEqual(
      await openIndexRefs(doc, twin.mirror, districts),
    );

    // Step 3: deployed with openCasesIndex: migrating, then without it. The scan reads the new
    // index, and everyone receives exactly what the twin's people receive: the new case, what
    // has crossed a threshold since, the closed case's resolved line; nothing twice, nothing lost.
    for (const [at, runId] of [
      [NOW + 5 * 60_000, 'run-2'],
      [NOW + 5 * HOUR, 'run-3'],
    ] as const) {
      const run = await scan(tables, new Recorder(), at, false, runId);
      const twinRun = await scan(twin, new Recorder(), at, false, runId);
      expect(run.failures).toEqual([]);
      expect(received(run)).toEqual(received(twinRun));
      if (runId === 'run-2') {
        expect(run.messages.flatMap((m) => m.newCaseRefs)).toContain(arrived.caseRef);
      } else {
        expect(run.messages.flatMap((m) => m.resolved)).toContain(closing.caseRef);
      }
    }
  });
});

/** Runs `queuewatch migrate open-index` in process against `table`, recording a complete backfill
 * in `stateTable`, capturing what it prints. */
async function migrate(
  table: string,
  stateTable = 'unused-state',
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
  try {
    const code = await main([
      'migrate',
      'open-index',
      '--endpoint',
      dynamo.endpoint,
      '--table',
      table,
      '--state-table',
      stateTable,
    ]);
    process.exitCode = undefined;
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('queuewatch migrate open-index on other mirrors', () => {
  it('tells ops when the scan reads only the new index before its backfill (the old one dropped too soon): its open cases fall away at once', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 7, open: 200, closed: 50, nowMs: NOW, districts, backlog: 100 })];
    await seed(tables.mirror, queue);
    const openCount = queue.filter((c) => isOpenStage(c.stage)).length;
    const ops = new MemoryOpsNotifier();
    const state = new DynamoStateStore(doc, tables.state);
    // One container, then another: what the last run read is kept in the state table.
    const handler = (legacy: boolean, at: number) =>
      createScanHandler(
        {
          config: async () => ({ config, source: 'parameter' }),
          source: new DynamoOpenCaseSource(doc, tables.mirror, { pageSize: 200, legacy }),
          ledger: new DynamoLedger(doc, tables.ledger),
          publisher: new Recorder(),
          audit: new DynamoAuditLog(doc, tables.audit),
          ops,
          state,
        },
        { clock: () => at },
      );

    const before = await handler(true, NOW)({}, { awsRequestId: 'step-1' });
    expect(before.open).toBe(openCount);
    // (The first run also tells ops its SMS budget was reached: a backlog's first alerts.)
    const fell = () => ops.messages.filter((m) => m.subject.startsWith('open cases fell'));
    expect(fell()).toEqual([]);
    // Step 3 deployed while step 2 has not run: the new index is empty.
    const early = await handler(false, NOW + 5 * 60_000)({}, { awsRequestId: 'step-3-early' });
    expect(early.open).toBe(0);
    expect(fell().map((m) => m.subject)).toEqual([`open cases fell from ${openCount} to 0 in one run`]);
    expect(fell()[0]?.text).toContain(
      '`queuewatch migrate open-index` said the new index holds every open case',
    );
    // Said once, not at every run while it lasts: a fall from nothing is none.
    await handler(false, NOW + 10 * 60_000)({}, { awsRequestId: 'step-3-later' });
    expect(fell()).toHaveLength(1);
  });

  it('says there is nothing to migrate on a mirror with only the index by district (exit 0)', async () => {
    const tables = await createTables(dynamo.client, `only-new-${++n}`);

    const { code, out } = await migrate(tables.mirror);

    expect(code).toBe(0);
    expect(out).toMatch(/nothing to migrate: it has no open-cases index/);
  });

  it('says to deploy step 1 first on a mirror with only the first release’s index (exit 4)', async () => {
    const table = `only-old-${++n}`;
    const oldOnly = {
      ...MIRROR_TABLE_MIGRATING,
      indexes: MIRROR_TABLE_MIGRATING.indexes.filter((i) => i.indexName === LEGACY_OPEN_INDEX_NAME),
    };
    await dynamo.client.send(new CreateTableCommand(createTableInput(oldOnly, table)));

    const { code, err } = await migrate(table);

    expect(code).toBe(4);
    expect(err).toMatch(/has no open-shards index .*deploy step 1 of "Migrating to the sharded index" first/);
  });

  it('names a district the config does not have when its open cases keep the migration from completing', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 8, open: 10, nowMs: NOW, districts })];
    await seed(tables.mirror, queue);
    const stray = { ...(queue[0] as CaseRecord), caseRef: 'DA-960-0000001', district: 'D77' };
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: firstReleaseItem(stray) }));

    const { code, out } = await migrate(tables.mirror, tables.state);

    expect(code).toBe(1);
    expect(out).toMatch(/the config has no district D77 \(1 open case\)/);
  });

  it('keeps a scan deployed as migrating on the old index until the backfill is recorded complete, telling ops, then switches', async () => {
    // The deployment that migrates, and a twin sharded from the start, fed alike.
    const tables = await migratingTables();
    const twin = await createTables(dynamo.client, `t${n}`);
    const queue = [...generateQueue({ seed: 21, open: 200, closed: 60, nowMs: NOW, districts, backlog: 80 })];
    await seed(tables.mirror, queue, twin.mirror);
    const open = queue.filter((c) => isOpenStage(c.stage));
    // A backfill that stopped part way: only some open cases have their district key.
    for (const record of open.slice(0, 120)) {
      await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(record, NOW - HOUR) }));
    }
    const ops = new MemoryOpsNotifier();
    const state = new DynamoStateStore(doc, tables.state);
    const run = (at: number, runId: string) =>
      createScanHandler(
        {
          config: async () => ({ config, source: 'parameter' }),
          source: new DynamoOpenCaseSource(doc, tables.mirror, {
            pageSize: 200,
            ...openIndexOptions('migrating', state),
          }),
          ledger: new DynamoLedger(doc, tables.ledger),
          publisher: new Recorder(),
          audit: new DynamoAuditLog(doc, tables.audit),
          ops,
          state,
        },
        { clock: () => at },
      )({}, { awsRequestId: runId });
    const told = (subject: string) => ops.messages.filter((m) => m.subject.startsWith(subject));

    // Step 3 deployed before the backfill finished: the scan reads the old index, which holds them all.
    for (const [at, runId] of [
      [NOW, 'run-1'],
      [NOW + 5 * HOUR, 'run-2'],
    ] as const) {
      const result = await run(at, runId);
      const twinResult = await scan(twin, new Recorder(), at, false, runId);
      expect(result.open).toBe(open.length);
      expect(result.resolved).toBe(0);
      expect(received(result)).toEqual(received(twinResult));
    }
    // Told at the first run, and again an hour or more later while it lasts.
    expect(told('the scan still reads the old open-cases index')).toHaveLength(2);
    expect(told('the scan still reads the old open-cases index')[0]?.text).toContain(
      'queuewatch migrate open-index',
    );
    expect(told('open cases fell')).toEqual([]);

    // The backfill completes and is recorded: the next run reads the index by district.
    const { code, out } = await migrate(tables.mirror, tables.state);
    expect(code).toBe(0);
    expect(out).toMatch(/holds every open case \(\d+ open cases\), recorded in/);
    const after = await run(NOW + 6 * HOUR, 'run-3');
    const twinAfter = await scan(twin, new Recorder(), NOW + 6 * HOUR, false, 'run-3');
    expect(after.open).toBe(open.length);
    expect(received(after)).toEqual(received(twinAfter));
    expect(told('the scan reads the open-cases index by district now')).toHaveLength(1);
  });

  it('does not call a migration complete while an open case cannot be given a key, and goes on with the rest', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 22, open: 30, nowMs: NOW, districts })].filter((c) =>
      isOpenStage(c.stage),
    );
    await seed(tables.mirror, queue);
    const { district: _none, ...noDistrict } = firstReleaseItem({
      ...(queue[0] as CaseRecord),
      caseRef: 'DA-961-0000001',
    });
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: noDistrict }));

    const { code, out } = await migrate(tables.mirror, tables.state);

    expect(code).toBe(1);
    expect(out).toMatch(/1 open case cannot be given a district key: DA-961-0000001 \(it has no district\)/);
    // Every other open case has its key; nothing is recorded, so a migrating scan stays on the old index.
    expect(await openIndexRefs(doc, tables.mirror, districts)).toEqual(queue.map((c) => c.caseRef).sort());
    expect(await new DynamoStateStore(doc, tables.state).get('open-index-backfilled')).toBeUndefined();
  });

  it('compares the indexes case by case: a case opened while it runs does not make it look incomplete', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 23, open: 30, nowMs: NOW, districts })].filter((c) =>
      isOpenStage(c.stage),
    );
    await seed(tables.mirror, queue);
    const arrived = { ...(queue[0] as CaseRecord), caseRef: 'DA-962-0000001' };

    const report = await backfillOpenShards(doc, tables.mirror, districts, {
      // The feed, on the new code, writes a new case with both keys while the backfill runs.
      onProgress: async () => {
        await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(arrived, NOW) }));
      },
    });

    expect(report).toMatchObject({ complete: true, missingCount: 0, malformedCount: 0 });
  });

  it('names --state-table when the state table is missing, before doing any work (exit 4)', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 25, open: 10, nowMs: NOW, districts })];
    await seed(tables.mirror, queue);

    const { code, err } = await migrate(tables.mirror, 'no-such-state');

    expect(code).toBe(4);
    expect(err).toMatch(/has no table no-such-state: .*--state-table/);
    expect(await openIndexRefs(doc, tables.mirror, districts)).toEqual([]);
  });

  it('says what it did when interrupted, records nothing, and exits 130', async () => {
    const tables = await migratingTables();
    const queue = [...generateQueue({ seed: 24, open: 5000, nowMs: NOW, districts })].filter((c) =>
      isOpenStage(c.stage),
    );
    await seed(tables.mirror, queue);
    const child = spawn(
      process.execPath,
      [
        'bin/queuewatch.js',
        'migrate',
        'open-index',
        '--endpoint',
        dynamo.endpoint,
        '--table',
        tables.mirror,
        '--state-table',
        tables.state,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'eu-west-2' },
      },
    );
    let err = '';
    // Interrupted as soon as it has looked at its first page, with thousands still to go (its
    // progress can reach this process a page or two late: 5,000 leaves several).
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (err.includes('looked at')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code).toBe(130);
    expect(err).toMatch(
      /interrupted after [\d,]+ open cases: nothing is recorded until a run completes.*run this again/,
    );
    expect(await new DynamoStateStore(doc, tables.state).get('open-index-backfilled')).toBeUndefined();
  }, 120_000);
});
