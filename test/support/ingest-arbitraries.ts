// fast-check generators for the ingest tests: a case's change stream as the source would send it
// (strictly increasing versions, ties on sourceUpdatedAt broken by sourceSequence, some changes with
// no sequence), and an arrival order that reorders, repeats and interleaves several such streams.

import fc from 'fast-check';
import { RISK_LEVELS, STAGES } from '#shared/domain/case.ts';
import type { VersionedRecord } from '#shared/ingest/change.ts';
import { compareVersions, versionOf } from '#shared/ingest/ordering.ts';

const BASE_MS = Date.parse('2026-03-29T00:30:00Z');
const MINUTE = 60_000;

const versionArb = fc.record({
  minute: fc.integer({ min: 0, max: 30 }),
  sequence: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
});

const contentArb = fc.record({
  stage: fc.constantFrom(...STAGES),
  riskLevel: fc.constantFrom(...RISK_LEVELS),
  childrenInvolved: fc.boolean(),
  district: fc.constantFrom('D01', 'D02'),
  /** Minutes before the change that the stage was entered. */
  inStageMinutes: fc.integer({ min: 0, max: 600 }),
});

type Content = typeof contentArb extends fc.Arbitrary<infer T> ? T : never;

/** The changes of one case, oldest first, every version distinct. */
export function changeStreamArb(caseRef: string): fc.Arbitrary<VersionedRecord[]> {
  return fc
    .uniqueArray(versionArb, {
      minLength: 1,
      maxLength: 8,
      selector: (v) => `${v.minute}/${v.sequence ?? '-'}`,
    })
    .chain((versions) =>
      fc.tuple(
        fc.constant(versions),
        fc.array(contentArb, { minLength: versions.length, maxLength: versions.length }),
      ),
    )
    .map(([versions, contents]) =>
      versions
        .map((v, i) => {
          const content = contents[i] as Content;
          const updatedMs = BASE_MS + v.minute * MINUTE;
          const change: VersionedRecord = {
            record: {
              caseRef,
              category: 'domestic-abuse',
              riskLevel: content.riskLevel,
              district: content.district,
              stage: content.stage,
              stageEnteredAt: new Date(updatedMs - content.inStageMinutes * MINUTE).toISOString(),
              childrenInvolved: content.childrenInvolved,
              sourceUpdatedAt: new Date(updatedMs).toISOString(),
            },
            ...(v.sequence !== undefined ? { sourceSequence: v.sequence } : {}),
          };
          return change;
        })
        .sort((a, b) => compareVersions(versionOf(a), versionOf(b))),
    );
}

export interface Scenario {
  /** Each case's changes in source order. */
  streams: VersionedRecord[][];
  /** The same changes as they arrive: interleaved, reordered, some repeated. */
  arrivals: VersionedRecord[];
}

/** One to three cases' streams and an arrival order holding every change at least once. */
export function scenarioArb(prefix = 'PB'): fc.Arbitrary<Scenario> {
  return fc
    .integer({ min: 1, max: 3 })
    .chain((cases) =>
      fc.tuple(
        ...Array.from({ length: cases }, (_, i) =>
          changeStreamArb(`${prefix}-${String(i).padStart(3, '0')}`),
        ),
      ),
    )
    .chain((streams) => {
      const all = streams.flat();
      return fc
        .array(fc.integer({ min: 0, max: all.length - 1 }), { maxLength: all.length * 2 })
        .chain((repeats) => {
          const indices = [...all.keys(), ...repeats];
          return fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length });
        })
        .map((order) => ({ streams, arrivals: order.map((i) => all[i] as VersionedRecord) }));
    });
}
