// Judges every signal from flow history, pure: each rate and proportion per district over its
// days (up to yesterday), and the flow-stopped rule per district and for the whole feed (now).
// What comes out says, for each series, whether it is learning, normal or raised, with what was
// seen and what is normal: the run decides from it what to send.

import type { CompiledConfig } from '../config/compile.ts';
import type { CountSignal } from '../config/compile-signals.ts';
import { FEED_STOPPED_ID, FLOW_STOPPED_ID } from '../config/signals-schema.ts';
import { type DayFlow, londonDay, parseFlowKey } from '../domain/flow.ts';
import { fitFlowProfile, judgeFlow, type ProfileFit } from '../domain/silence/flow-stopped.ts';
import {
  type DetectorSettings,
  judgeCounts,
  judgeProportion,
  type SeriesState,
  weekdayOf,
} from '../domain/silence/series.ts';

/** A series: one signal in one district, or a whole-feed signal (district undefined). */
export interface SeriesKey {
  signal: string;
  district?: string;
}

export const seriesName = (k: SeriesKey) => `${k.signal}#${k.district ?? '*'}`;

interface Base extends SeriesKey {
  state: SeriesState;
  /** Learning: the first day (ISO date) with enough history, when known. */
  learningUntil?: string;
}

export interface RateStatus extends Base {
  kind: 'rate';
  /** Counted and normally expected over the last judged week. */
  observed: number;
  expected: number;
  days: number;
  /** The fall's estimated first day (ISO date), while raised. */
  fallSince?: string;
}

export interface ProportionStatus extends Base {
  kind: 'proportion';
  successes: number;
  trials: number;
  days: number;
  normal?: number;
  against?: 'own' | 'floor';
  fallSince?: string;
}

export interface FlowStatus extends Base {
  kind: 'flow-stopped' | 'feed-stopped';
  /** The latest transition (ISO), and when silence since it becomes abnormal. */
  last?: string;
  deadline?: string;
  /** Transitions normally expected since the last one. */
  expected?: number;
  /** Raised, but not sent: the whole feed is stopped, which says it for every district. */
  inhibited?: boolean;
}

export type SignalStatus = RateStatus | ProportionStatus | FlowStatus;

/** What the run read: each district's days from `firstDay` (inclusive) to yesterday. */
export interface FlowHistory {
  firstDay: number;
  /** By district, one DayFlow per day from firstDay; a district absent has no history. */
  days: Map<string, DayFlow[]>;
  /** Each district's first day of flow (its days before are not zero: they are unknown). */
  since: Map<string, number>;
  /** Each district's latest transition (ISO). */
  last: Map<string, string>;
}

const isoDate = (epochDay: number) => new Date(epochDay * 86_400_000).toISOString().slice(0, 10);

/** Bank holidays: weekdays the config's calendar says are not working days. */
export function bankHolidays(config: CompiledConfig): (day: number) => boolean {
  return (day) => weekdayOf(day) < 5 && !config.calendar.isWorkingDay(day);
}

function detectorSettings(config: CompiledConfig, signal: CountSignal): DetectorSettings {
  return { ...config.signals.settings, fall: signal.fall };
}

/** A district's days from its own first day of flow (days before it are unknown, not zero). */
function ownDays(history: FlowHistory, district: string): { firstDay: number; days: DayFlow[] } | undefined {
  const since = history.since.get(district);
  const days = history.days.get(district);
  if (since === undefined || !days) return undefined;
  const from = Math.max(since, history.firstDay);
  return { firstDay: from, days: days.slice(from - history.firstDay) };
}

function tally(days: DayFlow[], keep: (key: ReturnType<typeof parseFlowKey> & object) => boolean): number[] {
  return days.map((d) => {
    let n = 0;
    for (const [text, count] of Object.entries(d.counts)) {
      const key = parseFlowKey(text);
      if (key && keep(key)) n += count;
    }
    return n;
  });
}

