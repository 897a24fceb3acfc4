// The status use case over the OpenCaseSource port: it counts whatever pages the source yields
// (one index today, shards later), as the scan does, and says nothing it cannot evaluate.

import { describe, expect, it } from 'vitest';
import { queueStatus } from '#shared/app/status.ts';
import { formatStatus } from '#shared/cli/status-command.ts';
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

  it('as of a past instant, leaves out the cases that entered their stage after it, and says what it is', async () => {
    // Three days ago: one case had waited 2 days then; two others entered their stage since.
    const source = new PagedSource([
      [open('DA-000-0000001', 5 * DAY), open('DA-000-0000002', DAY), open('DA-000-0000003', HOUR)],
    ]);
    const then = NOW - 3 * DAY;

    const past = await queueStatus(source, defaultConfig(), then, { past: true });
    // Now, a case entered "in the future" (a source clock ahead) is counted, as the scan does.
    const now = await queueStatus(source, defaultConfig(), NOW - 2 * HOUR);

    expect(past).toMatchObject({ read: 3, invalid: 0, open: 1, enteredAfter: 2 });
    expect(past.levels).toEqual({ escalation: 1, breach: 0, warning: 0, none: 0 });
    expect(past.oldestByCategory[0]).toMatchObject({
      open: 1,
      oldest: { caseRef: 'DA-000-0000001', ageMs: 2 * DAY },
    });
    expect(now).toMatchObject({ read: 3, invalid: 0, open: 3, enteredAfter: 0 });
    const text = formatStatus(past, 'mirror', 'the shipped config', true).split('\n');
    expect(text.slice(0, 3)).toEqual([
      'mirror as of 2026-11-27 09:00 UTC, limits from the shipped config: 1 open case',
      '  1 at escalation, 0 at breach, 0 at warning, 0 within limits',
      '  judged at a past instant on the mirror as it is now: cases closed since are not in it, and 2 open cases that entered their stage after it are left out; not the queue as it was then',
    ]);
  });
});
