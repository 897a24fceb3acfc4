// The complete-silence rule: a district (or the whole feed) whose case transitions stop for longer
// than is normal for those hours. "Normal" is an hour-of-week profile from the trailing weeks (a
// Tuesday 10:00 is busy, a Sunday 03:00 is not; bank holidays count as Sundays), so a quiet spell
// is measured in the transitions that would normally have happened during it, not in hours.
//
// Under a Poisson process, a quiet spell in which m transitions were expected happens with
// probability e^-m, so with E transitions a day, spells that long come about E·e^-m times a day.
// Real transitions come in bursts (a supervisor clears several at once), which makes long gaps
// likelier: bursts of mean size c make the gaps c times longer, and the hourly counts' dispersion
// (2c - 1 for bursts of geometric size; 1 for Poisson) gives c. The threshold is m* = c·ln(E·F/c)
// for one chance silence in F days.

import { DAY_MS, londonOffsetMs } from '../calendar.ts';
import { weekdayOf } from './series.ts';

const HOUR_MS = 3_600_000;
/** How far ahead a deadline is looked for: a profile this quiet is too sparse to judge. */
const HORIZON_MS = 14 * DAY_MS;

export interface HourlyHistory {
  /** Epoch day (London) of hours[0]. */
  firstDay: number;
  /** Transitions in each London local hour (24 a day) of each complete day from firstDay. */
  hours: ReadonlyArray<ArrayLike<number>>;
  /** Bank holidays: left out of the profile, and expected to be as quiet as a Sunday. */
  skip: (epochDay: number) => boolean;
}

export interface FlowSettings {
  baselineWeeks: number;
  minBaselineWeeks: number;
  /** One chance silence in this many days, per series. */
  falseAlarmDays: number;
}

export interface FlowProfile {
  /** Expected transitions in each hour of the week (Monday 00:00 London = 0). */
  rate: Float64Array;
  perDay: number;
  /** Burst size (dispersion of hourly counts, at least 1). */
  cluster: number;
  /** Expected transitions in a quiet spell that is abnormal (m*). */
  threshold: number;
}

export type ProfileFit =
  | { state: 'learning'; until: number }
  | { state: 'sparse'; perDay: number }
  | { state: 'ready'; profile: FlowProfile };

/** Below this a day, silence is normal: nothing to judge. */
export const MIN_FLOW_PER_DAY = 2;

/** Fits the hour-of-week profile from the last `baselineWeeks` of each weekday before `today`. */
export function fitFlowProfile(history: HourlyHistory, settings: FlowSettings): ProfileFit {
  const samples: number[][][] = Array.from({ length: 7 }, () => []);
  for (let i = history.hours.length - 1; i >= 0; i--) {
    const day = history.firstDay + i;
    if (history.skip(day)) continue;
    const list = samples[weekdayOf(day)] as number[][];
    if (list.length < settings.baselineWeeks) list.push(Array.from(history.hours[i] as ArrayLike<number>));
  }
  const fewest = Math.min(...samples.map((s) => s.length));
  if (fewest < settings.minBaselineWeeks) {
    let until = history.firstDay + history.hours.length;
    const have = samples.map((s) => s.length);
    while (have.some((n) => n < settings.minBaselineWeeks)) {
      if (!history.skip(until)) have[weekdayOf(until)] = (have[weekdayOf(until)] as number) + 1;
      until += 1;
    }
    return { state: 'learning', until };
  }
  const rate = new Float64Array(168);
  let squares = 0;
  let expected = 0;
  for (let w = 0; w < 7; w++) {
    const days = samples[w] as number[][];
    const n = days.length;
    for (let h = 0; h < 24; h++) {
      let sum = 0;
      for (const d of days) sum += d[h] ?? 0;
      const mean = sum / n;
      rate[w * 24 + h] = mean;
      for (const d of days) squares += ((d[h] ?? 0) - mean) ** 2;
      // The residuals are around a mean fitted from the same days: scale up by n/(n-1).
      expected += mean * (n - 1);
    }
  }
  const perDay = rate.reduce((a, b) => a + b, 0) / 7;
  if (perDay < MIN_FLOW_PER_DAY) return { state: 'sparse', perDay };
  // Bursts of geometric size with mean b give hourly counts a dispersion of 2b - 1.
  const dispersion = expected > 0 ? squares / expected : 1;
  const cluster = Math.max(1, (dispersion + 1) / 2);
  const threshold = cluster * Math.log(Math.max(Math.E, (perDay * settings.falseAlarmDays) / cluster));
  return { state: 'ready', profile: { rate, perDay, cluster, threshold } };
}

/** Hour of the week (London) of an instant, with bank holidays as Sundays. */
function hourOfWeek(utcMs: number, skip: (epochDay: number) => boolean): number {
  const local = utcMs + londonOffsetMs(utcMs);
  const day = Math.floor(local / DAY_MS);
  const hour = Math.floor((local - day * DAY_MS) / HOUR_MS);
  return (skip(day) ? 6 : weekdayOf(day)) * 24 + hour;
}

/** The instant at which silence since `lastAtMs` has lasted through `threshold` expected
 * transitions; undefined if the profile does not get there within two weeks. */
export function quietDeadline(
  profile: FlowProfile,
  lastAtMs: number,
  skip: (epochDay: number) => boolean,
): number | undefined {
  let expected = 0;
  let t = lastAtMs;
  // London's offsets are whole hours, so UTC hours are London hours.
  while (t < lastAtMs + HORIZON_MS) {
    const hourEnd = (Math.floor(t / HOUR_MS) + 1) * HOUR_MS;
    const rate = profile.rate[hourOfWeek(t, skip)] as number;
    const gained = (rate * (hourEnd - t)) / HOUR_MS;
    if (expected + gained >= profile.threshold) {
      return t + ((profile.threshold - expected) / rate) * HOUR_MS;
    }
    expected += gained;
    t = hourEnd;
  }
  return undefined;
}

/** Transitions normally expected between two instants. */
export function expectedBetween(
  profile: FlowProfile,
  fromMs: number,
  toMs: number,
  skip: (epochDay: number) => boolean,
): number {
  let expected = 0;
  for (let t = fromMs; t < toMs; ) {
    const hourEnd = Math.min(toMs, (Math.floor(t / HOUR_MS) + 1) * HOUR_MS);
    expected += ((profile.rate[hourOfWeek(t, skip)] as number) * (hourEnd - t)) / HOUR_MS;
    t = hourEnd;
  }
  return expected;
}

export interface FlowVerdict {
  state: 'learning' | 'sparse' | 'normal' | 'raised';
  /** When the silence since the last transition becomes abnormal. */
  deadline?: number;
  /** Transitions normally expected since the last one. */
  expected?: number;
  learningUntil?: number;
}

export function judgeFlow(
  fit: ProfileFit,
  lastAtMs: number | undefined,
  nowMs: number,
  skip: (epochDay: number) => boolean,
): FlowVerdict {
  if (fit.state === 'learning') return { state: 'learning', learningUntil: fit.until };
  if (fit.state === 'sparse') return { state: 'sparse' };
  // Never a transition: judged from the start of the profile's history is not possible; a series
  // with a ready profile has had transitions, so this only happens with a corrupt "last" record.
  if (lastAtMs === undefined) return { state: 'raised' };
  const deadline = quietDeadline(fit.profile, lastAtMs, skip);
  const expected = expectedBetween(fit.profile, lastAtMs, nowMs, skip);
  return {
    state: deadline !== undefined && nowMs >= deadline ? 'raised' : 'normal',
    ...(deadline !== undefined ? { deadline } : {}),
    expected,
  };
}
