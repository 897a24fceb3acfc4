// Flow counting against DynamoDB (dynalite): the ingest use case with the real mirror writer and
// flow store, fed repeated, reordered, late and replayed messages; a function that dies between
// the two writes; day counts built once and rebuilt after a late transition; a district's markers
// that are malformed, named and repaired; the history import, the mirror import and the CLI.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFlowStore } from '#shared/adapters/flow-store.ts';
import { MemoryFlowStore } from '#shared/adapters/memory-flow.ts';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { MirrorWriter } from '#shared/adapters/mirror-writer.ts';
import { MIRROR_TABLE, type TableId } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { londonDay, type Transition, transitionId } from '#shared/domain/flow.ts';
import { importFlowHistory } from '#shared/ingest/flow-history.ts';
import { importCases } from '#shared/ingest/import.ts';
import type { IngestDeps } from '#shared/ingest/ingest-batch.ts';
import type { FlowRecorder } from '#shared/ingest/ports.ts';
import {
  createTables,
  type EmbeddedDynamo,
  ensureNamedTables,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';
import { aCase as baseCase, runCli, sqsRecord } from '#test/support/fixtures.ts';
import { scenarioArb } from '#test/support/ingest-arbitraries.ts';

const config = loadConfig();
const NOW = Date.parse('2026-03-29T06:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'qw-flow-'));

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let counter = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.close();
});

/** A fresh set of tables for one test. */
async function fresh(): Promise<Record<TableId, string>> {
  counter += 1;
  return createTables(dynamo.client, `flow${counter}`);
}

/** Every transition item in the flow table. */
async function storedTransitions(
  table: string,
  districts = ['D01', 'D02'],
): Promise<Map<string, Transition>> {
  const out = new Map<string, Transition>();
  for (const district of districts) {
    for (let day = londonDay(NOW) - 3; day <= londonDay(NOW); day++) {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: {
            ':pk': `t#${district}#${new Date(day * 86_400_000).toISOString().slice(0, 10)}`,
          },
        }),
      );
      for (const item of Items) {
        const { caseRef, district: d, category, riskLevel, childrenInvolved, from, to, at } = item;
        const t = { caseRef, district: d, category, riskLevel, childrenInvolved, from, to, at } as Transition;
        out.set(transitionId(t), t);
      }
    }
  }
  return out;
}

const aCase = (caseRef: string, overrides: Partial<CaseRecord> = {}): CaseRecord =>
  baseCase({
    caseRef,
    stageEnteredAt: '2026-03-29T01:00:00.000Z',
    childrenInvolved: true,
    sourceUpdatedAt: '2026-03-29T01:00:00.000Z',
    ...overrides,
  });

const message = (id: string, changeType: string, c: CaseRecord, sourceSequence?: number): SQSRecord =>
  sqsRecord(
    id,
    JSON.stringify({ changeType, case: c, ...(sourceSequence !== undefined ? { sourceSequence } : {}) }),
  );

function deps(mirror: MirrorWriter): IngestDeps {
  return {
    mirror,
    rejects: { record: async () => {} },
    state: { recordIngest: async () => {} },
    ops: { notify: async () => {} },
    vocabulary: config.vocabulary,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: { addMetric: () => {} },
  };
}

