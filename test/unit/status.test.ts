// The status use case over the OpenCaseSource port: it counts whatever pages the source yields
// (one index today, shards later), as the scan does, and says nothing it cannot evaluate.

import { describe, expect, it } from 'vitest';
import { queueStatus } from '#shared/app/status.ts';
import { ALL_SHARDS } from '#shared/domain/shards.ts';
import type { OpenCaseSource } from '#shared/scan/ports.ts';
import { aCase, DAY, defaultConfig, HOUR, iso } from '#test/support/fixtures.ts';

const NOW = Date.parse('2026-11-30T09:00:00Z');

class PagedSource implements OpenCaseSource {
  constructor(private readonly pageList: Record<string, unknown>[][]) {}
  shards = () => [ALL_SHARDS];
  async *pages() {
    for (const page of this.pageList) yield page;
  }
}

const open = (caseRef: string, ageMs: number, overrides = {}) => {
  const { sourceUpdatedAt: _, ...view } = aCase({ caseRef, stageEnteredAt: iso(NOW - ageMs), ...overrides });
  return view;
};

describe('queue status', () => {
  it('counts every page of every source by district and level, and keeps the oldest of each category', async () => {
    const source = new PagedSource([
      [open('DA-000-0000001', 50 * HOUR), open('DA-000-0000002', 3 * HOUR, { district: 'D02' })],
      [open('DA-000-0000003', 20 * DAY, { riskLevel: 'standard' })],
      [{ caseRef: 'DA-000-0000004' }],
    ]);

    const status = await queueStatus(source, defaultConfig(), NOW);

    expect(status).toMatchObject({ at: '2026-11-30T09:00:00.000Z', read: 4, invalid: 1, open: 3 });
    expect(status.levels).toEqual({ escalation: 2, breach: 0, warning: 0, none: 1 });
    expect(status.byDistrict[0]).toMatchObject({ district: 'D01', open: 2, levels: { escalation: 2 } });
    expect(status.oldestByCategory[0]).toMatchObject({
      category: 'domestic-abuse',
      open: 3,
      oldest: { caseRef: 'DA-000-0000003', ageMs: 20 * DAY, level: 'escalation', rule: 'da-standard' },
    });
    expect(status.oldestByCategory.map((c) => c.category)).toEqual(defaultConfig().file.categories);
  });
});
