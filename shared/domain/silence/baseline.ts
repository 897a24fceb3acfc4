// What "normal" is for a series: fitted from its own trailing history. For counts, a mean per
// weekday (the same weekday of the trailing weeks) and one over-dispersion for the series (a
// negative binomial's size, from how much the weekdays vary around their means beyond Poisson).
// For a proportion, the share over the trailing weeks. The live detector and the simulations
// that choose its decision limit fit with these same functions, so the limit allows for the
// error of an estimate from a baseline this long.

/** Over-dispersion is rounded to these values of 1/size (0: Poisson): an estimate from a few
 * weeks is rough anyway, and a small set keeps the decision limits cacheable. */
const INVERSE_SIZES = [0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1];

export interface CountFit {
  /** Normal mean of each weekday (0 = Monday), floored so no weekday expects exactly nothing. */
  means: number[];
  /** Negative binomial size; undefined: Poisson (no more variation than chance). */
  size: number | undefined;
  /** Mean of the weekday means: the series' normal level a day. */
  level: number;
  /** Fewest samples behind any weekday's mean. */
  samples: number;
}

export function roundedInverseSize(inverse: number): number {
  let best = 0;
  for (const v of INVERSE_SIZES) if (Math.abs(v - inverse) < Math.abs(best - inverse)) best = v;
  return best;
}

export interface CountSample {
  weekday: number;
  value: number;
}

/** Days behind the level of a count baseline: the most recent weeks, so that a slow season or
 * trend is followed closely (weekday factors still come from the whole baseline). */
export const LEVEL_DAYS = 28;
export const LEVEL_GUARD_DAYS = 7;

/** A day above this many times its weekday's median (plus OUTLIER_ALLOWANCE), and above a whole
 * normal week, is left out of a count fit: a backlog cleared on a go-live day, or a bulk import,
 * says nothing about the normal rate, and left in it would raise the weekday's mean, the recent
 * level and the over-dispersion for the weeks it stays in the baseline, so that a fall after it is
 * learnt as normal. Normal days that far above both are rare, and the simulations that set the
 * decision limits fit the same way. A batch of several weeks' cases keyed at once is left out too:
 * such a district's normal is learnt low. */
export const OUTLIER_FACTOR = 3;
export const OUTLIER_ALLOWANCE = 3;

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The highest count a weekday's fit keeps by its own median (a day must also be above a whole
 * normal week to be left out: see fitCounts). */
const outlierFence = (values: readonly number[]): number =>
  OUTLIER_FACTOR * median(values) + OUTLIER_ALLOWANCE;

/**
 * Fits a count baseline: the shape of the week from the last values of each weekday (the same
 * weekday of the trailing weeks), the level from the most recent LEVEL_DAYS values, and one
 * over-dispersion for the series from how much each weekday varies beyond Poisson. Days far above
 * their weekday's median and above a whole normal week are left out of all three (see
 * OUTLIER_FACTOR).
 */
export function fitCounts(
  byWeekday: ReadonlyArray<ReadonlyArray<number>>,
  recent: ReadonlyArray<CountSample>,
): CountFit {
  const weekdayMeans: number[] = [];
  let excess = 0;
  let scale = 0;
  let samples = Number.POSITIVE_INFINITY;
  // Left out only when also above a whole normal week (the sum of the weekday means): a batch keyed
  // on one day moves a week's cases within it, where a backlog adds to it; and a heavy-tailed day
  // (siblings referred together) stays in.
  const week = byWeekday.reduce(
    (sum, values) => sum + (values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0),
    0,
  );
  const fences = byWeekday.map((values) => Math.max(outlierFence(values), week));
  for (const [weekday, all] of byWeekday.entries()) {
    const fence = fences[weekday] as number;
    const values = all.filter((v) => v <= fence);
    const n = values.length;
    samples = Math.min(samples, n);
    const mean = n > 0 ? values.reduce((a, b) => a + b, 0) / n : 0;
    weekdayMeans.push(mean);
    if (n < 2) continue;
    let squares = 0;
    for (const v of values) squares += (v - mean) ** 2;
    // Method of moments: variance = mean + mean²/size.
    excess += (n - 1) * (squares / (n - 1) - mean);
    scale += (n - 1) * mean * mean;
  }
  const known = samples === Number.POSITIVE_INFINITY ? 0 : samples;
  const overall = weekdayMeans.reduce((a, b) => a + b, 0) / Math.max(1, weekdayMeans.length);
  // Recent level: the recent counts over what the week's shape says they would add up to.
  let means = weekdayMeans;
  if (overall > 0 && recent.length > 0) {
    let observed = 0;
    let shape = 0;
    for (const r of recent) {
      if (r.value > (fences[r.weekday] ?? Number.POSITIVE_INFINITY)) continue;
      observed += r.value;
      shape += (weekdayMeans[r.weekday] as number) / overall;
    }
    const level = shape > 0 ? observed / shape : overall;
    means = weekdayMeans.map((m) => (m / overall) * level);
  }
  const inverse = scale > 0 ? roundedInverseSize(Math.max(0, excess / scale)) : 0;
  const floor = 0.5 / Math.max(1, known);
  const floored = means.map((m) => Math.max(m, floor));
  return {
    means: floored,
    size: inverse === 0 ? undefined : 1 / inverse,
    level: floored.reduce((a, b) => a + b, 0) / Math.max(1, floored.length),
    samples: known,
  };
}

/** The share of successes, kept away from 0 and 1 so a fall can always be told apart. */
export function fitProportion(successes: number, trials: number): number {
  return clampShare(trials > 0 ? successes / trials : 0);
}

export const clampShare = (p: number) => Math.min(0.98, Math.max(0.02, p));