describe('flow counted by the ingest function', () => {
  it('counts each transition once when the feed repeats, reorders, delivers late and replays', async () => {
    const tables = await fresh();
    const flow = new DynamoFlowStore(doc, tables.flow);
    const writer = new MirrorWriter(doc, tables.mirror, flow);
    const assessed = aCase('CP-400-0000001', { category: 'child-protection' });
    const referred = {
      ...assessed,
      stage: 'referred' as const,
      stageEnteredAt: '2026-03-29T03:00:00.000Z',
      sourceUpdatedAt: '2026-03-29T03:00:00.000Z',
    };
    const regraded = {
      ...referred,
      riskLevel: 'medium' as const,
      sourceUpdatedAt: '2026-03-29T03:30:00.000Z',
    };
    const other = aCase('DA-400-0000002', { district: 'D02' });
    const closedWithout = {
      ...other,
      stage: 'closed' as const,
      stageEnteredAt: '2026-03-29T04:00:00.000Z',
      sourceUpdatedAt: '2026-03-29T04:00:00.000Z',
    };

    // In one batch: the referral arrives before the case's creation (which is then stale), a
    // re-grade that is no transition, a repeat, and a case closed without a referral.
    await ingestSqsBatch(
      {
        Records: [
          message('a1', 'stage-changed', referred),
          message('a2', 'created', assessed),
          message('a3', 'regraded', regraded),
          message('a4', 'regraded', regraded),
          message('b1', 'created', other),
          message('b2', 'closed', closedWithout),
        ],
      },
      deps(writer),
      NOW,
    );
    const first = await storedTransitions(tables.flow);
    expect([...first.values()].map((t) => `${t.caseRef} ${t.from}>${t.to}`).sort()).toEqual([
      'CP-400-0000001 new>referred',
      'DA-400-0000002 awaiting-risk-assessment>closed',
      'DA-400-0000002 new>awaiting-risk-assessment',
    ]);

    // The whole feed replayed, in another order, with other message ids: nothing new.
    await ingestSqsBatch(
      {
        Records: [
          message('r1', 'closed', closedWithout),
          message('r2', 'created', other),
          message('r3', 'regraded', regraded),
          message('r4', 'created', assessed),
          message('r5', 'stage-changed', referred),
        ],
      },
      deps(writer),
      NOW + 3_600_000,
    );
    expect(await storedTransitions(tables.flow)).toEqual(first);

    // The day's counts as the signals read them.
    const today = londonDay(NOW);
    const { days } = await flow.days('D02', today, today, NOW);
    expect(days[0]?.counts).toEqual({
      'new>awaiting-risk-assessment|domestic-abuse|high|c': 1,
      'awaiting-risk-assessment>closed|domestic-abuse|high|c': 1,
    });
    expect((await flow.lastTransitions()).values.get('D02')).toBe('2026-03-29T04:00:00.000Z');
    expect((await flow.since()).values.get('D01')).toBe(today);
  });

  it('ends with exactly the in-memory flow for any order of arrival, applied one at a time (property)', async () => {
    const tables = await fresh();
    const flow = new DynamoFlowStore(doc, tables.flow);
    const writer = new MirrorWriter(doc, tables.mirror, flow);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer().chain(() => scenarioArb(`F${String(n++).padStart(4, '0')}`)),
        async ({ arrivals }) => {
          const memory = new MemoryFlowStore();
          const mirror = new MemoryMirror(memory);
          for (const c of arrivals) {
            await mirror.apply(c, NOW);
            await writer.apply(c, NOW);
          }
          const refs = new Set(arrivals.map((c) => c.record.caseRef));
          const stored = [...(await storedTransitions(tables.flow)).values()].filter((t) =>
            refs.has(t.caseRef),
          );
          expect(new Map(stored.map((t) => [transitionId(t), t]))).toEqual(new Map(memory.transitions));
        },
      ),
      { numRuns: 15, endOnFailure: true },
    );
  });

  it('records the transition when SQS retries a message whose flow write failed after its mirror write', async () => {
    const tables = await fresh();
    const real = new DynamoFlowStore(doc, tables.flow);
    let failures = 1;
    const dying: FlowRecorder = {
      record: async (transitions, nowMs) => {
        if (failures-- > 0) throw Object.assign(new Error('connection reset'), { name: 'TimeoutError' });
        await real.record(transitions, nowMs);
      },
    };
    const writer = new MirrorWriter(doc, tables.mirror, dying);
    const c = aCase('DA-401-0000001');
    const first = await ingestSqsBatch({ Records: [message('m1', 'created', c)] }, deps(writer), NOW);
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    const { Item } = await doc.send(
      new GetCommand({ TableName: tables.mirror, Key: { caseRef: c.caseRef } }),
    );
    expect(Item?.priorStage).toBe('new');
    expect(await storedTransitions(tables.flow)).toEqual(new Map());

    const retry = await ingestSqsBatch(
      { Records: [message('m1', 'created', c)] },
      deps(writer),
      NOW + 60_000,
    );
    expect(retry.summary.applied.unchanged).toBe(1);
    expect([...(await storedTransitions(tables.flow)).values()].map((t) => t.to)).toEqual([
      'awaiting-risk-assessment',
    ]);
  });
});

