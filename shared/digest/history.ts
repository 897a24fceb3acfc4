// The trend against last week: each day's digest keeps a small snapshot of counts per district (no
// case at all), and a digest compares its place's counts now with the snapshot of 7 days before.

import { byCodeUnit } from '../domain/order.ts';
import * as z from '../domain/zod.ts';
import type { DigestHistory, DistrictSnapshot } from './ports.ts';
import { dayBefore } from './schedule.ts';

/** Days of snapshots kept: last week's, with a week to spare. */
export const HISTORY_DAYS = 15;
export const TREND_DAYS = 7;

const count = z.int().check(z.minimum(0));
export const districtSnapshotSchema = z.strictObject({
  open: count,
  high: count,
  medium: count,
  standard: count,
  warning: count,
  breach: count,
  escalation: count,
  oldestAgeMs: z.number().check(z.minimum(0)),
});
export const historySchema = z.record(
  z.iso.date(),
  z.record(z.string(), districtSnapshotSchema),
) satisfies z.ZodMiniType<DigestHistory>;

export const emptySnapshot = (): DistrictSnapshot => ({
  open: 0,
  high: 0,
  medium: 0,
  standard: 0,
  warning: 0,
  breach: 0,
  escalation: 0,
  oldestAgeMs: 0,
});

/** The history with `day`'s snapshot added (the first one taken that day stays: it is the one taken
 * when the digest fell due) and days older than HISTORY_DAYS dropped. */
export function withSnapshot(
  history: DigestHistory,
  day: string,
  snapshot: Record<string, DistrictSnapshot>,
): DigestHistory {
  const oldest = dayBefore(day, HISTORY_DAYS - 1);
  const kept = Object.entries({ [day]: snapshot, ...history }).filter(([d]) => d >= oldest && d <= day);
  return Object.fromEntries(kept.sort(([a], [b]) => byCodeUnit(a, b)));
}

export const sumSnapshots = (snapshots: DistrictSnapshot[]): DistrictSnapshot =>
  snapshots.reduce(
    (sum, s) => ({
      open: sum.open + s.open,
      high: sum.high + s.high,
      medium: sum.medium + s.medium,
      standard: sum.standard + s.standard,
      warning: sum.warning + s.warning,
      breach: sum.breach + s.breach,
      escalation: sum.escalation + s.escalation,
      oldestAgeMs: Math.max(sum.oldestAgeMs, s.oldestAgeMs),
    }),
    emptySnapshot(),
  );

export interface Trend {
  /** The day compared with (7 days before the digest's day). */
  weekAgo: string;
  /** The place's counts now: over the districts compared when there is `before`, else all of them. */
  now: DistrictSnapshot;
  /** Absent when there is no snapshot from that day for any of the place's districts. */
  before?: DistrictSnapshot;
  /** The place's districts with no figures from a week ago (new to the config since), left out of
   * `now` and `before` so the two sum the same districts. Empty when there is no `before`. */
  notCompared: string[];
  /** Per district, when the place has more than one: now, and a week before where known. */
  districts: Array<{ district: string; now: DistrictSnapshot; before?: DistrictSnapshot }>;
}

/** A place's counts now against the snapshot of 7 days before `day`, over the districts known on
 * both days: a district added since would otherwise read as a rise of all its cases. */
export function trendFor(
  districts: readonly string[],
  day: string,
  now: Record<string, DistrictSnapshot>,
  history: DigestHistory,
): Trend {
  const weekAgo = dayBefore(day, TREND_DAYS);
  const past = history[weekAgo] ?? {};
  const known = districts.filter((d) => past[d] !== undefined);
  const nowOf = (d: string) => now[d] ?? emptySnapshot();
  const compared = known.length > 0;
  return {
    weekAgo,
    now: sumSnapshots((compared ? known : districts).map(nowOf)),
    ...(compared ? { before: sumSnapshots(known.map((d) => past[d] as DistrictSnapshot)) } : {}),
    notCompared: compared ? districts.filter((d) => past[d] === undefined) : [],
    districts:
      districts.length > 1
        ? districts.map((d) => ({
            district: d,
            now: nowOf(d),
            ...(past[d] ? { before: past[d] } : {}),
          }))
        : [],
  };
}
