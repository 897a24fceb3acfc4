// Seeded trials of the detectors on simulated traffic: how often they raise on normal traffic of
// many shapes, and how soon they raise on a fall. The unit tests assert the targets with these,
// and `npm run bench` prints the same figures at larger sizes.

import { createWorkingCalendar, DAY_MS, epochDay, londonLocalToUtc, londonOffsetMs } from '../calendar.ts';
import {
  type FlowSettings,
  type FlowVerdict,
  fitFlowProfile,
  judgeFlow,
  quietDeadline,
} from './flow-stopped.ts';
import { createRandom, type Random } from './random.ts';
import {
  type DetectorSettings,
  type JudgedDay,
  judgeCounts,
  judgeProportion,
  type ProportionSettings,
  type ShareDay,
  weekdayOf,
} from './series.ts';

export const DEFAULT_SETTINGS: DetectorSettings = {
  baselineWeeks: 8,
  minBaselineWeeks: 4,
  fall: 0.5,
  falseAlarmDays: 3000,
};

/** A shape of normal daily traffic. */
export interface TrafficShape {
  name: string;
  /** Mean a day before weekday, trend and season. */
  level: number;
  /** Factor for each weekday, Monday first. */
  weekdays: readonly number[];
  /** Negative binomial size; undefined: Poisson. */
  size?: number;
  /** Growth a year (0.25: a quarter more each year; negative: a decline). */
  trendPerYear?: number;
  /** Amplitude of a yearly cycle (0.1: ±10%). */
  season?: number;
  /** Factor on bank holidays. */
  holiday?: number;
}

const FLAT = [1, 1, 1, 1, 1, 1, 1];
const WEEKEND_DIP = [1.15, 1.1, 1.1, 1.1, 1.05, 0.7, 0.5];
const MIDWEEK = [0.9, 1.2, 1.3, 1.2, 0.9, 0.8, 0.7];

/** Normal traffic of many shapes: small and large rates, weekday patterns, chance and extra
 * variation, growth, decline, seasons and bank holidays. */
export const NORMAL_SHAPES: readonly TrafficShape[] = [
  { name: '3/day Poisson, weekend dip', level: 3, weekdays: WEEKEND_DIP, holiday: 0.4 },
  { name: '5/day Poisson, flat', level: 5, weekdays: FLAT },
  { name: '10/day Poisson, weekend dip', level: 10, weekdays: WEEKEND_DIP, holiday: 0.3 },
  { name: '10/day over-dispersed (size 20), midweek peak', level: 10, weekdays: MIDWEEK, size: 20 },
  { name: '10/day over-dispersed (size 5), flat', level: 10, weekdays: FLAT, size: 5 },
  { name: '20/day, growing 25% a year', level: 20, weekdays: WEEKEND_DIP, trendPerYear: 0.25, size: 30 },
  { name: '20/day, falling 20% a year', level: 20, weekdays: WEEKEND_DIP, trendPerYear: -0.2, size: 30 },
  { name: '50/day, seasonal ±15%', level: 50, weekdays: WEEKEND_DIP, season: 0.15, size: 40 },
];

/** Day zero of the trials: a Monday, with bank holidays on the built-in list for years after. */
export const TRIAL_START = epochDay('2019-01-07');
const calendar = createWorkingCalendar();
/** Bank holidays are not judged: a weekday that is a non-working day. */
export const isBankHoliday = (day: number) => weekdayOf(day) < 5 && !calendar.isWorkingDay(day);

export function meanOn(shape: TrafficShape, day: number): number {
  const t = (day - TRIAL_START) / 365.25;
  let mean = shape.level * (shape.weekdays[weekdayOf(day)] as number);
  if (shape.trendPerYear) mean *= (1 + shape.trendPerYear) ** t;
  if (shape.season) mean *= 1 + shape.season * Math.sin(2 * Math.PI * t);
  if (shape.holiday !== undefined && isBankHoliday(day)) mean *= shape.holiday;
  return mean;
}

export function simulateCounts(
  shape: TrafficShape,
  days: number,
  random: Random,
  factor = () => 1,
): number[] {
  return Array.from({ length: days }, (_, i) =>
    random.negativeBinomial(meanOn(shape, TRIAL_START + i) * factor(), shape.size),
  );
}

export interface FalseAlarmTrial {
  seriesDays: number;
  alarms: number;
  /** Alarms per 1,000 series-days judged. */
  per1000: number;
  byShape: Array<{ shape: string; days: number; alarms: number }>;
}

