// The count and proportion detectors, replayed day by day over a series' whole stored history:
// each day is judged against a baseline fitted from the days before it (bank holidays and days
// already in alarm left out), so the result depends only on the counts, never on which runs
// happened to see which days. A late transition, a re-run or a missed run changes nothing but
// the counts it really changes.

import {
  type CountFit,
  type CountSample,
  clampShare,
  fitCounts,
  fitProportion,
  LEVEL_DAYS,
  LEVEL_GUARD_DAYS,
} from './baseline.ts';
import { countStep, cusumStep, initialCusum, proportionStep } from './cusum.ts';
import { countDecisionLimit, proportionDecisionLimit, type SimulationOptions } from './decision-limit.ts';

export interface DetectorSettings {
  /** Trailing weeks the baseline is fitted from (8: eight of each weekday). */
  baselineWeeks: number;
  /** Weeks of history before a series is judged; until then it is learning. */
  minBaselineWeeks: number;
  /** The fall the CUSUM is tuned to catch quickly: 0.5 is a halving. Smaller falls are caught
   * too, more slowly. */
  fall: number;
  /** Design false-alarm rate: on normal traffic, one alarm per series in this many days. */
  falseAlarmDays: number;
}

export type SeriesState = 'learning' | 'sparse' | 'normal' | 'raised';

export interface Episode {
  /** First day of the fall, as the CUSUM estimates it (its score's last zero before the alarm). */
  start: number;
  raised: number;
  cleared?: number;
}

export interface JudgedDay {
  day: number;
  state: 'skipped' | 'learning' | 'sparse' | 'judged';
  /** Judged days: what was normal, the score after the day and the limit. */
  expected?: number;
  score?: number;
  limit?: number;
  event?: 'raised' | 'cleared';
}

/** Monday = 0 (1970-01-01 was a Thursday). */
export const weekdayOf = (epochDay: number) => (((epochDay + 3) % 7) + 7) % 7;

/**
 * The days a baseline may learn from, newest last. Every day joins unless its series is raised;
 * a raise also takes back the days since the fall's estimated start, so a fall is never part of
 * "normal", not even the days before it was raised. (Holding back every day with a score above
 * zero instead was tried: it biases the baseline upwards and doubles the false alarms.)
 */
class BaselineDays<T> {
  private readonly accepted: Array<{ day: number; value: T }> = [];

  /** A day the detector did not judge (learning, too sparse): it joins at once. */
  learn(day: number, value: T): void {
    this.accepted.push({ day, value });
  }

  /** A judged day: it joins unless raised. A raise takes back the days since the fall's
   * estimated start. */
  judged(day: number, value: T, raised: boolean, fallStart?: number): void {
    if (fallStart !== undefined) {
      while (this.accepted.length > 0 && (this.accepted.at(-1) as { day: number }).day >= fallStart) {
        this.accepted.pop();
      }
    }
    if (!raised) this.accepted.push({ day, value });
  }

  /** The last `n` accepted values (those matching `where`), oldest first. */
  last(n: number, where: (value: T, day: number) => boolean = () => true): T[] {
    const out: T[] = [];
    for (let i = this.accepted.length - 1; i >= 0 && out.length < n; i--) {
      const item = this.accepted[i] as { day: number; value: T };
      if (where(item.value, item.day)) out.push(item.value);
    }
    return out.reverse();
  }
}

// ---- counts ----

export interface CountSeries {
  /** Epoch day (London) of counts[0]: the first day the series has data for. */
  firstDay: number;
  /** One count per complete day from firstDay on. */
  counts: readonly number[];
  /** Days neither judged nor learned from (bank holidays). */
  skip: (epochDay: number) => boolean;
}

export interface CountVerdict {
  state: SeriesState;
  days: JudgedDay[];
  episodes: Episode[];
  /** The last judged week (up to 7 days back from the last day): counted and normally expected. */
  recent: { days: number; observed: number; expected: number };
  /** Normal level a day on the last day judged, and its limit and score. */
  level?: number;
  limit?: number;
  score?: number;
  /** When learning: the first day with enough history. */
  learningUntil?: number;
}

/** Below this normal a day a series is too sparse to judge: a fall from 0.3 to 0.15 a day takes
 * months to tell from chance, and an alarm after months helps nobody. */
export const MIN_COUNT_LEVEL = 0.5;

/**
 * A stop: days in a row with nothing at all, as unlikely under the normal that stood when they
 * began as one chance run in ten times the design's false-alarm days. The CUSUM alone can miss a
 * low series stopping: its zero days join the baseline before the evidence reaches the limit, the
 * level sinks below MIN_COUNT_LEVEL and the series is "too sparse to judge" (a district's few
 * high-risk referrals a week, stopped, read as sparse for ever).
 */
const STOP_ODDS_FACTOR = 10;

