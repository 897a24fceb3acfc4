// Flow counting, pure and in memory: what a transition is, its identity, and exact counting
// through the mirror when changes arrive duplicated, reordered, interleaved and replayed, and when
// the function dies between the mirror write and the flow write.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFlowStore } from '#shared/adapters/memory-flow.ts';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { RISK_LEVELS, STAGES } from '#shared/domain/case.ts';
import {
  addToDay,
  emptyDayFlow,
  FROM_STAGES,
  flowKey,
  isStoredInstant,
  londonDayAndHour,
  parseFlowKey,
  type Transition,
  transitionId,
  transitionOf,
  transitionSchema,
} from '#shared/domain/flow.ts';
import type { VersionedRecord } from '#shared/ingest/change.ts';
import type { FlowRecorder } from '#shared/ingest/ports.ts';
import { aCase, at, HOUR } from '#test/support/fixtures.ts';
import { scenarioArb } from '#test/support/ingest-arbitraries.ts';

const NOW = at('2026-03-29T06:00:00Z');

describe('a transition', () => {
  it('is a change of stage, judged from what was stored before against what is stored after', () => {
    const before = aCase({ stage: 'awaiting-risk-assessment' });
    const after = aCase({ stage: 'referred', stageEnteredAt: '2026-03-29T04:00:00.000Z' });
    expect(transitionOf(before, after, NOW)).toEqual({
      caseRef: 'DA-000-0000001',
      district: 'D01',
      category: 'domestic-abuse',
      riskLevel: 'high',
      childrenInvolved: false,
      from: 'awaiting-risk-assessment',
      to: 'referred',
      at: '2026-03-29T04:00:00.000Z',
    });
  });

  it('is not a re-grade, a correction or a restarted clock in the same stage', () => {
    const before = aCase();
    expect(transitionOf(before, aCase({ riskLevel: 'medium' }), NOW)).toBeUndefined();
    expect(transitionOf(before, aCase({ stageEnteredAt: '2026-03-29T05:00:00.000Z' }), NOW)).toBeUndefined();
  });

  it('counts a case seen for the first time as an arrival only if it entered its stage in the last 48 hours', () => {
    const fresh = aCase({ stageEnteredAt: new Date(NOW - 47 * HOUR).toISOString() });
    const old = aCase({ stageEnteredAt: new Date(NOW - 49 * HOUR).toISOString() });
    expect(transitionOf(undefined, fresh, NOW)?.from).toBe('new');
    expect(transitionOf(undefined, old, NOW)).toBeUndefined();
  });

  it('is identified by the case, the stage entered and when, whichever message carried it', () => {
    const t = transitionOf(aCase(), aCase({ stage: 'referred' }), NOW) as Transition;
    const viaRegrade = transitionOf(aCase(), aCase({ stage: 'referred', riskLevel: 'standard' }), NOW);
    expect(transitionId(t)).toBe('DA-000-0000001#referred#2026-03-29T00:30:00.000Z');
    expect(transitionId(viaRegrade as Transition)).toBe(transitionId(t));
  });

  it('falls on its London day and hour (BST moves midnight)', () => {
    expect(londonDayAndHour(at('2026-07-01T23:30:00Z'))).toEqual({ day: 20636, hour: 0 });
    expect(londonDayAndHour(at('2026-01-01T23:30:00Z'))).toEqual({ day: 20454, hour: 23 });
  });

  it('is stored at an instant exactly as toISOString writes it; anything else is a malformed marker', () => {
    expect(isStoredInstant('2026-03-29T00:30:00.000Z')).toBe(true);
    for (const value of [
      '2026-03-29T00:30:00Z',
      '2026-03-29T01:30:00+01:00',
      '2026-13-45T00:00:00.000Z',
      'zz-not-an-instant',
      '',
      20260329,
      undefined,
    ]) {
      expect(isStoredInstant(value)).toBe(false);
    }
  });

  it('reads back its count key, and refuses anything else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FROM_STAGES),
        fc.constantFrom(...STAGES),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.constantFrom(...RISK_LEVELS),
        fc.boolean(),
        (from, to, category, riskLevel, childrenInvolved) => {
          const key = { from, to, category, riskLevel, childrenInvolved };
          expect(parseFlowKey(flowKey(key))).toEqual(key);
        },
      ),
    );
    expect(parseFlowKey('new>lost|domestic-abuse|high|c')).toBeUndefined();
    expect(parseFlowKey('anything')).toBeUndefined();
  });

  it('is validated strictly when loaded from an export, dropping every other field', () => {
    const line = {
      caseRef: 'DA-000-0000009',
      district: 'D02',
      category: 'domestic-abuse',
      riskLevel: 'high',
      childrenInvolved: true,
      from: 'awaiting-referral',
      to: 'referred',
      at: '2026-03-29T01:30:00+01:00',
      subjectName: 'SYNTHETIC-PERSON-1',
    };
    const parsed = transitionSchema.safeParse(line);
    expect(parsed.success && parsed.data).toEqual({
      caseRef: 'DA-000-0000009',
      district: 'D02',
      category: 'domestic-abuse',
      riskLevel: 'high',
      childrenInvolved: true,
      from: 'awaiting-referral',
      to: 'referred',
      at: '2026-03-29T00:30:00.000Z',
    });
    expect(transitionSchema.safeParse({ ...line, to: 'awaiting-referral' }).success).toBe(false);
    expect(transitionSchema.safeParse({ ...line, at: '2026-03-29T01:30:00' }).success).toBe(false);
  });

  it('adds to its day by key and by hour, and moves the day’s last', () => {
    const day = londonDayAndHour(at('2026-03-29T09:00:00Z')).day;
    const t = transitionOf(
      aCase(),
      aCase({ stage: 'referred', stageEnteredAt: '2026-03-29T09:15:00Z' }),
      NOW,
    );
    const u = transitionOf(aCase(), aCase({ stage: 'closed', stageEnteredAt: '2026-03-29T10:45:00Z' }), NOW);
    const flow = addToDay(emptyDayFlow(day), [t as Transition, u as Transition]);
    expect(flow.counts).toEqual({
      'awaiting-risk-assessment>referred|domestic-abuse|high|-': 1,
      'awaiting-risk-assessment>closed|domestic-abuse|high|-': 1,
    });
    expect(flow.hours[10]).toBe(1); // 09:15 UTC is 10:15 BST
    expect(flow.hours[11]).toBe(1);
    expect(flow.last).toBe('2026-03-29T10:45:00Z');
  });
});

