// The scan handler's contract: its clock is the only "now" (an event cannot move it), metrics with
// a heartbeat only for a whole successful run, failures raised after everything settled and told to
// ops truthfully, reports sent when they change rather than every run, and disclosures the log
// could not take kept until it can.

import { describe, expect, it, vi } from 'vitest';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import {
  CallbackPublisher,
  MemoryAuditLog,
  MemoryOpsNotifier,
  MemoryStateStore,
} from '#shared/adapters/memory-sinks.ts';
import { loadConfig } from '#shared/config/load.ts';
import { ALL_SHARDS, type ShardRef, shardsOf } from '#shared/domain/shards.ts';
import { metrics } from '#shared/lambda/observability.ts';
import { createScanHandler, type ScanDeps, ScanIncompleteError } from '#shared/scan/handler.ts';
import type { AuditEntry, AuditLog, OpenCaseSource, Publisher } from '#shared/scan/ports.ts';
import { WHOLE_LEDGER_MAX_ENTRIES } from '#shared/scan/run-scan.ts';
import { aCaseView, iso, ref } from '#test/support/fixtures.ts';

const config = loadConfig();
const AT = Date.parse('2026-11-27T09:00:00.000Z');
const item = {
  caseRef: 'DA-000-0000001',
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: '2026-11-26T03:00:00.000Z',
  childrenInvolved: false,
  openQueue: 'open',
};

class MemoryState extends MemoryStateStore {
  failing = false;
  override async get(name: string) {
    if (this.failing)
      throw Object.assign(new Error('down'), { name: 'ProvisionedThroughputExceededException' });
    return super.get(name);
  }
  override async put(name: string, value: Record<string, unknown>) {
    if (this.failing)
      throw Object.assign(new Error('down'), { name: 'ProvisionedThroughputExceededException' });
    await super.put(name, value);
  }
}

function deps(items: Record<string, unknown>[], overrides: Partial<ScanDeps> = {}) {
  const source: OpenCaseSource = {
    shards: () => [ALL_SHARDS],
    async *pages() {
      yield items;
    },
  };
  const ops = new MemoryOpsNotifier();
  const state = new MemoryState();
  const built: ScanDeps = {
    config: async () => ({ config, source: 'parameter' }),
    source,
    ledger: new MemoryLedger(),
    publisher: new CallbackPublisher(),
    audit: new MemoryAuditLog(),
    ops,
    state,
    ...overrides,
  };
  return { built, ops, state };
}

const context = { awsRequestId: 'req-1' };
const options = { clock: () => AT, retry: { attempts: 2, baseDelayMs: 0 } };
const failWith = (name: string) => async () => {
  throw Object.assign(new Error('boom: DA-SECRET-VALUE'), { name });
};