describe('day counts', () => {
  it('are built once for a settled day, rebuilt after a late transition, and never lose one', async () => {
    const tables = await fresh();
    const flow = new DynamoFlowStore(doc, tables.flow);
    const today = londonDay(NOW);
    const day = today - 5;
    const on = (hour: number, caseRef: string, to: Transition['to'] = 'referred'): Transition => ({
      caseRef,
      district: 'D01',
      category: 'domestic-abuse',
      riskLevel: 'high',
      childrenInvolved: false,
      from: 'awaiting-referral',
      to,
      at: new Date(day * 86_400_000 + hour * 3_600_000).toISOString(),
    });
    await flow.record([on(9, 'DA-402-0000001'), on(10, 'DA-402-0000002', 'closed')], NOW);
    const first = await flow.days('D01', day, day, NOW);
    expect(first.days[0]?.counts).toEqual({
      'awaiting-referral>referred|domestic-abuse|high|-': 1,
      'awaiting-referral>closed|domestic-abuse|high|-': 1,
    });
    const countItem = async () =>
      (
        await doc.send(
          new GetCommand({
            TableName: tables.flow,
            Key: { pk: 'd#D01', sk: new Date(day * 86_400_000).toISOString().slice(0, 10) },
          }),
        )
      ).Item;
    // Each transition for a past day marks it; the count item was built at those marks.
    expect(await countItem()).toMatchObject({ sealedMarks: 2, marks: 2 });

    // A late transition for that day, and the same one again (a replay): counted once.
    await flow.record([on(11, 'DA-402-0000003')], NOW);
    await flow.record([on(11, 'DA-402-0000003')], NOW);
    expect((await countItem())?.marks).toBe(4);
    const second = await flow.days('D01', day, day, NOW);
    expect(second.days[0]?.counts['awaiting-referral>referred|domestic-abuse|high|-']).toBe(2);
    expect(second.days[0]?.hours[11]).toBe(1); // 24 March: GMT, so 11:00 UTC is 11:00 in London
    expect(await countItem()).toMatchObject({ sealedMarks: 4, marks: 4 });

    // Empty days are counted too, so a later read is one query.
    const quiet = await flow.days('D02', day - 2, day, NOW);
    expect(quiet.days.map((d) => Object.keys(d.counts).length)).toEqual([0, 0, 0]);
  });
});