/** Runs each shape for `days` days (after its learning weeks) with `series` seeds each. */
export function falseAlarmTrial(
  options: { days: number; seriesPerShape: number; seed: number; shapes?: readonly TrafficShape[] },
  settings: DetectorSettings = DEFAULT_SETTINGS,
): FalseAlarmTrial {
  const byShape: FalseAlarmTrial['byShape'] = [];
  let seriesDays = 0;
  let alarms = 0;
  for (const [s, shape] of (options.shapes ?? NORMAL_SHAPES).entries()) {
    let shapeDays = 0;
    let shapeAlarms = 0;
    for (let k = 0; k < options.seriesPerShape; k++) {
      const random = createRandom(options.seed + s * 1000 + k);
      const counts = simulateCounts(shape, options.days + settings.minBaselineWeeks * 7, random);
      const verdict = judgeCounts({ firstDay: TRIAL_START, counts, skip: isBankHoliday }, settings);
      shapeDays += verdict.days.filter((d) => d.state === 'judged').length;
      shapeAlarms += verdict.episodes.length;
    }
    byShape.push({ shape: shape.name, days: shapeDays, alarms: shapeAlarms });
    seriesDays += shapeDays;
    alarms += shapeAlarms;
  }
  return { seriesDays, alarms, per1000: (alarms / Math.max(1, seriesDays)) * 1000, byShape };
}

export interface DelayTrial {
  /** Delay of each trial (days or cases); undefined when not raised within the horizon. */
  delays: Array<number | undefined>;
  median: number;
  p90: number;
  max: number;
  missed: number;
}

/** Days from `change` (day 1) to the first day on or after it on which the series is raised. */
function raisedFrom(days: readonly JudgedDay[], change: number): number | undefined {
  let raised = false;
  for (const d of days) {
    if (d.event === 'raised') raised = true;
    if (d.event === 'cleared') raised = false;
    if (d.day >= change && raised) return d.day - change + 1;
  }
  return undefined;
}

function summarise(delays: Array<number | undefined>): DelayTrial {
  const found = delays.filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const q = (p: number) => found[Math.min(found.length - 1, Math.floor(p * found.length))] ?? Number.NaN;
  return {
    delays,
    median: q(0.5),
    p90: q(0.9),
    max: found.at(-1) ?? Number.NaN,
    missed: delays.length - found.length,
  };
}

/** Days from a fall's first day to the day it is raised (the first day counts as day 1). */
export function countFallTrial(
  options: {
    trials: number;
    seed: number;
    shape?: TrafficShape;
    /** The factor the rate falls by (0.5: halved). */
    factor?: number;
    /** Extra cases on the day before the fall (a backlog cleared on a new system's go-live day). */
    spike?: number;
    baselineDays?: number;
    horizonDays?: number;
  },
  settings: DetectorSettings = DEFAULT_SETTINGS,
): DelayTrial {
  const shape = options.shape ?? { name: '10/day', level: 10, weekdays: WEEKEND_DIP, holiday: 0.3 };
  const baselineDays = options.baselineDays ?? 84;
  const horizon = options.horizonDays ?? 60;
  const delays: Array<number | undefined> = [];
  for (let k = 0; k < options.trials; k++) {
    const random = createRandom(options.seed + k);
    // Start the fall on a different weekday each trial.
    const change = baselineDays + (k % 7);
    const counts = Array.from(
      { length: change + horizon },
      (_, i) =>
        random.negativeBinomial(
          meanOn(shape, TRIAL_START + i) * (i >= change ? (options.factor ?? 0.5) : 1),
          shape.size,
        ) + (i === change - 1 ? (options.spike ?? 0) : 0),
    );
    const verdict = judgeCounts({ firstDay: TRIAL_START, counts, skip: isBankHoliday }, settings);
    delays.push(raisedFrom(verdict.days, TRIAL_START + change));
  }
  return summarise(delays);
}

/** Cases judged from a proportion's fall to the day it is raised (that day's cases included). */
export function proportionFallTrial(
  options: {
    trials: number;
    seed: number;
    before?: number;
    after?: number;
    casesPerDay?: number;
    baselineDays?: number;
    horizonDays?: number;
  },
  settings: ProportionSettings = DEFAULT_SETTINGS,
): DelayTrial {
  const before = options.before ?? 0.8;
  const after = options.after ?? 0.28;
  const perDay = options.casesPerDay ?? 5;
  const baselineDays = options.baselineDays ?? 84;
  const horizon = options.horizonDays ?? 60;
  const delays: Array<number | undefined> = [];
  for (let k = 0; k < options.trials; k++) {
    const random = createRandom(options.seed + k);
    const change = baselineDays + (k % 7);
    const days: ShareDay[] = Array.from({ length: change + horizon }, (_, i) => {
      const trials = random.poisson(perDay);
      return { trials, successes: random.binomial(trials, i >= change ? after : before) };
    });
    const verdict = judgeProportion({ firstDay: TRIAL_START, days, skip: isBankHoliday }, settings);
    const raisedAfter = raisedFrom(verdict.days, TRIAL_START + change);
    if (raisedAfter === undefined) {
      delays.push(undefined);
      continue;
    }
    let cases = 0;
    for (let day = change; day < change + raisedAfter; day++) cases += (days[day] as ShareDay).trials;
    delays.push(cases);
  }
  return summarise(delays);
}

