// When the daily picture falls due: the config's London wall-clock time on each day, as a UTC
// instant, right across daylight-saving changes. Pure: `now` is a parameter.

import { clockMinutes, DAY_MS, londonLocalToUtc, londonOffsetMs } from '../domain/calendar.ts';

const HOUR_MS = 3_600_000;

/** A digest due this long ago and still not sent is overdue: the alarm's "no picture by mid-morning"
 * (07:00 plus three hours). */
export const DIGEST_OVERDUE_AFTER_MS = 3 * HOUR_MS;

/** One day's digest: the London date it is for, and when it fell due. */
export interface DigestSlot {
  /** YYYY-MM-DD, the London date of `dueAtMs`. */
  day: string;
  dueAtMs: number;
}

/** The latest slot at or before `nowMs`: today's when `at` has passed in London, else yesterday's. A
 * slot stays the current one until the next falls due, so a run that could not send at `at` sends
 * later that day rather than never. */
export function currentSlot(at: string, nowMs: number): DigestSlot {
  const offsetMs = clockMinutes(at) * 60_000;
  // London midnight of today, as if London time were UTC.
  let localMidnight = Math.floor((nowMs + londonOffsetMs(nowMs)) / DAY_MS) * DAY_MS;
  let dueAtMs = londonLocalToUtc(localMidnight + offsetMs);
  if (dueAtMs > nowMs) {
    localMidnight -= DAY_MS;
    dueAtMs = londonLocalToUtc(localMidnight + offsetMs);
  }
  return { day: new Date(localMidnight).toISOString().slice(0, 10), dueAtMs };
}

/** The slot before `slot`: yesterday's, on the London day before (23 or 25 hours earlier across a
 * clock change). */
export const previousSlot = (at: string, slot: DigestSlot): DigestSlot => currentSlot(at, slot.dueAtMs - 1);

/** Where "since yesterday" starts for a picture taken at `nowMs`: when the previous slot fell due.
 * Each day's window runs from the previous slot's due time to when its digest is taken, so no hour
 * falls between two days' windows across the clock changes or after a late digest (a late one's
 * late hours are listed again the next day, never missed). */
export const sinceYesterdayMs = (at: string, nowMs: number): number =>
  previousSlot(at, currentSlot(at, nowMs)).dueAtMs;

/** The London date `days` before (or after, when negative) a YYYY-MM-DD date. */
export function dayBefore(day: string, days: number): string {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new RangeError(`not a calendar date: ${day}`);
  return new Date(ms - days * DAY_MS).toISOString().slice(0, 10);
}
