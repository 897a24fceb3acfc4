// What a run decides to send, against the ledger: new levels notify, the same level repeats on its
// interval, a new stage is a new episode, in-flight claims are left alone, resolved cases get one line.

import { describe, expect, it } from 'vitest';
import { ledgerGroup, ledgerShardOf } from '#shared/adapters/ledger.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { OpenCaseSource, OutgoingMessage } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';

const config = loadConfig();
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-27T09:00:00Z');

type Item = Record<string, unknown>;
const daHigh = (caseRef: string, enteredMs: number): Item => ({
  caseRef,
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: new Date(enteredMs).toISOString(),
  childrenInvolved: false,
});

function harness() {
  const ledger = new MemoryLedger();
  let items: Item[] = [];
  const source: OpenCaseSource = {
    async *pages() {
      yield items;
    },
  };
  const sent: OutgoingMessage[] = [];
  const run = (nowMs: number, runId = `run-${nowMs}`) =>
    runScan({
      config,
      nowMs,
      runId,
      source,
      ledger,
      publisher: new CallbackPublisher((m) => sent.push(m)),
      audit: new MemoryAuditLog(),
    });
  return { ledger, sent, run, set: (next: Item[]) => (items = next) };
}

const toSupervisor = <T extends { audience: string }>(messages: T[]) =>
  messages.filter((m) => m.audience === 'district-supervisor');

describe('scan decisions', () => {
  it('notifies a warning once, then the breach as soon as it falls due', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0)]);

    const atWarn = await h.run(T0 + 4 * HOUR);
    const stillWarn = await h.run(T0 + 5 * HOUR);
    const atBreach = await h.run(T0 + 24 * HOUR);

    expect(toSupervisor(atWarn.messages).map((m) => m.level)).toEqual(['warning']);
    expect(stillWarn.messages).toEqual([]);
    expect(toSupervisor(atBreach.messages).map((m) => m.level)).toEqual(['breach']);
  });

  it('repeats a level after its repeat interval and not before', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]);

    await h.run(T0);
    const before = await h.run(T0 + 4 * HOUR - 60_000);
    const after = await h.run(T0 + 4 * HOUR);

    expect(before.messages).toEqual([]);
    expect(toSupervisor(after.messages).map((m) => `${m.level} ${m.caseRefs.join()}`)).toEqual([
      'breach DA-000-0000001',
    ]);
  });

  it('treats a new stage as a new episode, with a new clock', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * HOUR)]);
    await h.run(T0);
    h.set([{ ...daHigh('DA-000-0000001', T0 - 5 * HOUR), stage: 'awaiting-supervisor-review' }]);

    const next = await h.run(T0 + 5 * 60_000);

    expect(toSupervisor(next.messages).map((m) => m.level)).toEqual(['warning']);
  });

  it('leaves a case another run is sending alone until its lease runs out', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * HOUR)]);
    const group = ledgerGroup('district-supervisor', 'D01', ledgerShardOf('DA-000-0000001'));
    await h.ledger.claim({ group, audience: 'district-supervisor', district: 'D01', shard: 0 }, undefined, {
      runId: 'other',
      leaseUntil: T0 + 60_000,
    });

    const during = await h.run(T0);
    const afterLease = await h.run(T0 + 2 * 60_000);

    expect(toSupervisor(during.messages)).toEqual([]);
    expect(during.inFlightElsewhere).toBe(1);
    expect(toSupervisor(afterLease.messages).map((m) => m.caseRefs)).toEqual([['DA-000-0000001']]);
  });

  it('sends a resolved-only message when nothing else goes to that audience', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR)]);
    await h.run(T0);
    h.set([]);

    const next = await h.run(T0 + 5 * 60_000);
    const after = await h.run(T0 + 10 * 60_000);

    expect(toSupervisor(next.messages).map((m) => ({ cases: m.caseRefs, resolved: m.resolved }))).toEqual([
      { cases: [], resolved: ['DA-000-0000001'] },
    ]);
    expect(h.ledger.shards.size).toBe(0);
    expect(after.messages).toEqual([]);
  });
});
