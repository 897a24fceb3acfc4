// What a new config would take away from the scan: districts and categories the open cases still use
// that the new config drops, counted from the open-cases index, named only when they are known ids.

import { describe, expect, it } from 'vitest';
import { memoryOpenCases } from '#shared/adapters/mirror-reader.ts';
import {
  addToOpenCaseUse,
  checkRemovals,
  describeAlreadyUnknown,
  describeStillUsed,
  emptyOpenCaseUse,
  type OpenCaseUse,
  readOpenCaseUse,
} from '#shared/app/removals.ts';
import type { CaseVocabulary } from '#shared/domain/case.ts';
import type { ShardRef } from '#shared/domain/shards.ts';
import type { OpenCaseSource } from '#shared/scan/ports.ts';
import { aCase, ref } from '#test/support/fixtures.ts';

const vocabulary = (districts: string[], categories: string[]): CaseVocabulary => ({
  districts: new Set(districts),
  categories: new Set(categories),
});

const IN_FORCE = vocabulary(['D01', 'D02', 'D03'], ['domestic-abuse', 'child-protection']);

function useOf(items: Record<string, unknown>[]): OpenCaseUse {
  const use = emptyOpenCaseUse();
  for (const item of items) addToOpenCaseUse(use, item);
  return use;
}

const cases = (n: number, from: number, overrides: Record<string, unknown>) =>
  Array.from({ length: n }, (_, i) => ({ ...aCase({ caseRef: ref(from + i) }), ...overrides }));

describe('checkRemovals', () => {
  it('finds nothing when the new config keeps every district and category in use', () => {
    const use = useOf([...cases(3, 1, { district: 'D01' }), ...cases(2, 4, { district: 'D02' })]);
    const next = vocabulary(['D01', 'D02', 'D04'], ['domestic-abuse']);

    expect(checkRemovals(use, next, IN_FORCE)).toEqual({ removed: [], unknown: [] });
  });

  it('names each dropped district and category still in use, with its count and a few references', () => {
    const use = useOf([
      ...cases(5, 1, { district: 'D02' }),
      ...cases(1, 6, { district: 'D03', category: 'child-protection' }),
      ...cases(2, 7, { district: 'D01' }),
    ]);
    const next = vocabulary(['D01'], ['domestic-abuse']);

    const { removed, unknown } = checkRemovals(use, next, IN_FORCE);

    expect(unknown).toEqual([]);
    expect(removed).toEqual([
      { field: 'district', id: 'D02', openCases: 5, caseRefs: [ref(1), ref(2), ref(3)] },
      { field: 'category', id: 'child-protection', openCases: 1, caseRefs: [ref(6)] },
      { field: 'district', id: 'D03', openCases: 1, caseRefs: [ref(6)] },
    ]);
    expect(removed.map(describeStillUsed)).toEqual([
      'district D02: 5 open cases (e.g. DA-000-0000001, DA-000-0000002, DA-000-0000003)',
      'category child-protection: 1 open case (DA-000-0000006)',
      'district D03: 1 open case (DA-000-0000006)',
    ]);
  });

  it('counts, without naming, values that neither config knows: they are not ids and could be anything', () => {
    const use = useOf([
      ...cases(2, 1, { category: 'SYNTHETIC-PERSON-typed-here' }),
      { ...aCase({ caseRef: ref(3) }), district: 7 },
      { caseRef: 'not a reference', district: 'D01' },
    ]);

    const { removed, unknown } = checkRemovals(use, IN_FORCE, IN_FORCE);
    const described = unknown.map(describeAlreadyUnknown).join('\n');

    expect(removed).toEqual([]);
    expect(unknown).toEqual([
      { field: 'district', openCases: 1, caseRefs: [ref(3)] },
      { field: 'category', openCases: 3, caseRefs: [ref(1), ref(2)] },
    ]);
    expect(described).toBe(
      [
        '1 open case with a district that neither the new config nor the one in force knows (DA-000-0000003): the scan cannot read it now either',
        '3 open cases with a category that neither the new config nor the one in force knows (e.g. DA-000-0000001, DA-000-0000002): the scan cannot read them now either',
      ].join('\n'),
    );
    expect(described).not.toContain('SYNTHETIC-PERSON-');
    expect(described).not.toContain('not a reference');
  });

  it('takes a district the config in force does not know but the new one does as fine', () => {
    const use = useOf(cases(2, 1, { district: 'D09' }));

    expect(checkRemovals(use, vocabulary(['D09'], ['domestic-abuse']), IN_FORCE)).toEqual({
      removed: [],
      unknown: [],
    });
  });
});

describe('readOpenCaseUse', () => {
  it('reads every district it is given, once each, and counts every item', async () => {
    const byDistrict: Record<string, Record<string, unknown>[]> = {
      D01: cases(1200, 1, { district: 'D01' }),
      D02: cases(3, 2000, { district: 'D02' }),
    };
    const asked: string[] = [];
    const source: OpenCaseSource = {
      shards: (districts) => districts.map((district) => ({ id: district, district })),
      async *pages(shard: ShardRef) {
        asked.push(shard.id);
        const items = 'district' in shard ? (byDistrict[shard.district] ?? []) : [];
        for (let i = 0; i < items.length; i += 500) yield items.slice(i, i + 500);
      },
    };

    const use = await readOpenCaseUse(source, ['D01', 'D02', 'D01', 'D03']);

    expect(asked.sort()).toEqual(['D01', 'D02', 'D03']);
    expect(use.read).toBe(1203);
    expect(use.district.get('D01')?.openCases).toBe(1200);
    expect(use.district.get('D02')?.openCases).toBe(3);
    expect(use.category.get('domestic-abuse')?.openCases).toBe(1203);
  });

  it('reads a source that is not sharded whole', async () => {
    const use = await readOpenCaseUse(memoryOpenCases(cases(4, 1, { district: 'D05' })), ['D01']);

    expect(use.district.get('D05')).toEqual({ openCases: 4, caseRefs: [ref(1), ref(2), ref(3)] });
  });
});
