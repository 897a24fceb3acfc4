// Scenario 9 of `npm run bench`: the silence detectors on simulated traffic, beside the mean-and-band
// alarms the domain notes warn against. Seeded trials (shared/domain/silence/trials.ts): false
// alarms per 1,000 series-days on normal traffic of many shapes, days to raise a halving of 10 a day,
// cases to raise a share falling from 80% to 28%, and how late a stopped flow is raised.

import { createRandom } from '#shared/domain/silence/random.ts';
import {
  countFallTrial,
  FLOW_SHAPES,
  falseAlarmTrial,
  flowFalseAlarmTrial,
  flowStopTrial,
  isBankHoliday,
  NORMAL_SHAPES,
  proportionFallTrial,
  proportionFalseAlarmTrial,
  simulateCounts,
  TRIAL_START,
  type TrafficShape,
} from '#shared/domain/silence/trials.ts';

/** One row of the bench's table (bench/run.ts prints and writes them). */
export interface BenchRow {
  scenario: string;
  figure: string;
  baseline: string;
  ratio: number | null;
  target: string;
  holds: boolean;
  details: Record<string, number | string>;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A lower band on same-weekday history: raised on a day below mean − k·sd of the last 8 of that
 * weekday (bank holidays left out), the textbook alarm the domain notes measure against. */
function bandAlarms(counts: readonly number[], k: number, fromDay = 56): number[] {
  const raised: number[] = [];
  for (let i = fromDay; i < counts.length; i++) {
    if (isBankHoliday(TRIAL_START + i)) continue;
    const same: number[] = [];
    for (let j = i - 7; j >= 0 && same.length < 8; j -= 7) {
      if (!isBankHoliday(TRIAL_START + j)) same.push(counts[j] as number);
    }
    const mean = same.reduce((a, b) => a + b, 0) / same.length;
    const sd = Math.sqrt(same.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, same.length - 1));
    if ((counts[i] as number) < mean - k * sd) raised.push(i);
  }
  return raised;
}

function bandFalseAlarms(seriesPerShape: number, days: number): number {
  let alarms = 0;
  let seriesDays = 0;
  for (const [s, shape] of NORMAL_SHAPES.entries()) {
    for (let n = 0; n < seriesPerShape; n++) {
      const counts = simulateCounts(shape, days + 56, createRandom(900 + s * 100 + n));
      alarms += bandAlarms(counts, 2).length;
      seriesDays += days;
    }
  }
  return (alarms / seriesDays) * 1000;
}

function bandDaysToHalving(trials: number, k: number): number {
  const shape: TrafficShape = { name: '10/day', level: 10, weekdays: [1, 1, 1, 1, 1, 1, 1] };
  const delays: number[] = [];
  for (let t = 0; t < trials; t++) {
    const change = 84 + (t % 7);
    const random = createRandom(5000 + t);
    const counts = simulateCounts(shape, change + 365, random, () => 1).map((x, i) =>
      i >= change ? random.binomial(x, 0.5) : x,
    );
    const first = bandAlarms(counts, k, change).find((i) => i >= change);
    delays.push(first === undefined ? 365 : first - change + 1);
  }
  return delays.sort((a, b) => a - b)[Math.floor(delays.length / 2)] as number;
}

/** Always at full size (about 6 s): a rate of one in 1,000 series-days cannot be judged on fewer. */
export function silenceDetector(): BenchRow {
  const series = 8;
  const trials = 300;
  log(
    `silence: false alarms on ${NORMAL_SHAPES.length} shapes of normal counts × ${series} series × 1,000 days`,
  );
  const counts = falseAlarmTrial({ days: 1000, seriesPerShape: series, seed: 11 });
  const shares = proportionFalseAlarmTrial({ days: 1000, series: series * 3, seed: 12 });
  log(`silence: stopped flow on ${FLOW_SHAPES.length} shapes × ${series} series`);
  const flow = flowFalseAlarmTrial({
    days: 1000,
    seriesPerShape: Math.max(1, series / 2),
    seed: 13,
  });
  log(`silence: ${trials} halvings of 10 a day, ${trials} shares falling from 80% to 28%`);
  const halving = countFallTrial({
    trials,
    seed: 14,
    shape: { name: '10/day', level: 10, weekdays: [1, 1, 1, 1, 1, 1, 1] },
  });
  const within7 = halving.delays.filter((d) => d !== undefined && d <= 7).length / trials;
  const share = proportionFallTrial({ trials, seed: 15 });
  const stops = flowStopTrial({ trials: 70, seed: 16 });
  const lateMax = Math.max(...stops.lateByMinutes);
  const hoursMedian =
    [...stops.hoursToRaise].sort((a, b) => a - b)[Math.floor(stops.hoursToRaise.length / 2)] ?? 0;
  log('silence: the mean-and-band baseline');
  const band2 = bandFalseAlarms(series, 1000);
  const band3Days = bandDaysToHalving(100, 3);

  const worstRate = Math.max(counts.per1000, shares.per1000, flow.per1000);
  const holds =
    worstRate <= 1 &&
    halving.median <= 7 &&
    halving.missed === 0 &&
    share.p90 <= 30 &&
    stops.missed === 0 &&
    lateMax < 15;
  return {
    scenario: '9. silence detector',
    figure:
      `false alarms per 1,000 series-days: counts ${round(counts.per1000)}, shares ${round(shares.per1000)}, flow ${round(flow.per1000)}; ` +
      `a halving of 10/day raised in ${halving.median} days (median; ${Math.round(within7 * 100)}% within 7, 90% within ${halving.p90}); ` +
      `80% to 28% raised after ${share.median} cases (median; 90% within ${share.p90}); ` +
      `a stopped flow raised at most ${Math.ceil(lateMax)} min after its normal quiet spell (median ${round(hoursMedian, 1)} h after it stopped)`,
    baseline: `mean − 2σ band: ${round(band2)} false alarms per 1,000 days; mean − 3σ band: a halving raised in ${band3Days} days (median)`,
    ratio: worstRate > 0 ? round(band2 / counts.per1000, 1) : null,
    target:
      '≤ 1 false alarm per 1,000 series-days; a halving of 10/day within 7 days; 80% to 28% within 30 cases; a stopped flow within one 15-minute check of its normal gap',
    holds,
    details: {
      countSeriesDays: counts.seriesDays,
      countAlarms: counts.alarms,
      shareSeriesDays: shares.seriesDays,
      shareAlarms: shares.alarms,
      flowSeriesDays: flow.seriesDays,
      flowAlarms: flow.alarms,
      halvingMedianDays: halving.median,
      halvingP90Days: halving.p90,
      halvingMaxDays: halving.max,
      halvingWithin7: round(within7, 3),
      shareMedianCases: share.median,
      shareP90Cases: share.p90,
      shareMaxCases: share.max,
      flowLateMaxMinutes: round(lateMax, 1),
      flowMedianHoursToRaise: round(hoursMedian, 2),
      band2FalseAlarmsPer1000: round(band2),
      band3HalvingDays: band3Days,
      ...Object.fromEntries(
        counts.byShape.map((s) => [`per1000 ${s.shape}`, round((s.alarms / s.days) * 1000)]),
      ),
    },
  };
}