/** The chance of a day with nothing at a normal mean (negative binomial `size`, or Poisson). */
const logChanceOfNothing = (mean: number, size: number | undefined) =>
  size === undefined || !Number.isFinite(size) ? -mean : size * Math.log(size / (size + mean));

export function judgeCounts(
  series: CountSeries,
  settings: DetectorSettings,
  simulation: SimulationOptions = {},
): CountVerdict {
  const baseline = new BaselineDays<CountSample>();
  const days: JudgedDay[] = [];
  const episodes: Episode[] = [];
  let cusum = initialCusum();
  let level: number | undefined;
  let limit: number | undefined;
  let learning = true;
  const have = Array.from({ length: 7 }, () => 0);
  // The run of days with nothing, and the normal that stood when it began.
  let nothing: { from: number; fit: CountFit; logChance: number } | undefined;
  const stopLogChance = -Math.log(STOP_ODDS_FACTOR * settings.falseAlarmDays);

  series.counts.forEach((count, i) => {
    const day = series.firstDay + i;
    if (series.skip(day)) {
      days.push({ day, state: 'skipped' });
      return;
    }
    const weekday = weekdayOf(day);
    const sample = { weekday, value: count };
    if (learning && have.some((n) => n < settings.minBaselineWeeks)) {
      days.push({ day, state: 'learning' });
      baseline.learn(day, sample);
      have[weekday] = (have[weekday] as number) + 1;
      return;
    }
    if (learning) cusum = initialCusum(day - 1);
    learning = false;
    const byWeekday = Array.from({ length: 7 }, (_, w) =>
      baseline.last(settings.baselineWeeks, (s) => s.weekday === w).map((s) => s.value),
    );
    const fit = fitCounts(
      byWeekday,
      baseline.last(LEVEL_DAYS, (_, d) => d < day - LEVEL_GUARD_DAYS),
    );
    level = fit.level;
    if (count > 0) nothing = undefined;
    else {
      nothing ??= { from: day, fit, logChance: 0 };
      nothing.logChance += logChanceOfNothing(nothing.fit.means[weekday] as number, nothing.fit.size);
    }
    if (
      nothing &&
      !cusum.raised &&
      nothing.fit.level >= MIN_COUNT_LEVEL &&
      nothing.logChance <= stopLogChance
    ) {
      // Raised as a stop, against the normal from before it: the run's days leave the baseline.
      const before = nothing.fit;
      limit = countDecisionLimit(
        {
          level: before.level,
          size: before.size,
          samples: before.samples,
          fall: settings.fall,
          falseAlarmDays: settings.falseAlarmDays,
        },
        simulation,
      );
      cusum = { score: limit, raised: true, lastZero: nothing.from - 1 };
      episodes.push({ start: nothing.from, raised: day });
      baseline.judged(day, sample, true, nothing.from);
      days.push({
        day,
        state: 'judged',
        expected: before.means[weekday] as number,
        score: limit,
        limit,
        event: 'raised',
      });
      return;
    }
    if (fit.level < MIN_COUNT_LEVEL && !cusum.raised) {
      days.push({ day, state: 'sparse' });
      baseline.learn(day, sample);
      return;
    }
    limit = countDecisionLimit(
      {
        level: fit.level,
        size: fit.size,
        samples: fit.samples,
        fall: settings.fall,
        falseAlarmDays: settings.falseAlarmDays,
      },
      simulation,
    );
    const expected = fit.means[weekday] as number;
    const { state, event } = cusumStep(
      cusum,
      countStep(count, expected, fit.size, settings.fall),
      limit,
      day,
    );
    cusum = state;
    if (event === 'raised') episodes.push({ start: state.lastZero + 1, raised: day });
    if (event === 'cleared') {
      const open = episodes.at(-1);
      if (open) open.cleared = day;
    }
    baseline.judged(day, sample, state.raised, event === 'raised' ? state.lastZero + 1 : undefined);
    days.push({ day, state: 'judged', expected, score: state.score, limit, ...(event ? { event } : {}) });
  });

  const recent = { days: 0, observed: 0, expected: 0 };
  const lastDay = series.firstDay + series.counts.length - 1;
  for (const d of days) {
    if (d.day <= lastDay - 7 || d.state !== 'judged') continue;
    recent.days += 1;
    recent.observed += series.counts[d.day - series.firstDay] as number;
    recent.expected += d.expected as number;
  }
  const lastJudged = days.findLast((d) => d.state !== 'skipped');
  const state: SeriesState = cusum.raised
    ? 'raised'
    : learning
      ? 'learning'
      : lastJudged?.state === 'sparse'
        ? 'sparse'
        : 'normal';
  return {
    state,
    days,
    episodes,
    recent,
    ...(level !== undefined ? { level } : {}),
    ...(limit !== undefined ? { limit, score: cusum.score } : {}),
    ...(learning ? { learningUntil: learningEnd(series, settings) } : {}),
  };
}

