// The mirror's ordering rule, against the in-memory fake of the conditional write: any arrival order
// of a case's changes (reordered, repeated, interleaved with other cases) ends where applying them
// in source order ends.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import type { MirrorItem } from '#shared/adapters/mirror-item.ts';
import type { VersionedRecord } from '#shared/ingest/change.ts';
import { compareVersions, outcomeOver } from '#shared/ingest/ordering.ts';
import { scenarioArb } from '#test/support/ingest-arbitraries.ts';

const NOW = Date.parse('2026-03-29T06:00:00Z');
const LATER = Date.parse('2026-03-29T07:00:00Z');

/** The state that matters: everything but when the mirror wrote it. */
/** The cases as stored, without the write's bookkeeping (when, and the stage the write replaced,
 * which depends on arrival order by design: a version skipped as older made no transition). */
const state = (items: Map<string, MirrorItem>) =>
  Object.fromEntries([...items].map(([ref, { mirroredAt: _, priorStage: __, ...rest }]) => [ref, rest]));

const change = (sourceUpdatedAt: string, sourceSequence?: number, stage = 'awaiting-risk-assessment') =>
  ({
    record: {
      caseRef: 'DA-000-0000001',
      category: 'domestic-abuse',
      riskLevel: 'high',
      district: 'D01',
      stage,
      stageEnteredAt: '2026-03-29T00:30:00.000Z',
      childrenInvolved: false,
      sourceUpdatedAt,
    },
    ...(sourceSequence !== undefined ? { sourceSequence } : {}),
  }) as VersionedRecord;

describe('the ordering rule', () => {
  it('orders by sourceUpdatedAt, then sourceSequence, with no sequence oldest', () => {
    const t1 = '2026-03-29T01:00:00.000Z';
    const t2 = '2026-03-29T02:00:00.000Z';
    expect(compareVersions({ sourceUpdatedAt: t1, sourceSequence: 9 }, { sourceUpdatedAt: t2 })).toBeLessThan(
      0,
    );
    expect(compareVersions({ sourceUpdatedAt: t1 }, { sourceUpdatedAt: t1, sourceSequence: 0 })).toBeLessThan(
      0,
    );
    expect(
      compareVersions({ sourceUpdatedAt: t1, sourceSequence: 3 }, { sourceUpdatedAt: t1, sourceSequence: 2 }),
    ).toBeGreaterThan(0);
    expect(
      compareVersions({ sourceUpdatedAt: t1, sourceSequence: 2 }, { sourceUpdatedAt: t1, sourceSequence: 2 }),
    ).toBe(0);
  });

  it('calls a newer change an update, an older one stale, a repeat unchanged and a rewrite a conflict', () => {
    const stored = change('2026-03-29T01:00:00.000Z', 1);
    expect(outcomeOver(undefined, stored)).toBe('created');
    expect(outcomeOver(stored, change('2026-03-29T01:00:00.000Z', 2))).toBe('updated');
    expect(outcomeOver(stored, change('2026-03-29T01:00:00.000Z'))).toBe('stale');
    expect(outcomeOver(stored, change('2026-03-29T01:00:00.000Z', 1))).toBe('unchanged');
    expect(outcomeOver(stored, change('2026-03-29T01:00:00.000Z', 1, 'closed'))).toBe('conflict');
  });
});

describe('the in-memory mirror', () => {
  it('puts an opened case in the open-cases index and takes a closed one out', async () => {
    const mirror = new MemoryMirror();
    await mirror.apply(change('2026-03-29T01:00:00.000Z'), NOW);
    expect(mirror.items.get('DA-000-0000001')?.openQueue).toBe('open');
    await mirror.apply(change('2026-03-29T02:00:00.000Z', undefined, 'closed'), NOW);
    expect(mirror.items.get('DA-000-0000001')?.openQueue).toBeUndefined();
    await mirror.apply(change('2026-03-29T03:00:00.000Z', undefined, 'awaiting-referral'), NOW);
    expect(mirror.items.get('DA-000-0000001')?.openQueue).toBe('open');
  });

  it('ends in the in-order state for any reordering, repetition and interleaving of changes', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async ({ streams, arrivals }) => {
        const inOrder = new MemoryMirror();
        for (const stream of streams) for (const c of stream) await inOrder.apply(c, NOW);

        const shuffled = new MemoryMirror();
        const outcomes = [];
        for (const c of arrivals) outcomes.push(await shuffled.apply(c, LATER));

        expect(state(shuffled.items)).toEqual(state(inOrder.items));
        // Each case is created once; nothing is ever reported as a conflict.
        expect(outcomes.filter((o) => o === 'created')).toHaveLength(streams.length);
        expect(outcomes).not.toContain('conflict');
        // The index holds exactly the cases whose newest change left them open.
        for (const stream of streams) {
          const newest = stream.at(-1) as VersionedRecord;
          const open = !['closed', 'referral-acknowledged'].includes(newest.record.stage);
          expect(shuffled.items.get(newest.record.caseRef)?.openQueue).toBe(open ? 'open' : undefined);
        }
      }),
      { numRuns: 500 },
    );
  });
});
