// Decision limits chosen by simulation for a stated false-alarm rate, the way the R `surveillance`
// package's findH does, but by seeded Monte Carlo so that over-dispersion and the error of a
// baseline estimated from a few weeks are part of it. Each simulated path draws a baseline like
// the series' own, fits it as the live detector does, then runs the CUSUM over a horizon of
// normal days; H is the score that only the stated share of paths reaches. Results are cached
// per rounded parameters (a warm function and the test suite ask for the same few many times).

import {
  type CountSample,
  clampShare,
  fitCounts,
  fitProportion,
  LEVEL_DAYS,
  LEVEL_GUARD_DAYS,
} from './baseline.ts';
import { countStep, proportionStep } from './cusum.ts';
import { countLogPmf, createRandom, tabulated } from './random.ts';

export interface SimulationOptions {
  /** Simulated paths (default 400). */
  paths?: number;
  seed?: number;
}

const DEFAULT_PATHS = 300;
const DEFAULT_SEED = 20_261_127;

/** A horizon that about one path in five crosses: long enough to say something about a rare
 * event, short enough to be quick. Run lengths are close to geometric, so P(alarm within T days)
 * = 1 − exp(−T / falseAlarmDays). */
function horizonFor(falseAlarmDays: number): { days: number; share: number } {
  const days = Math.round(Math.min(3000, Math.max(60, 0.223 * falseAlarmDays)));
  return { days, share: 1 - Math.exp(-days / falseAlarmDays) };
}

/** The limit that the given share of path maxima reach. */
function limitFromMaxima(maxima: number[], share: number): number {
  maxima.sort((a, b) => b - a);
  const k = Math.min(maxima.length - 1, Math.max(0, Math.floor(share * maxima.length)));
  // Just above the (k+1)th largest: at most k paths of the simulation would have raised it.
  return Math.max(1e-6, (maxima[k] as number) + 1e-9);
}

const logStep = (value: number, step = 0.05) => Math.round(Math.log(value) / Math.log(1 + step));
const unLogStep = (n: number, step = 0.05) => (1 + step) ** n;

const cache = new Map<string, number>();

export interface CountLimitInput {
  /** Normal level a day (mean of the weekday means). */
  level: number;
  size: number | undefined;
  /** Samples behind each weekday's mean. */
  samples: number;
  fall: number;
  falseAlarmDays: number;
}