/** The first day on which every weekday has the minimum history (bank holidays do not count). */
function learningEnd(series: CountSeries, settings: DetectorSettings): number {
  const have = Array.from({ length: 7 }, () => 0);
  let day = series.firstDay;
  for (; have.some((n) => n < settings.minBaselineWeeks); day++) {
    if (!series.skip(day)) have[weekdayOf(day)] = (have[weekdayOf(day)] as number) + 1;
  }
  return day;
}

// ---- proportions ----

export interface ShareDay {
  successes: number;
  trials: number;
}

export interface ProportionSeries {
  firstDay: number;
  days: readonly ShareDay[];
  skip: (epochDay: number) => boolean;
}

export interface ProportionSettings extends DetectorSettings {
  /** A share below which the proportion is raised whatever its own normal: judged from day one. */
  floor?: number;
  /** Fewest cases behind a fitted normal (default 20). */
  minBaselineCases?: number;
}

export interface ProportionVerdict {
  state: SeriesState;
  days: JudgedDay[];
  episodes: Episode[];
  /** Successes and trials over the last 7 days. */
  recent: { days: number; successes: number; trials: number };
  /** The share compared against on the last day judged, and whether it was the admin's floor. */
  normal?: number;
  against?: 'own' | 'floor';
  limit?: number;
  score?: number;
  learningUntil?: number;
}

export function judgeProportion(
  series: ProportionSeries,
  settings: ProportionSettings,
  simulation: SimulationOptions = {},
): ProportionVerdict {
  const baseline = new BaselineDays<ShareDay>();
  const window = settings.baselineWeeks * 7;
  const minDays = settings.minBaselineWeeks * 7;
  const minCases = settings.minBaselineCases ?? 20;
  const days: JudgedDay[] = [];
  const episodes: Episode[] = [];
  let cusum = initialCusum();
  let normal: number | undefined;
  let against: 'own' | 'floor' | undefined;
  let limit: number | undefined;
  let learning = true;
  let seenDays = 0;
  let seenTrials = 0;

  series.days.forEach((today, i) => {
    const day = series.firstDay + i;
    if (series.skip(day)) {
      days.push({ day, state: 'skipped' });
      return;
    }
    const base = baseline.last(window);
    const successes = base.reduce((s, d) => s + d.successes, 0);
    const trials = base.reduce((s, d) => s + d.trials, 0);
    const own = base.length >= minDays && trials >= minCases ? fitProportion(successes, trials) : undefined;
    if (own !== undefined) learning = false;
    const floor = settings.floor;
    seenDays += 1;
    seenTrials += today.trials;
    if (own === undefined && floor === undefined) {
      days.push({ day, state: 'learning' });
      baseline.learn(day, today);
      return;
    }
    if (normal === undefined) cusum = initialCusum(day - 1);
    const useFloor = own === undefined || (floor !== undefined && own <= floor);
    normal = useFloor ? clampShare(floor as number) : (own as number);
    against = useFloor ? 'floor' : 'own';
    const casesPerDay = useFloor
      ? Math.max(1, seenTrials / seenDays)
      : Math.max(0.05, trials / Math.max(1, base.length));
    limit = proportionDecisionLimit(
      {
        p0: normal,
        fall: settings.fall,
        casesPerDay,
        baselineCases: useFloor ? undefined : trials,
        floor,
        falseAlarmDays: settings.falseAlarmDays,
      },
      simulation,
    );
    const step = proportionStep(today.successes, today.trials, normal, settings.fall);
    const { state, event } = cusumStep(cusum, step, limit, day);
    cusum = state;
    if (event === 'raised') episodes.push({ start: state.lastZero + 1, raised: day });
    if (event === 'cleared') {
      const open = episodes.at(-1);
      if (open) open.cleared = day;
    }
    baseline.judged(day, today, state.raised, event === 'raised' ? state.lastZero + 1 : undefined);
    days.push({
      day,
      state: 'judged',
      expected: normal,
      score: state.score,
      limit,
      ...(event ? { event } : {}),
    });
  });

  const recent = { days: 0, successes: 0, trials: 0 };
  const lastDay = series.firstDay + series.days.length - 1;
  series.days.forEach((d, i) => {
    if (series.firstDay + i <= lastDay - 7) return;
    recent.days += 1;
    recent.successes += d.successes;
    recent.trials += d.trials;
  });
  const state: SeriesState = cusum.raised ? 'raised' : normal === undefined ? 'learning' : 'normal';
  return {
    state,
    days,
    episodes,
    recent,
    ...(normal !== undefined ? { normal, against } : {}),
    ...(limit !== undefined ? { limit, score: cusum.score } : {}),
    ...(learning ? { learningUntil: series.firstDay + Math.max(minDays, 0) } : {}),
  };
}