describe('the scan handler', () => {
  it('evaluates as of its clock, whatever an event says, and emits a heartbeat after a whole run', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { built } = deps([item]);

    const result = await createScanHandler(built, options)({ at: '2020-01-01T00:00:00Z' }, context);

    expect(result.at).toBe(new Date(AT).toISOString());
    expect(result.runId).toBe('req-1');
    expect(result.levels.breach).toBe(1);
    expect(addMetric).toHaveBeenCalledWith('Heartbeat', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('OpenCases', 'Count', 1);
    addMetric.mockRestore();
  });

  it('counts every run on a last good config while a push is not in force, and none on a pushed one', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const kept = deps([item], {
      config: async () => ({
        config,
        source: 'last-good',
        problem: 'linkBase is missing',
        pushNotInForce: true,
      }),
    });
    await createScanHandler(kept.built, options)({}, context);
    expect(addMetric).toHaveBeenCalledWith('PushedConfigNotInForce', 'Count', 1);
    addMetric.mockClear();
    await createScanHandler(deps([item]).built, options)({}, context);
    expect(addMetric).not.toHaveBeenCalledWith('PushedConfigNotInForce', 'Count', 1);
    addMetric.mockRestore();
  });

  it('publishes the oldest age per category in seconds, with its unit', async () => {
    const calls: unknown[][] = [];
    const single = vi.spyOn(metrics, 'singleMetric').mockImplementation(
      () =>
        ({
          addDimension: (...args: unknown[]) => calls.push(['dimension', ...args]),
          addDimensions: (...args: unknown[]) => calls.push(['dimensions', ...args]),
          addMetric: (...args: unknown[]) => calls.push(args),
        }) as never,
    );
    const { built } = deps([item]);

    await createScanHandler(built, options)({}, context);

    expect(calls).toContainEqual(['dimension', 'category', 'domestic-abuse']);
    expect(calls).toContainEqual(['OldestAgeSeconds', 'Seconds', 30 * 3600]);
    single.mockRestore();
  });

  it('raises after the run settles, tells ops what happens next, and skips the heartbeat when a publish fails', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const failing: Publisher = { publish: failWith('InternalErrorException') };
    const { built, ops } = deps([item], { publisher: failing });

    const run = createScanHandler(built, options)({}, context);

    await expect(run).rejects.toBeInstanceOf(ScanIncompleteError);
    const report = ops.messages.find((m) => /failed step/.test(m.subject));
    expect(report?.text).toMatch(
      /publish for district-supervisor@D01: InternalErrorException\. no answer from SNS: it may have been sent, and is logged as possibly sent; it stays due/,
    );
    expect(report?.text).not.toContain('boom');
    expect(addMetric).not.toHaveBeenCalledWith('Heartbeat', 'Count', 1);
    addMetric.mockRestore();
  });

  it('reports unreadable mirror items to ops when their number changes, not every run', async () => {
    const bad = { ...item, caseRef: 'DA-000-0000002', category: 'burglary' };
    const { built, ops } = deps([item, bad]);
    const handler = createScanHandler(built, options);

    const first = await handler({}, context);
    await handler({}, context);

    expect(first.invalid).toEqual({
      total: 1,
      listed: [{ caseRef: 'DA-000-0000002', reason: expect.stringMatching(/^category is not one of/) }],
    });
    expect(ops.messages.filter((m) => /cannot evaluate/.test(m.subject))).toHaveLength(1);
  });

  it('keeps alerting when the state table and the ops topic are down', async () => {
    const { built, state } = deps([item], { ops: { notify: failWith('AuthorizationErrorException') } });
    state.failing = true;
    const published: unknown[] = [];
    built.publisher = new CallbackPublisher((m) => published.push(m));

    const result = await createScanHandler(built, options)({}, context);

    expect(result.messages.length).toBeGreaterThan(0);
    expect(published.length).toBe(result.messages.length);
  });

  it('keeps a disclosure the log could not take, and writes it on the next run', async () => {
    const written: AuditEntry[] = [];
    let down = true;
    const audit: AuditLog = {
      record: async (entry) => {
        if (down) throw Object.assign(new Error('x'), { name: 'ThrottlingException' });
        written.push(entry);
      },
    };
    const { built, state } = deps([item], { audit });
    const handler = createScanHandler(built, options);

    await expect(handler({}, context)).rejects.toBeInstanceOf(ScanIncompleteError);
    const kept = state.items.get('audit-pending')?.entries as AuditEntry[];
    down = false;
    await handler({}, context);

    expect(kept.map((e) => e.caseRefs)).toEqual([['DA-000-0000001'], ['DA-000-0000001']]);
    expect(written.map((e) => e.audience).sort()).toEqual(['district-supervisor', 'marac-coordinator']);
    expect(state.items.get('audit-pending')?.entries).toEqual([]);
  });
});