/** H for a count series: normal level, over-dispersion and baseline length as fitted. */
export function countDecisionLimit(input: CountLimitInput, options: SimulationOptions = {}): number {
  // H changes slowly with the level (about 10% from 3 to 50 a day): a coarse grid is enough.
  const levelKey = logStep(Math.max(0.05, input.level), 0.2);
  const level = unLogStep(levelKey, 0.2);
  // Fewer samples give a noisier baseline and a higher limit: rounding down to an even number
  // errs towards fewer false alarms.
  const samples = Math.max(1, input.samples - (input.samples % 2));
  const key = `count|${levelKey}|${input.size ?? 'poisson'}|${samples}|${input.fall}|${input.falseAlarmDays}|${options.paths ?? DEFAULT_PATHS}|${options.seed ?? DEFAULT_SEED}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  const random = createRandom((options.seed ?? DEFAULT_SEED) ^ hash(key));
  const draw = tabulated((k) => Math.exp(countLogPmf(k, level, input.size)), random);
  const { days, share } = horizonFor(input.falseAlarmDays);
  const maxima: number[] = [];
  const paths = options.paths ?? DEFAULT_PATHS;
  for (let path = 0; path < paths; path++) {
    // A baseline of `samples` weeks, in day order, fitted as the live detector fits it.
    const weeks = samples;
    const byWeekday: number[][] = Array.from({ length: 7 }, () => []);
    const recent: CountSample[] = [];
    for (let day = 0; day < weeks * 7; day++) {
      const value = draw();
      byWeekday[day % 7]?.push(value);
      if (day >= weeks * 7 - LEVEL_DAYS - LEVEL_GUARD_DAYS && day < weeks * 7 - LEVEL_GUARD_DAYS)
        recent.push({ weekday: day % 7, value });
    }
    const fit = fitCounts(byWeekday, recent);
    // The step is linear in the count: a·x + b for each weekday.
    const a: number[] = [];
    const b: number[] = [];
    for (const mean of fit.means) {
      b.push(countStep(0, mean, fit.size, input.fall));
      a.push(countStep(1, mean, fit.size, input.fall) - (b.at(-1) as number));
    }
    let score = 0;
    let max = 0;
    for (let day = 0; day < days; ) {
      for (let w = 0; w < 7 && day < days; w++, day++) {
        score += (a[w] as number) * draw() + (b[w] as number);
        if (score < 0) score = 0;
        else if (score > max) max = score;
      }
    }
    maxima.push(max);
  }
  const limit = limitFromMaxima(maxima, share);
  cache.set(key, limit);
  return limit;
}

export interface ProportionLimitInput {
  /** The normal share the detector compares against. */
  p0: number;
  fall: number;
  /** Cases judged a day, on average. */
  casesPerDay: number;
  /** Cases behind an estimated normal; undefined when p0 is given (an admin's floor). */
  baselineCases: number | undefined;
  /** The admin's floor, which an estimate below it is raised to. */
  floor: number | undefined;
  falseAlarmDays: number;
}

/** H for a proportion series. */
export function proportionDecisionLimit(
  input: ProportionLimitInput,
  options: SimulationOptions = {},
): number {
  // Rounded to a coarse grid: the limit changes slowly with each of these.
  const p0 = Math.round(clampShare(input.p0) * 20) / 20;
  const perDayKey = logStep(Math.max(0.05, input.casesPerDay), 0.25);
  const perDay = unLogStep(perDayKey, 0.25);
  // Rounded down: a smaller baseline is a noisier estimate and needs a higher limit.
  const baselineKey =
    input.baselineCases === undefined ? 'known' : Math.floor(Math.log(input.baselineCases) / Math.log(1.5));
  const baselineCases = baselineKey === 'known' ? undefined : Math.max(1, Math.round(1.5 ** baselineKey));
  const key = `share|${p0}|${perDayKey}|${baselineKey}|${input.floor ?? '-'}|${input.fall}|${input.falseAlarmDays}|${options.paths ?? DEFAULT_PATHS}|${options.seed ?? DEFAULT_SEED}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  const random = createRandom((options.seed ?? DEFAULT_SEED) ^ hash(key));
  // A Poisson number of cases each a success with p0 is two independent Poisson counts.
  const poisson = (mean: number) => tabulated((k) => Math.exp(countLogPmf(k, mean, undefined)), random);
  const drawYes = poisson(perDay * p0);
  const drawNo = poisson(perDay * (1 - p0));
  const { days, share } = horizonFor(input.falseAlarmDays);
  const maxima: number[] = [];
  const paths = options.paths ?? DEFAULT_PATHS;
  for (let path = 0; path < paths; path++) {
    let used = p0;
    if (baselineCases !== undefined) {
      const estimate = fitProportion(random.binomial(baselineCases, p0), baselineCases);
      used = Math.max(estimate, input.floor ?? 0);
    }
    const yes = proportionStep(1, 1, used, input.fall);
    const no = proportionStep(0, 1, used, input.fall);
    let score = 0;
    let max = 0;
    for (let day = 0; day < days; day++) {
      score = Math.max(0, score + drawYes() * yes + drawNo() * no);
      if (score > max) max = score;
    }
    maxima.push(max);
  }
  const limit = limitFromMaxima(maxima, share);
  cache.set(key, limit);
  return limit;
}

/** FNV-1a: a stable seed offset per cache key, so each limit is repeatable on its own. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
