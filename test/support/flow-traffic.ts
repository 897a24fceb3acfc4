// Synthetic flow for the signals tests: each district's transitions day by day, in working hours,
// straight into a flow store (the feed's path is tested on its own). Seeded; opaque references.

import { DAY_MS, londonLocalToUtc } from '#shared/domain/calendar.ts';
import type { Transition } from '#shared/domain/flow.ts';
import { createRandom } from '#shared/domain/silence/random.ts';
import { weekdayOf } from '#shared/domain/silence/series.ts';
import type { FlowRecorder } from '#shared/ingest/ports.ts';

export interface DayPlan {
  /** High-risk domestic abuse referrals, other referrals, child cases leaving assessment. */
  highRiskReferrals: number;
  otherReferrals: number;
  childCases: number;
  /** Share of child cases referred (the rest are closed without a referral). */
  childShare: number;
  /** Transitions stop from this London hour on (24: not at all). */
  stopAtHour?: number;
}

export const NORMAL_DAY: DayPlan = {
  highRiskReferrals: 6,
  otherReferrals: 6,
  childCases: 5,
  childShare: 0.8,
};

/** Records a district's flow for the days `fromDay` to `toDay` (London epoch days). */
export async function synthesiseFlow(
  store: FlowRecorder,
  options: {
    districts: readonly string[];
    fromDay: number;
    toDay: number;
    seed: number;
    plan?: (district: string, day: number) => DayPlan;
    nowMs: number;
  },
): Promise<number> {
  const random = createRandom(options.seed);
  let n = 0;
  const batch: Transition[] = [];
  for (let day = options.fromDay; day <= options.toDay; day++) {
    const weekend = weekdayOf(day) >= 5;
    for (const district of options.districts) {
      const plan = options.plan?.(district, day) ?? NORMAL_DAY;
      const scale = weekend ? 0.5 : 1;
      const at = () => {
        // Working hours mostly: 08:00 to 18:00 London, a few in the evening.
        const hour = random.uniform() < 0.85 ? 8 + random.uniform() * 10 : 18 + random.uniform() * 5;
        return londonLocalToUtc(day * DAY_MS + Math.floor(hour * 3_600_000));
      };
      const add = (t: Omit<Transition, 'caseRef' | 'district' | 'at'>) => {
        const when = at();
        if (
          plan.stopAtHour !== undefined &&
          when >= londonLocalToUtc(day * DAY_MS + plan.stopAtHour * 3_600_000)
        ) {
          return;
        }
        n += 1;
        batch.push({
          ...t,
          caseRef: `SY-${district}-${String(n).padStart(7, '0')}`,
          district,
          at: new Date(when).toISOString(),
        });
      };
      for (let i = random.poisson(plan.highRiskReferrals * scale); i > 0; i--) {
        add({
          category: 'domestic-abuse',
          riskLevel: 'high',
          childrenInvolved: false,
          from: 'awaiting-referral',
          to: 'referred',
        });
      }
      for (let i = random.poisson(plan.otherReferrals * scale); i > 0; i--) {
        add({
          category: 'domestic-abuse',
          riskLevel: 'medium',
          childrenInvolved: false,
          from: 'awaiting-referral',
          to: 'referred',
        });
      }
      for (let i = random.poisson(plan.childCases * scale); i > 0; i--) {
        const referred = random.uniform() < plan.childShare;
        add({
          category: 'child-protection',
          riskLevel: 'medium',
          childrenInvolved: true,
          from: 'awaiting-risk-assessment',
          to: referred ? 'referred' : 'closed',
        });
      }
      for (let i = random.poisson(8 * scale); i > 0; i--) {
        add({
          category: 'domestic-abuse',
          riskLevel: 'standard',
          childrenInvolved: false,
          from: 'new',
          to: 'awaiting-risk-assessment',
        });
      }
    }
  }
  await store.record(batch, options.nowMs);
  return batch.length;
}
