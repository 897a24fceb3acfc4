// Flow: a case's stage transitions, as the mirror saw them happen. Pure: what a transition is,
// its identity (so a repeat never counts twice), its London day and hour, and the compact key a
// day's counts are kept under. The silence signals count these.

import { DAY_MS, isoDateOfEpochDay, londonOffsetMs } from './calendar.ts';
import {
  type CaseRecord,
  caseRecordSchema,
  RISK_LEVELS,
  type RiskLevel,
  STAGES,
  type Stage,
} from './case.ts';
import * as z from './zod.ts';

/** A case the mirror had not seen before: where its first stage "came from". */
export const FROM_NEW = 'new';
export const FROM_STAGES = [FROM_NEW, ...STAGES] as const;
export type FromStage = (typeof FROM_STAGES)[number];

/**
 * A case the mirror sees for the first time counts as an arrival only if it entered its stage this
 * recently: a case first seen in a stage it entered weeks ago is a first load of history, not flow
 * (load past flow with `queuewatch flow import` instead).
 */
export const FIRST_SIGHTING_MS = 48 * 3_600_000;

export interface Transition {
  caseRef: string;
  district: string;
  category: string;
  riskLevel: RiskLevel;
  childrenInvolved: boolean;
  from: FromStage;
  to: Stage;
  /** When the case entered `to` (the source's stageEnteredAt), ISO 8601 UTC. */
  at: string;
}

/** The transition a write made, judged from the case before (undefined: none stored) and after.
 * No transition when the stage did not change (a re-grade, a correction, a clock restart). */
export function transitionOf(
  before: Pick<CaseRecord, 'stage'> | undefined,
  after: CaseRecord,
  observedAtMs: number,
): Transition | undefined {
  if (before?.stage === after.stage) return undefined;
  if (!before && Date.parse(after.stageEnteredAt) < observedAtMs - FIRST_SIGHTING_MS) return undefined;
  return {
    caseRef: after.caseRef,
    district: after.district,
    category: after.category,
    riskLevel: after.riskLevel,
    childrenInvolved: after.childrenInvolved,
    from: before ? before.stage : FROM_NEW,
    to: after.stage,
    at: after.stageEnteredAt,
  };
}

/** A transition's identity: the case, the stage it entered and when. The feed, a replay, a re-run
 * import and a history import of the same move all give the same id, so it is stored once. */
export const transitionId = (t: Pick<Transition, 'caseRef' | 'to' | 'at'>) => `${t.caseRef}#${t.to}#${t.at}`;

/** Whether a stored value is an instant as a transition's `at` is stored: ISO 8601 UTC, exactly as
 * `toISOString` writes it. Only such instants order as strings do (a district's latest transition
 * is kept with a string comparison), so anything else is a malformed marker, not an instant. */
export function isStoredInstant(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}

/** The London calendar day (days since 1970-01-01) and hour (0-23) of an instant. */
export function londonDayAndHour(utcMs: number): { day: number; hour: number } {
  const local = utcMs + londonOffsetMs(utcMs);
  const day = Math.floor(local / DAY_MS);
  return { day, hour: Math.floor((local - day * DAY_MS) / 3_600_000) };
}

export const londonDay = (utcMs: number) => londonDayAndHour(utcMs).day;
export const dayText = (epochDay: number) => isoDateOfEpochDay(epochDay);

/** The attributes a day's counts are kept by: one count per distinct key. */
export interface FlowKey {
  from: FromStage;
  to: Stage;
  category: string;
  riskLevel: RiskLevel;
  childrenInvolved: boolean;
}

export const flowKey = (t: FlowKey) =>
  `${t.from}>${t.to}|${t.category}|${t.riskLevel}|${t.childrenInvolved ? 'c' : '-'}`;

const FLOW_KEY = /^([a-z-]+)>([a-z-]+)\|([a-z][a-z0-9-]*)\|([a-z]+)\|([c-])$/;
const FROM_SET: ReadonlySet<string> = new Set(FROM_STAGES);
const TO_SET: ReadonlySet<string> = new Set(STAGES);
const RISK_SET: ReadonlySet<string> = new Set(RISK_LEVELS);

/** Reads a key back; undefined for anything that is not one (a stored item is not trusted). */
export function parseFlowKey(key: string): FlowKey | undefined {
  const m = FLOW_KEY.exec(key);
  if (!m) return undefined;
  const [, from, to, category, riskLevel, children] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!FROM_SET.has(from) || !TO_SET.has(to) || !RISK_SET.has(riskLevel)) return undefined;
  return {
    from: from as FromStage,
    to: to as Stage,
    category,
    riskLevel: riskLevel as RiskLevel,
    childrenInvolved: children === 'c',
  };
}

/** One district's flow on one London day: counts by key, by hour, and the last transition. */
export interface DayFlow {
  day: number;
  counts: Record<string, number>;
  /** Transitions in each London local hour. */
  hours: number[];
  /** The latest transition's instant (ISO), if any. */
  last?: string;
}

export function emptyDayFlow(day: number): DayFlow {
  return { day, counts: {}, hours: Array.from({ length: 24 }, () => 0) };
}

/** Adds transitions to a day's flow (every one must fall on that day). */
export function addToDay(flow: DayFlow, transitions: Iterable<Transition>): DayFlow {
  for (const t of transitions) {
    const key = flowKey(t);
    flow.counts[key] = (flow.counts[key] ?? 0) + 1;
    const { hour } = londonDayAndHour(Date.parse(t.at));
    flow.hours[hour] = (flow.hours[hour] ?? 0) + 1;
    if (flow.last === undefined || t.at > flow.last) flow.last = t.at;
  }
  return flow;
}

const withOffset = z.iso.datetime({ offset: true });
const instant = z.pipe(
  z.string({ error: 'at must be an ISO 8601 instant string' }).check(
    z.maxLength(40, 'at is too long for an ISO 8601 instant'),
    z.refine((s) => withOffset.safeParse(s).success, {
      error: 'at is not an ISO 8601 instant with an offset (e.g. 2026-03-29T00:30:00Z)',
    }),
  ),
  z.transform((s: string) => new Date(s).toISOString()),
);

/** A transition as an export of past flow gives it (and as it is stored): strict, no other field
 * survives. `at` is normalised to UTC like every instant in the mirror. */
export const transitionSchema = z
  .object({
    caseRef: caseRecordSchema.shape.caseRef,
    district: caseRecordSchema.shape.district,
    category: caseRecordSchema.shape.category,
    riskLevel: caseRecordSchema.shape.riskLevel,
    childrenInvolved: caseRecordSchema.shape.childrenInvolved,
    from: z.enum(FROM_STAGES, { error: `from must be one of ${FROM_STAGES.join(', ')}` }),
    to: z.enum(STAGES, { error: `to must be one of ${STAGES.join(', ')}` }),
    at: instant,
  })
  .check(
    z.refine((t) => t.from !== t.to, {
      error: 'from and to are the same stage: not a transition',
      path: ['to'],
    }),
  );