describe('the scan handler and the calendar', () => {
  it('tells ops once when working-day deadlines fall beyond the bank-holiday list, and still alerts', async () => {
    const beyond = Date.parse('2031-06-02T09:00:00.000Z');
    const referred = {
      ...item,
      caseRef: 'DA-000-0000031',
      stage: 'referred',
      stageEnteredAt: '2031-05-28T09:00:00.000Z',
    };
    const { built, ops } = deps([referred]);
    const handler = createScanHandler(built, { ...options, clock: () => beyond });

    const first = await handler({}, context);
    await handler({}, context);

    expect(first.calendarUncovered).toBeGreaterThan(0);
    expect(first.messages.length).toBeGreaterThan(0);
    expect(ops.messages.filter((m) => /bank-holiday list/.test(m.subject))).toHaveLength(1);
  });
});

describe('how the handler reads the ledger', () => {
  /** Cases breaching in every district, read district by district; the ledger's reads recorded. */
  const readsAfterTwoRuns = async (count: number) => {
    const districts = Object.keys(config.file.districts);
    const items = Array.from({ length: count }, (_, i) =>
      aCaseView({
        caseRef: ref(i + 1),
        district: districts[i % districts.length],
        stageEnteredAt: iso(AT - 30 * 3_600_000),
      }),
    );
    const source: OpenCaseSource = {
      shards: (names) => shardsOf(names),
      async *pages(shard: ShardRef) {
        yield items.filter((c) => 'district' in shard && c.district === shard.district);
      },
    };
    const ledger = new MemoryLedger();
    const reads: string[][] = [];
    const load = ledger.loadCaseShards.bind(ledger);
    ledger.loadCaseShards = async (shard, audiences) => {
      reads.at(-1)?.push(shard.id);
      return load(shard, audiences);
    };
    const { built } = deps([], { source, ledger });
    const handler = createScanHandler(built, options);
    reads.push([]);
    const first = await handler({}, context);
    reads.push([]);
    await handler({}, { awsRequestId: 'req-2' });
    return { first, reads };
  };

  it('reads a small ledger in one pass once a run has left it small', async () => {
    const { first, reads } = await readsAfterTwoRuns(20);

    expect(first.ledgerEntriesAfter).toBeLessThanOrEqual(WHOLE_LEDGER_MAX_ENTRIES);
    expect(reads[0]).toHaveLength(Object.keys(config.file.districts).length);
    expect(reads[1]).toEqual(['all']);
  });

  it('keeps reading district by district after a first run that wrote a large ledger', async () => {
    const { first, reads } = await readsAfterTwoRuns(11_000);

    // The first run read nothing (a new ledger) and wrote more than one pass may hold.
    expect(first.ledgerEntries).toBe(0);
    expect(first.ledgerEntriesAfter).toBeGreaterThan(WHOLE_LEDGER_MAX_ENTRIES);
    expect(reads[1]).not.toContain('all');
    expect(reads[1]).toHaveLength(Object.keys(config.file.districts).length);
  });

  it('reads district by district when the one-pass read fails, so the run still alerts', async () => {
    const districts = ['D01', 'D02'];
    const items = districts.map((district, i) =>
      aCaseView({ caseRef: ref(i + 1), district, stageEnteredAt: iso(AT - 30 * 3_600_000) }),
    );
    let open = items.slice(0, 1);
    const source: OpenCaseSource = {
      shards: (names) => shardsOf(names),
      async *pages(shard: ShardRef) {
        yield open.filter((c) => 'district' in shard && c.district === shard.district);
      },
    };
    const ledger = new MemoryLedger();
    const load = ledger.loadCaseShards.bind(ledger);
    ledger.loadCaseShards = async (shard, audiences) => {
      if (!('district' in shard))
        throw Object.assign(new Error('down'), {
          name: 'ServiceUnavailable',
          $metadata: { httpStatusCode: 503 },
        });
      return load(shard, audiences);
    };
    const { built } = deps([], { source, ledger });
    const handler = createScanHandler(built, options);
    await handler({}, context);
    open = items;

    const second = await handler({}, { awsRequestId: 'req-2' });

    expect(second.messages.filter((m) => m.groups.includes('district-supervisor@D02'))).toHaveLength(1);
    expect(second.messages.filter((m) => m.groups.includes('district-supervisor@D01'))).toEqual([]);
  });
});