/** Transitions applying a case's changes in source order makes, by id. */
function inOrderTransitions(stream: VersionedRecord[]): Map<string, Transition> {
  const out = new Map<string, Transition>();
  let before: VersionedRecord | undefined;
  for (const change of stream) {
    const t = transitionOf(before?.record, change.record, NOW);
    if (t && !out.has(transitionId(t))) out.set(transitionId(t), t);
    before = change;
  }
  return out;
}

async function applyAll(changes: VersionedRecord[], flow = new MemoryFlowStore()) {
  const mirror = new MemoryMirror(flow);
  for (const c of changes) await mirror.apply(c, NOW);
  return { mirror, flow };
}

describe('counting flow through the mirror', () => {
  it('counts exactly the transitions of source order when changes arrive in order', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async ({ streams }) => {
        const { flow } = await applyAll(streams.flat());
        const expected = new Map(streams.flatMap((s) => [...inOrderTransitions(s)]));
        expect(new Map(flow.transitions)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('counts each transition once however changes are duplicated, reordered, interleaved or replayed', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async ({ streams, arrivals }) => {
        const { mirror, flow } = await applyAll(arrivals);
        const stored = new Map(flow.transitions);
        // Duplicates add nothing: the same arrivals without their repeats count the same.
        const firstOnly = arrivals.filter((c, i) => arrivals.indexOf(c) === i);
        expect(new Map((await applyAll(firstOnly)).flow.transitions)).toEqual(stored);
        // Replaying the whole feed again adds nothing.
        for (const c of arrivals) await mirror.apply(c, NOW);
        expect(new Map(flow.transitions)).toEqual(stored);
        // A stale change never counts: every transition is one the case really made, from a stage
        // it really had before (or a first sighting), at most one per stage entry.
        for (const t of stored.values()) {
          const stream = streams.find((s) => s[0]?.record.caseRef === t.caseRef) as VersionedRecord[];
          // The versions that entered that stage at that instant (a source may send it twice).
          const entries = stream.flatMap((c, i) =>
            c.record.stage === t.to && c.record.stageEnteredAt === t.at ? [i] : [],
          );
          expect(entries.length).toBeGreaterThan(0);
          if (t.from !== 'new') {
            const madeBy = entries.some((e) => stream.slice(0, e).some((c) => c.record.stage === t.from));
            expect(madeBy).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('records the transition when a retry follows a function that died between the two writes', async () => {
    const store = new MemoryFlowStore();
    let fail = true;
    const flaky: FlowRecorder = {
      record: async (transitions, nowMs) => {
        if (fail) {
          fail = false;
          throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
        }
        await store.record(transitions, nowMs);
      },
    };
    const mirror = new MemoryMirror(flaky);
    const created = { record: aCase({ stageEnteredAt: '2026-03-29T05:00:00.000Z' }) };
    // The mirror write goes in, the flow write fails: the message goes back to SQS.
    await expect(mirror.apply(created, NOW)).rejects.toThrow('timed out');
    expect(mirror.items.get('DA-000-0000001')?.priorStage).toBe('new');
    // SQS delivers it again: the mirror already holds it, and the transition is recorded now.
    expect(await mirror.apply(created, NOW)).toBe('unchanged');
    expect([...store.transitions.values()].map((t) => `${t.from}>${t.to}`)).toEqual([
      'new>awaiting-risk-assessment',
    ]);
    // And never twice, however often it comes again.
    await mirror.apply(created, NOW);
    expect(store.transitions.size).toBe(1);
    expect(store.recorded).toBe(2);
  });
});