describe("a district's markers", () => {
  it('that are malformed are named unreadable, and the next transition recorded replaces a latest transition that is no instant', async () => {
    const tables = await fresh();
    const flow = new DynamoFlowStore(doc, tables.flow);
    const marker = (pk: string, sk: string, value: Record<string, unknown>) =>
      doc.send(new PutCommand({ TableName: tables.flow, Item: { pk, sk, ...value } }));
    // Each compares as later than any real instant, or is no string at all.
    await marker('last', 'D01', { at: 'zz-not-an-instant' });
    await marker('last', 'D02', { at: 20260329 });
    await marker('last', 'D03', { at: '2026-03-29T05:00:00Z' }); // not as stored: no milliseconds
    await marker('last', 'D04', { at: '2026-03-29T02:00:00.000Z' });
    await marker('since', 'D01', { day: 'someday' });
    await marker('since', 'D02', { day: '2026-03-01' });
    const last = await flow.lastTransitions();
    expect(last.unreadable.sort()).toEqual(['D01', 'D02', 'D03']);
    expect([...last.values]).toEqual([['D04', '2026-03-29T02:00:00.000Z']]);
    const since = await flow.since();
    expect(since.unreadable).toEqual(['D01']);
    expect([...since.values.keys()]).toEqual(['D02']);

    const moved = (district: string, at: string): Transition => ({
      caseRef: `DA-403-000000${district.slice(-1)}`,
      district,
      category: 'domestic-abuse',
      riskLevel: 'high',
      childrenInvolved: false,
      from: 'awaiting-referral',
      to: 'referred',
      at,
    });
    await flow.record(
      [
        moved('D01', '2026-03-29T01:00:00.000Z'),
        moved('D02', '2026-03-29T01:00:00.000Z'),
        moved('D03', '2026-03-29T01:00:00.000Z'),
        // Earlier than D04's: its marker stays.
        moved('D04', '2026-03-29T01:00:00.000Z'),
      ],
      NOW,
    );
    const repaired = await flow.lastTransitions();
    expect(repaired.unreadable).toEqual([]);
    expect(Object.fromEntries(repaired.values)).toEqual({
      D01: '2026-03-29T01:00:00.000Z',
      D02: '2026-03-29T01:00:00.000Z',
      D03: '2026-03-29T01:00:00.000Z',
      D04: '2026-03-29T02:00:00.000Z',
    });
  });
});

