// The working-day clock: Monday to Friday in Europe/London, less England and Wales bank holidays.
// Offsets come from the UK summer-time rule, computed once per year and cached, so "same local time
// on the Nth working day" stays right across daylight-saving changes. London times are written
// here too, in words fixed by the code rather than by the runtime's locale data.
// The calendar answers for any day. Outside the bank-holiday list's coverage it knows weekends and
// extraNonWorkingDays but no bank holidays, so a deadline there can only come early (the loud
// direction, never a missed alert); `isCovered` and `uncoveredAnswers` let the caller tell ops.

import { COVERED_FROM, COVERED_UNTIL, ENGLAND_AND_WALES_BANK_HOLIDAYS } from './bank-holidays.ts';

export const TIME_ZONE = 'Europe/London';
const HOUR = 3_600_000;
export const DAY_MS = 24 * HOUR;

/** Minutes after midnight of a wall-clock time, HH:MM (24-hour), as the configs give a London time;
 * a RangeError for anything else. */
export function clockMinutes(hhmm: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!match) throw new RangeError(`not a time like 07:00: ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** The days since 1970-01-01 of an ISO calendar date (YYYY-MM-DD). */
export function epochDay(isoDate: string): number {
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new RangeError(`not a calendar date: ${isoDate}`);
  return ms / DAY_MS;
}

export function isoDateOfEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a day (days since 1970-01-01, a Thursday) is Monday to Friday. */
export const isWeekday = (day: number): boolean => (((day + 3) % 7) + 7) % 7 < 5;

/** UK summer time as the Summer Time Order 2002 has it (and the EU rule in force since 1996): from
 * 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October. Coded rather
 * than asked of `Intl`, whose first use loads ICU's data at about 20 ms of every function's cold
 * start, and whose wording of a date differs between ICU versions (Node.js 20 here, 22 on Lambda).
 * `calendar.test.ts` checks the rule against the runtime's time-zone database for every year to
 * 2100, so a change in the law fails the suite once the database has it. Years before the rule ask
 * `Intl` (loaded then). */
const RULE_SINCE_YEAR = 1996;

/** 01:00 UTC on the last Sunday of a month (0-based). */
function lastSundayAt1Utc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0);
  const weekday = new Date(lastDay).getUTCDay(); // 0 = Sunday
  return lastDay - weekday * DAY_MS + HOUR;
}

let offsetFormatter: Intl.DateTimeFormat | undefined;

/** Offset of London local time from UTC at an instant, straight from Intl (years before the rule). */
function intlOffsetMs(utcMs: number): number {
  offsetFormatter ??= new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const parts = offsetFormatter.formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  const truncated = utcMs - (((utcMs % 60_000) + 60_000) % 60_000);
  return local - truncated;
}

interface YearOffsets {
  start: number;
  end: number;
  /** Offset in force from each instant on, sorted; the first starts at the year's start. */
  changes: Array<{ at: number; offset: number }>;
}

const years = new Map<number, YearOffsets>();

function offsetsForYear(year: number): YearOffsets {
  const cached = years.get(year);
  if (cached) return cached;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const changes =
    year >= RULE_SINCE_YEAR
      ? [
          { at: start, offset: 0 },
          { at: lastSundayAt1Utc(year, 2), offset: HOUR },
          { at: lastSundayAt1Utc(year, 9), offset: 0 },
        ]
      : intlChanges(start, end);
  const entry = { start, end, changes };
  years.set(year, entry);
  return entry;
}

/** The offsets of a year before the rule, from Intl: probed daily, then bisected to the minute. */
function intlChanges(start: number, end: number): YearOffsets['changes'] {
  const changes = [{ at: start, offset: intlOffsetMs(start) }];
  for (let t = start; t < end; t += DAY_MS) {
    const next = Math.min(t + DAY_MS, end);
    const before = intlOffsetMs(t);
    if (intlOffsetMs(next) === before) continue;
    let lo = t;
    let hi = next;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (intlOffsetMs(mid) === before) lo = mid;
      else hi = mid;
    }
    changes.push({ at: hi, offset: intlOffsetMs(hi) });
  }
  return changes;
}

/** Per UTC day: the offset at its start, and the instant and offset of a change within it. */
const days = new Map<number, { offset: number; changeAt: number; after: number }>();

function offsetOfDay(day: number) {
  const start = day * DAY_MS;
  const { changes } = offsetsForYear(new Date(start).getUTCFullYear());
  let offset = changes[0]?.offset ?? 0;
  let changeAt = Number.POSITIVE_INFINITY;
  let after = offset;
  for (const change of changes) {
    if (change.at <= start) offset = change.offset;
    else if (change.at < start + DAY_MS) {
      changeAt = change.at;
      after = change.offset;
    }
  }
  const entry = { offset, changeAt, after };
  days.set(day, entry);
  return entry;
}

/** London's offset from UTC, in ms, at a UTC instant (cached per day: the engine asks often). */
export function londonOffsetMs(utcMs: number): number {
  const day = Math.floor(utcMs / DAY_MS);
  const entry = days.get(day) ?? offsetOfDay(day);
  return utcMs >= entry.changeAt ? entry.after : entry.offset;
}

/** The UTC instant of a London wall-clock time (ms since epoch, as if UTC). A time that the
 * spring change skips resolves to the instant after the gap; an autumn repeat to the first. */
export function londonLocalToUtc(localMs: number): number {
  // `first` reads the offset in force an hour earlier: right for every existing time (the first of
  // a repeated one), and for a skipped time it keeps the pre-change offset, so 01:30 on the spring
  // day lands at 02:30 BST, after the gap. (Using the offset after the change put it before.)
  return localMs - londonOffsetMs(localMs - HOUR);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
/** As en-GB has them today ("Sept" since CLDR 38; they were "Sep" before). */
const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const weekdayShort = (day: number) => WEEKDAYS[day]?.slice(0, 3);
const twoDigits = (n: number) => String(n).padStart(2, '0');

/** The London wall clock at an instant, read off a Date that holds it as if it were UTC. */
const londonWall = (utcMs: number) => new Date(utcMs + londonOffsetMs(utcMs));
const clockOf = (wall: Date) => `${twoDigits(wall.getUTCHours())}:${twoDigits(wall.getUTCMinutes())}`;

/** "27 Nov 2026, 09:00 London time": how messages and the acknowledgement page show an instant. */
export function formatLondon(utcMs: number): string {
  const wall = londonWall(utcMs);
  return `${wall.getUTCDate()} ${MONTHS_SHORT[wall.getUTCMonth()]} ${wall.getUTCFullYear()}, ${clockOf(wall)} London time`;
}

/** "09:00": the London time of day at an instant. */
export const formatLondonClock = (utcMs: number) => clockOf(londonWall(utcMs));

/** "Thu 06:12": the London weekday and time at an instant. */
export function formatLondonWeekdayClock(utcMs: number): string {
  const wall = londonWall(utcMs);
  return `${weekdayShort(wall.getUTCDay())} ${clockOf(wall)}`;
}

/** "Thursday 19 November at 06:12": an instant in London, in full. */
export function formatLondonLong(utcMs: number): string {
  const wall = londonWall(utcMs);
  return `${WEEKDAYS[wall.getUTCDay()]} ${wall.getUTCDate()} ${MONTHS[wall.getUTCMonth()]} at ${clockOf(wall)}`;
}

/** "Fri 27 Nov 2026" (`year`) or "27 Nov" for a calendar date, YYYY-MM-DD. */
export function formatDate(isoDate: string, style: 'year' | 'short'): string {
  const date = new Date(epochDay(isoDate) * DAY_MS);
  const dayMonth = `${date.getUTCDate()} ${MONTHS_SHORT[date.getUTCMonth()]}`;
  return style === 'short'
    ? dayMonth
    : `${weekdayShort(date.getUTCDay())} ${dayMonth} ${date.getUTCFullYear()}`;
}

export interface WorkingCalendar {
  isWorkingDay(epochDay: number): boolean;
  /** The same London local time on the Nth working day after the one the instant falls on. */
  addWorkingDays(utcMs: number, days: number): number;
  /** The London dates (YYYY-MM-DD, inclusive) whose bank holidays the calendar knows. */
  readonly coverage: { readonly from: string; readonly until: string };
  /** Whether the London date of an instant is within coverage. An addWorkingDays answer used only
   * covered days when its start and its result are both covered (coverage is one unbroken span). */
  isCovered(utcMs: number): boolean;
  /** How many answers so far (isWorkingDay calls and addWorkingDays results) depended on a day
   * outside coverage; it only grows, so compare it before and after a piece of work. */
  readonly uncoveredAnswers: number;
}

const firstCovered = epochDay(COVERED_FROM);
const lastCovered = epochDay(COVERED_UNTIL);
const covered = (day: number) => day >= firstCovered && day <= lastCovered;
/** The London date of an instant, as days since 1970-01-01. */
const londonDay = (utcMs: number) => Math.floor((utcMs + londonOffsetMs(utcMs)) / DAY_MS);

/** A working-day calendar; `extraNonWorkingDays` (YYYY-MM-DD) lets admins add a newly announced
 * bank holiday without a release, inside the list's coverage or beyond it. */
export function createWorkingCalendar(extraNonWorkingDays: readonly string[] = []): WorkingCalendar {
  const holidays = new Set<number>(ENGLAND_AND_WALES_BANK_HOLIDAYS.map(([date]) => epochDay(date)));
  for (const date of extraNonWorkingDays) holidays.add(epochDay(date));
  const targets = new Map<number, number>();
  let uncoveredAnswers = 0;

  const workingDay = (day: number): boolean => isWeekday(day) && !holidays.has(day);

  const nthWorkingDayAfter = (day: number, n: number): number => {
    const key = day * 128 + n;
    const cached = targets.get(key);
    if (cached !== undefined) return cached;
    let d = day;
    for (let counted = 0; counted < n; ) {
      d += 1;
      if (workingDay(d)) counted += 1;
    }
    targets.set(key, d);
    return d;
  };

  return {
    isWorkingDay(day) {
      if (!covered(day)) uncoveredAnswers += 1;
      return workingDay(day);
    },
    addWorkingDays(utcMs, n) {
      const local = utcMs + londonOffsetMs(utcMs);
      const day = Math.floor(local / DAY_MS);
      const timeOfDay = local - day * DAY_MS;
      const target = nthWorkingDayAfter(day, n);
      if (!covered(day) || !covered(target)) uncoveredAnswers += 1;
      return londonLocalToUtc(target * DAY_MS + timeOfDay);
    },
    coverage: { from: COVERED_FROM, until: COVERED_UNTIL },
    isCovered: (utcMs) => covered(londonDay(utcMs)),
    get uncoveredAnswers() {
      return uncoveredAnswers;
    },
  };
}