/** False alarms of the proportion detector on normal shares. */
export function proportionFalseAlarmTrial(
  options: { days: number; series: number; seed: number; shares?: readonly number[]; casesPerDay?: number },
  settings: ProportionSettings = DEFAULT_SETTINGS,
): { seriesDays: number; alarms: number; per1000: number } {
  let seriesDays = 0;
  let alarms = 0;
  const shares = options.shares ?? [0.8, 0.6, 0.9];
  for (let k = 0; k < options.series; k++) {
    const random = createRandom(options.seed + k);
    const p = shares[k % shares.length] as number;
    const perDay = (options.casesPerDay ?? 5) * (1 + (k % 3));
    const days: ShareDay[] = Array.from({ length: options.days + settings.minBaselineWeeks * 7 }, (_, i) => {
      const n = random.poisson(perDay * (weekdayOf(TRIAL_START + i) >= 5 ? 0.6 : 1));
      return { trials: n, successes: random.binomial(n, p) };
    });
    const verdict = judgeProportion({ firstDay: TRIAL_START, days, skip: isBankHoliday }, settings);
    seriesDays += verdict.days.filter((d) => d.state === 'judged').length;
    alarms += verdict.episodes.length;
  }
  return { seriesDays, alarms, per1000: (alarms / Math.max(1, seriesDays)) * 1000 };
}

// ---- flow stopped ----

/** Share of a day's transitions in each London hour: a working day, busy 08:00 to 18:00, with an
 * evening tail and quiet nights; weekends (and bank holidays) at a third of a weekday. */
export const WORKING_HOURS: readonly number[] = (() => {
  const hours = Array.from({ length: 24 }, (_, h) =>
    h >= 8 && h < 18 ? 1 : h >= 18 && h < 22 ? 0.4 : h >= 6 && h < 8 ? 0.3 : 0.05,
  );
  const total = hours.reduce((a, b) => a + b, 0);
  return hours.map((h) => h / total);
})();

export interface FlowShape {
  name: string;
  /** Transitions on a weekday. */
  perWeekday: number;
  /** Mean burst size (1: transitions arrive one by one). */
  burst: number;
}

export const FLOW_SHAPES: readonly FlowShape[] = [
  { name: 'district, 15 a weekday', perWeekday: 15, burst: 1 },
  { name: 'district, 40 a weekday, in bursts of 2.5', perWeekday: 40, burst: 2.5 },
  { name: 'whole feed, 400 a weekday, in bursts of 2', perWeekday: 400, burst: 2 },
];

export const FLOW_SETTINGS: FlowSettings = { baselineWeeks: 8, minBaselineWeeks: 4, falseAlarmDays: 3000 };

function rateAt(shape: FlowShape, utcMs: number): number {
  const local = utcMs + londonOffsetMs(utcMs);
  const day = Math.floor(local / DAY_MS);
  const hour = Math.floor((local - day * DAY_MS) / 3_600_000);
  const quiet = weekdayOf(day) >= 5 || isBankHoliday(day);
  return shape.perWeekday * (quiet ? 1 / 3 : 1) * (WORKING_HOURS[hour] as number);
}

/** Transition instants for `days` days from TRIAL_START, and their hourly counts by London day. */
export function simulateFlow(
  shape: FlowShape,
  days: number,
  random: Random,
  stopAt = Number.POSITIVE_INFINITY,
): { events: number[]; hours: Uint16Array[] } {
  const start = londonLocalToUtc(TRIAL_START * DAY_MS);
  const end = londonLocalToUtc((TRIAL_START + days) * DAY_MS);
  const hours = Array.from({ length: days }, () => new Uint16Array(24));
  const events: number[] = [];
  for (let t = start; t < end; t += 3_600_000) {
    const clusters = random.poisson(rateAt(shape, t) / shape.burst);
    const at: number[] = [];
    for (let c = 0; c < clusters; c++) {
      const when = t + Math.floor(random.uniform() * 3_600_000);
      // Burst sizes: 1 + geometric, mean `burst`.
      let size = 1;
      while (random.uniform() < 1 - 1 / shape.burst) size++;
      for (let k = 0; k < size; k++) if (when < stopAt) at.push(when);
    }
    at.sort((a, b) => a - b);
    for (const when of at) {
      events.push(when);
      const local = when + londonOffsetMs(when);
      const day = Math.floor(local / DAY_MS) - TRIAL_START;
      const hour = Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / 3_600_000);
      const row = hours[day];
      if (row) row[hour] = (row[hour] as number) + 1;
    }
  }
  return { events, hours };
}