/** Rates and proportions, judged over complete days up to yesterday. */
export function judgeDaily(config: CompiledConfig, history: FlowHistory): SignalStatus[] {
  const skip = bankHolidays(config);
  const out: SignalStatus[] = [];
  for (const district of Object.keys(config.file.districts)) {
    const own = ownDays(history, district);
    for (const rate of config.signals.rates) {
      if (!own || own.days.length === 0) {
        out.push({
          kind: 'rate',
          signal: rate.id,
          district,
          state: 'learning',
          observed: 0,
          expected: 0,
          days: 0,
        });
        continue;
      }
      const verdict = judgeCounts(
        { firstDay: own.firstDay, counts: tally(own.days, rate.counts), skip },
        detectorSettings(config, rate),
      );
      const open = verdict.state === 'raised' ? verdict.episodes.at(-1) : undefined;
      out.push({
        kind: 'rate',
        signal: rate.id,
        district,
        state: verdict.state,
        observed: verdict.recent.observed,
        expected: verdict.recent.expected,
        days: verdict.recent.days,
        ...(open ? { fallSince: isoDate(open.start) } : {}),
        ...(verdict.learningUntil !== undefined ? { learningUntil: isoDate(verdict.learningUntil) } : {}),
      });
    }
    for (const p of config.signals.proportions) {
      if (!own || own.days.length === 0) {
        const floor = p.floor;
        out.push({
          kind: 'proportion',
          signal: p.id,
          district,
          state: 'learning',
          successes: 0,
          trials: 0,
          days: 0,
          ...(floor !== undefined ? { normal: floor, against: 'floor' as const } : {}),
        });
        continue;
      }
      const trials = tally(own.days, p.judged);
      const successes = tally(own.days, p.referred);
      const verdict = judgeProportion(
        {
          firstDay: own.firstDay,
          days: trials.map((n, i) => ({ trials: n, successes: successes[i] as number })),
          skip,
        },
        { ...detectorSettings(config, p), ...(p.floor !== undefined ? { floor: p.floor } : {}) },
      );
      const open = verdict.state === 'raised' ? verdict.episodes.at(-1) : undefined;
      out.push({
        kind: 'proportion',
        signal: p.id,
        district,
        state: verdict.state,
        successes: verdict.recent.successes,
        trials: verdict.recent.trials,
        days: verdict.recent.days,
        ...(verdict.normal !== undefined ? { normal: verdict.normal, against: verdict.against } : {}),
        ...(open ? { fallSince: isoDate(open.start) } : {}),
        ...(verdict.learningUntil !== undefined ? { learningUntil: isoDate(verdict.learningUntil) } : {}),
      });
    }
  }
  return out;
}

/** Fitted flow profiles per district ('*': the whole feed), to keep for the rest of the day. */
export type ProfileCache = Map<string, { day: number; fit: ProfileFit }>;

/** Flow stopped, per district and for the whole feed, now. */
export function judgeFlowStopped(
  config: CompiledConfig,
  history: FlowHistory,
  nowMs: number,
  cache: ProfileCache = new Map(),
): SignalStatus[] {
  const { flowStopped, settings } = config.signals;
  if (!flowStopped.districts && !flowStopped.feed) return [];
  const skip = bankHolidays(config);
  const today = londonDay(nowMs);
  const profile = (name: string, build: () => { firstDay: number; hours: number[][] } | undefined) => {
    const cached = cache.get(name);
    if (cached?.day === today) return cached.fit;
    const h = build();
    const fit: ProfileFit = h
      ? fitFlowProfile({ ...h, skip }, settings)
      : { state: 'learning', until: today + settings.minBaselineWeeks * 7 };
    cache.set(name, { day: today, fit });
    return fit;
  };
  const status = (
    kind: FlowStatus['kind'],
    district: string | undefined,
    fit: ProfileFit,
    last: string | undefined,
  ): FlowStatus => {
    const verdict = judgeFlow(fit, last === undefined ? undefined : Date.parse(last), nowMs, skip);
    return {
      kind,
      signal: kind === 'feed-stopped' ? FEED_STOPPED_ID : FLOW_STOPPED_ID,
      ...(district ? { district } : {}),
      state: verdict.state,
      ...(last ? { last } : {}),
      ...(verdict.deadline !== undefined ? { deadline: new Date(verdict.deadline).toISOString() } : {}),
      ...(verdict.expected !== undefined ? { expected: verdict.expected } : {}),
      ...(verdict.learningUntil !== undefined ? { learningUntil: isoDate(verdict.learningUntil) } : {}),
    };
  };

  const districts = Object.keys(config.file.districts);
  const out: FlowStatus[] = [];
  let feed: FlowStatus | undefined;
  if (flowStopped.feed) {
    const known = districts.filter((d) => history.since.has(d));
    const fit = profile('*', () => {
      if (known.length === 0) return undefined;
      // From the first district's first day: one that started later adds nothing before it.
      const firstDay = Math.max(
        history.firstDay,
        Math.min(...known.map((d) => history.since.get(d) as number)),
      );
      const length = today - firstDay;
      if (length <= 0) return undefined;
      const hours = Array.from({ length }, () => Array.from({ length: 24 }, () => 0));
      for (const d of known) {
        const days = history.days.get(d) ?? [];
        for (let i = 0; i < length; i++) {
          const day = days[firstDay - history.firstDay + i];
          if (!day) continue;
          for (let h = 0; h < 24; h++)
            (hours[i] as number[])[h] = ((hours[i] as number[])[h] as number) + (day.hours[h] ?? 0);
        }
      }
      return { firstDay, hours };
    });
    // Every district's last transition counts (`since` is not read when the profiles are cached).
    const last = districts
      .map((d) => history.last.get(d))
      .reduce<string | undefined>(
        (a, b) => (b !== undefined && (a === undefined || b > a) ? b : a),
        undefined,
      );
    feed = status('feed-stopped', undefined, fit, last);
    out.push(feed);
  }
  if (flowStopped.districts) {
    for (const district of districts) {
      const fit = profile(district, () => {
        const own = ownDays(history, district);
        if (!own) return undefined;
        const complete = own.days.filter((d) => d.day < today);
        return { firstDay: own.firstDay, hours: complete.map((d) => d.hours) };
      });
      const s = status('flow-stopped', district, fit, history.last.get(district));
      // The whole feed stopping says it for every district: one message, not eleven.
      if (s.state === 'raised' && feed?.state === 'raised') s.inhibited = true;
      out.push(s);
    }
  }
  return out;
}