describe('loading past flow', () => {
  it('loads an export of transitions once, however often it is run, and reports bad records by line', async () => {
    const tables = await fresh();
    const file = join(dir, 'history.jsonl');
    const lines = [
      {
        caseRef: 'DA-403-0000001',
        district: 'D03',
        category: 'domestic-abuse',
        riskLevel: 'high',
        childrenInvolved: false,
        from: 'awaiting-referral',
        to: 'referred',
        at: '2026-02-02T10:00:00Z',
        officer: 'SYNTHETIC-PERSON-1',
      },
      {
        caseRef: 'DA-403-0000002',
        district: 'D03',
        category: 'domestic-abuse',
        riskLevel: 'high',
        childrenInvolved: false,
        from: 'new',
        to: 'awaiting-risk-assessment',
        at: '2026-02-03T10:00:00Z',
      },
      {
        caseRef: 'DA-403-0000002',
        district: 'D03',
        category: 'domestic-abuse',
        riskLevel: 'high',
        childrenInvolved: false,
        from: 'new',
        to: 'awaiting-risk-assessment',
        at: '2026-02-03T10:00:00Z',
      },
      {
        caseRef: 'DA-403-0000003',
        district: 'D99',
        category: 'domestic-abuse',
        riskLevel: 'high',
        childrenInvolved: false,
        from: 'new',
        to: 'referred',
        at: '2026-02-03T10:00:00Z',
      },
      {
        caseRef: 'DA-403-0000004',
        district: 'D03',
        category: 'domestic-abuse',
        riskLevel: 'extreme',
        childrenInvolved: false,
        from: 'new',
        to: 'referred',
        at: '2026-02-03T10:00:00Z',
      },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`);
    const store = new DynamoFlowStore(doc, tables.flow);
    const options = { file, store, vocabulary: config.vocabulary, nowMs: NOW };

    const report = await importFlowHistory(options);
    expect(report).toMatchObject({ read: 6, stored: 2, repeated: 1, rejected: 3 });
    expect(report.districts).toEqual({ D03: { from: '2026-02-02', to: '2026-02-03', transitions: 2 } });
    const rejects = readFileSync(report.rejectsFile as string, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.line)).toEqual([4, 5, 6]);
    expect(JSON.stringify(rejects)).not.toMatch(/D99|extreme|SYNTHETIC/);

    await importFlowHistory(options);
    const feb2 = londonDay(Date.parse('2026-02-02T12:00:00Z'));
    const { days } = await store.days('D03', feb2, feb2 + 1, NOW);
    expect(days.map((d) => Object.values(d.counts).reduce((a, b) => a + b, 0))).toEqual([1, 1]);
    expect((await store.since()).values.get('D03')).toBe(feb2);
  });

  it('refuses a transition giving a field twice, by line and field, and loads the rest', async () => {
    const tables = await fresh();
    const store = new DynamoFlowStore(doc, tables.flow);
    const jsonl = join(dir, 'repeated.jsonl');
    const fields = (to: string) =>
      `"caseRef":"DA-405-0000001","district":"D03","category":"domestic-abuse","riskLevel":"high","childrenInvolved":false,"from":"awaiting-referral","to":"${to}","at":"2026-02-02T10:00:00Z"`;
    // JSON keeps the last "to" without a word: a referral read as a closure, or the reverse.
    writeFileSync(jsonl, `{${fields('referred')}}\n{${fields('referred')},"to":"closed"}\n`);
    const csv = join(dir, 'repeated.csv');
    writeFileSync(
      csv,
      'caseRef,district,category,riskLevel,childrenInvolved,from,to,at,to\nDA-405-0000002,D03,domestic-abuse,high,false,new,referred,2026-02-02T10:00:00Z,closed\n',
    );

    const report = await importFlowHistory({ file: jsonl, store, vocabulary: config.vocabulary, nowMs: NOW });
    const rejects = readFileSync(report.rejectsFile as string, 'utf8')
      .trim()
      .split('\n');
    const fromCsv = importFlowHistory({ file: csv, store, vocabulary: config.vocabulary, nowMs: NOW });

    expect(report).toMatchObject({ read: 2, stored: 1, rejected: 1 });
    expect(rejects.map((l) => JSON.parse(l))).toEqual([
      { line: 2, reason: 'to is given more than once: which value counts would be a guess' },
    ]);
    await expect(fromCsv).rejects.toThrow(/names to twice \(columns 7 and 9\)/);
  });

  it('counts the transitions a mirror import makes, and a re-run counts nothing new (both strategies)', async () => {
    for (const strategy of ['conditional', 'exclusive'] as const) {
      const tables = await fresh();
      const store = new DynamoFlowStore(doc, tables.flow);
      const at = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
      const before = join(dir, `before-${strategy}.jsonl`);
      const after = join(dir, `after-${strategy}.jsonl`);
      const cases = [1, 2, 3].map((i) =>
        aCase(`DA-404-000000${i}`, { stageEnteredAt: at(10), sourceUpdatedAt: at(10) }),
      );
      writeFileSync(before, cases.map((c) => JSON.stringify(c)).join('\n'));
      writeFileSync(
        after,
        cases
          .map((c, i) =>
            JSON.stringify({
              ...c,
              stage: i < 2 ? 'referred' : 'closed',
              stageEnteredAt: at(2),
              sourceUpdatedAt: at(2),
            }),
          )
          .join('\n'),
      );
      const options = (file: string) => ({
        file,
        client: doc,
        tableName: tables.mirror,
        vocabulary: config.vocabulary,
        nowMs: NOW,
        strategy,
        flow: store,
      });
      await importCases(options(before));
      await importCases(options(after));
      const once = await storedTransitions(tables.flow);
      expect([...once.values()].map((t) => `${t.from}>${t.to}`).sort()).toEqual([
        'awaiting-risk-assessment>closed',
        'awaiting-risk-assessment>referred',
        'awaiting-risk-assessment>referred',
        'new>awaiting-risk-assessment',
        'new>awaiting-risk-assessment',
        'new>awaiting-risk-assessment',
      ]);
      const rerun = await importCases(options(after));
      expect(rerun.unchanged).toBe(3);
      expect(await storedTransitions(tables.flow)).toEqual(once);
    }
  });

  it('is a command: flow import, flow show and signals status against a local endpoint', async () => {
    const tables = await fresh();
    const prefix = tables.flow.slice(0, -'-flow'.length);
    const file = join(dir, 'cli-history.csv');
    writeFileSync(
      file,
      'caseRef,district,category,riskLevel,childrenInvolved,from,to,at\nCP-405-0000001,D04,child-protection,high,true,awaiting-referral,referred,2026-03-01T09:00:00Z\n',
    );
    const imported = await runCli([
      'flow',
      'import',
      file,
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      prefix,
    ]);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(/stored\s+1/);
    expect(imported.stdout).toMatch(/D04\s+1 transitions, 2026-03-01 to 2026-03-01/);

    const shown = await runCli([
      'flow',
      'show',
      '--district',
      'D04',
      '--days',
      '3',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      prefix,
    ]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^D04 Westbrook: transitions by stage entered$/m);
    // A display writes nothing: no day's counts were kept for the days it showed (the item there
    // is the import's mark of a past day).
    const keptCounts = async () => {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: tables.flow,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'd#D04' },
        }),
      );
      return Items.filter((item) => item.counts !== undefined);
    };
    expect(await keptCounts()).toEqual([]);

    const status = await runCli([
      'signals',
      'status',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      prefix,
      '--at',
      '2026-03-03T07:00:00Z',
    ]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^ {2}D04 Westbrook +referrals learning until 2026-03-29 · /m);
    expect(status.stdout).toMatch(/^ {2}D01 Northgate +referrals learning \(no flow yet\)/m);
    // Nor does signals status, which read 2026-03-01 as a settled day.
    expect(await keptCounts()).toEqual([]);

    const show = await runCli(['signals', 'show', '--signal', 'child-referrals', '--district', 'D07']);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(
      /^ {2}D07 -> district-supervisor, director-childrens-services, mash-manager {2}\(signal routes 0, 3\)$/m,
    );

    const missing = await runCli(['flow', 'import', join(dir, 'nope.jsonl'), '--endpoint', dynamo.endpoint]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.jsonl: no such file/);
  });
});

describe('flow commands: tables, dates and windows', () => {
  const historyFile = (name: string, at: string) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      `caseRef,district,category,riskLevel,childrenInvolved,from,to,at\nCP-406-0000001,D04,child-protection,high,true,awaiting-referral,referred,${at}\n`,
    );
    return file;
  };

  it('flow import --create-tables makes the missing tables, on a fresh prefix and beside some that exist', async () => {
    const file = historyFile('create-tables.csv', '2026-03-01T09:00:00Z');
    const args = (prefix: string) => [
      'flow',
      'import',
      file,
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      prefix,
      '--create-tables',
    ];

    const fresh = await runCli(args('flowfresh'));
    await ensureNamedTables(dynamo.client, [{ table: MIRROR_TABLE, name: 'flowpart-mirror' }]);
    const partial = await runCli(args('flowpart'));

    expect(fresh.stderr).toMatch(/created the flowfresh-\* tables/);
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toMatch(/stored\s+1/);
    expect(partial.stderr).toMatch(/created .*flowpart-flow/);
    expect(partial.stderr).not.toMatch(/flowpart-mirror/);
    expect(partial.status).toBe(0);
    expect(partial.stdout).toMatch(/stored\s+1/);
  });

  it('rejects a transition dated before 2018 by line and reason, as the case import does', async () => {
    const tables = await fresh();
    const file = historyFile('too-early.csv', '1999-11-01T09:00:00Z');

    const report = await importFlowHistory({
      file,
      store: new DynamoFlowStore(doc, tables.flow),
      vocabulary: config.vocabulary,
      nowMs: NOW,
    });

    expect(report).toMatchObject({ read: 1, stored: 0, rejected: 1, districts: {} });
    expect(JSON.parse(readFileSync(report.rejectsFile as string, 'utf8'))).toEqual({
      line: 2,
      reason: 'at is too early: it must be from 2018-01-01T00:00:00.000Z',
    });
  });

  it('flow show refuses a window longer than the flow table keeps (exit 2)', async () => {
    const tables = await fresh();
    const prefix = tables.flow.slice(0, -'-flow'.length);

    const shown = await runCli([
      'flow',
      'show',
      '--district',
      'D04',
      '--days',
      '100000',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      prefix,
    ]);

    expect(shown.status).toBe(2);
    expect(shown.stderr).toMatch(/--days must be at most 400 \(the flow table keeps 400 days\)/);
  });
});