/** Runs the rule as the schedule would: the profile refitted each day, a check every `everyMinutes`.
 * Calls `onCheck` with each check's verdict. */
function replayFlow(
  simulated: { events: number[]; hours: Uint16Array[] },
  fromDay: number,
  toDay: number,
  everyMinutes: number,
  settings: FlowSettings,
  onCheck: (nowMs: number, verdict: FlowVerdict) => boolean | undefined,
): void {
  let next = 0;
  let last: number | undefined;
  for (let d = fromDay; d < toDay; d++) {
    const fit = fitFlowProfile(
      { firstDay: TRIAL_START, hours: simulated.hours.slice(0, d), skip: isBankHoliday },
      settings,
    );
    const dayStart = londonLocalToUtc((TRIAL_START + d) * DAY_MS);
    const dayEnd = londonLocalToUtc((TRIAL_START + d + 1) * DAY_MS);
    let deadlineFor: number | undefined;
    let deadline: number | undefined;
    for (let now = dayStart; now < dayEnd; now += everyMinutes * 60_000) {
      while (next < simulated.events.length && (simulated.events[next] as number) <= now) {
        last = simulated.events[next] as number;
        next += 1;
      }
      if (fit.state !== 'ready' || last === undefined) {
        if (onCheck(now, judgeFlow(fit, last, now, isBankHoliday))) return;
        continue;
      }
      if (deadlineFor !== last) {
        deadlineFor = last;
        deadline = quietDeadline(fit.profile, last, isBankHoliday);
      }
      const raised = deadline !== undefined && now >= deadline;
      const verdict: FlowVerdict = {
        state: raised ? 'raised' : 'normal',
        ...(deadline !== undefined ? { deadline } : {}),
      };
      if (onCheck(now, verdict)) return;
    }
  }
}

/** Chance silences raised on normal traffic, per 1,000 series-days. */
export function flowFalseAlarmTrial(
  options: { days: number; seriesPerShape: number; seed: number; everyMinutes?: number },
  settings: FlowSettings = FLOW_SETTINGS,
): {
  seriesDays: number;
  alarms: number;
  per1000: number;
  byShape: Array<{ shape: string; alarms: number }>;
} {
  const learning = settings.minBaselineWeeks * 7;
  let alarms = 0;
  let seriesDays = 0;
  const byShape: Array<{ shape: string; alarms: number }> = [];
  for (const [s, shape] of FLOW_SHAPES.entries()) {
    let shapeAlarms = 0;
    for (let k = 0; k < options.seriesPerShape; k++) {
      const random = createRandom(options.seed + 1000 * s + k);
      const simulated = simulateFlow(shape, learning + options.days, random);
      let raised = false;
      replayFlow(
        simulated,
        learning,
        learning + options.days,
        options.everyMinutes ?? 15,
        settings,
        (_, v) => {
          if (v.state === 'raised' && !raised) shapeAlarms += 1;
          raised = v.state === 'raised';
          return undefined;
        },
      );
      seriesDays += options.days;
    }
    alarms += shapeAlarms;
    byShape.push({ shape: shape.name, alarms: shapeAlarms });
  }
  return { seriesDays, alarms, per1000: (alarms / Math.max(1, seriesDays)) * 1000, byShape };
}

export interface FlowStopTrial {
  /** Per trial: hours from the stop to the alarm, and minutes from the deadline to the alarm. */
  hoursToRaise: number[];
  lateByMinutes: number[];
  missed: number;
}

/** Stops the flow at a random instant after the baseline and times the alarm. */
export function flowStopTrial(
  options: { trials: number; seed: number; shape?: FlowShape; everyMinutes?: number },
  settings: FlowSettings = FLOW_SETTINGS,
): FlowStopTrial {
  const shape = options.shape ?? (FLOW_SHAPES[0] as FlowShape);
  const every = options.everyMinutes ?? 15;
  const baselineDays = settings.baselineWeeks * 7;
  const result: FlowStopTrial = { hoursToRaise: [], lateByMinutes: [], missed: 0 };
  for (let k = 0; k < options.trials; k++) {
    const random = createRandom(options.seed + k);
    const stopDay = baselineDays + (k % 7);
    const stopAt = londonLocalToUtc((TRIAL_START + stopDay) * DAY_MS) + Math.floor(random.uniform() * DAY_MS);
    const simulated = simulateFlow(shape, stopDay + 7, random, stopAt);
    let found = false;
    replayFlow(simulated, stopDay, stopDay + 7, every, settings, (now, v) => {
      if (now < stopAt || v.state !== 'raised' || v.deadline === undefined) return undefined;
      result.hoursToRaise.push((now - stopAt) / 3_600_000);
      result.lateByMinutes.push((now - v.deadline) / 60_000);
      found = true;
      return true;
    });
    if (!found) result.missed += 1;
  }
  return result;
}
