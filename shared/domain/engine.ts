// The ageing engine: pure, given the cases, the compiled config and `now`. Per open case it finds
// the winning rule, the deadlines of each level and the level reached; nothing here reads a clock.
// It states what it needs of the config (AgeingConfig); config/compile.ts builds one.

import type { WorkingCalendar } from './calendar.ts';
import { type CaseView, isOpenStage } from './case.ts';
import type { Limit } from './duration.ts';
import { LEVELS, type Level, rankOf } from './levels.ts';
import { byCodeUnit } from './order.ts';

/** What the engine needs of a rule: its name and its three limits. */
export interface AgeingRule {
  id: string;
  warn: Limit;
  breach: Limit;
  escalate: Limit;
  /** When all three limits are elapsed time: each level's offset from the stage start (ms), kept
   * in order, so the engine needs no calendar and no allocation for this rule. */
  elapsedOffsets: readonly [number, number, number] | undefined;
}

/** What the engine needs of the config: the calendar, the winning rule of a case, the ceiling,
 * and who hears of a case at a level. `CompiledConfig` (config/compile.ts) is one. */
export interface AgeingConfig {
  calendar: WorkingCalendar;
  /** The winning rule for an open case; undefined only for attribute values the config does not know. */
  ruleFor(record: CaseView): AgeingRule | undefined;
  /** The catch-all rule: an absolute ceiling for every open case, on top of its own rule. */
  ceiling: AgeingRule;
  audiencesFor(record: CaseView, level: Level): readonly string[];
  ceilingAudiencesFor(record: CaseView, level: Level): readonly string[];
}

export type LevelOrNone = Level | 'none';

export interface Evaluation {
  record: CaseView;
  /** The higher of the level under the case's own rule and under the ceiling. */
  level: LevelOrNone;
  /** The level under the winning rule alone. */
  ruleLevel: LevelOrNone;
  /** The level under the absolute ceiling, which applies to every open case ('none' when the
   * ceiling is itself the winning rule: then `ruleLevel` is the ceiling's). */
  ceilingLevel: LevelOrNone;
  /** When the case entered its current stage (ms since epoch): its stageEnteredAt. */
  startMs: number;
  /** Time in the current stage at `now`, ms (0 if the stage starts in the future). */
  ageMs: number;
  rule: AgeingRule;
  /** The level that falls due next and when (ms since epoch); absent at escalation. */
  next?: { level: Level; at: number };
}

export function deadline(startMs: number, limit: Limit, calendar: WorkingCalendar): number {
  return limit.kind === 'elapsed' ? startMs + limit.ms : calendar.addWorkingDays(startMs, limit.days);
}

/** When each level falls due for a case entering its stage at `startMs`; never out of order, even
 * where a working-day limit is shorter in hours than the elapsed limit before it. */
export function levelDeadlines(
  startMs: number,
  rule: AgeingRule,
  calendar: WorkingCalendar,
): [number, number, number] {
  const warn = deadline(startMs, rule.warn, calendar);
  const breach = Math.max(warn, deadline(startMs, rule.breach, calendar));
  const escalate = Math.max(breach, deadline(startMs, rule.escalate, calendar));
  return [warn, breach, escalate];
}

/** Evaluates one case; undefined when the case is not open (closed, referral acknowledged) or has
 * attributes the config does not know (the edge rejects those before they get here). */
export function evaluateCase(record: CaseView, config: AgeingConfig, nowMs: number): Evaluation | undefined {
  if (!isOpenStage(record.stage)) return undefined;
  const rule = config.ruleFor(record);
  if (!rule) return undefined;
  const startMs = Date.parse(record.stageEnteredAt);
  const { calendar, ceiling } = config;
  const own = reachedLevel(startMs, rule, calendar, nowMs);
  const capped = rule === ceiling ? -1 : reachedLevel(startMs, ceiling, calendar, nowMs);
  const reached = Math.max(own, capped);
  const evaluation: Evaluation = {
    record,
    level: reached < 0 ? 'none' : (LEVELS[reached] as Level),
    ruleLevel: own < 0 ? 'none' : (LEVELS[own] as Level),
    ceilingLevel: capped < 0 ? 'none' : (LEVELS[capped] as Level),
    startMs,
    ageMs: Math.max(0, nowMs - startMs),
    rule,
  };
  if (reached < 2) {
    // The next level overall falls due at whichever clock reaches it first.
    const next = reached + 1;
    const at = dueAt(startMs, rule, calendar, next);
    evaluation.next = {
      level: LEVELS[next] as Level,
      at: rule === ceiling ? at : Math.min(at, dueAt(startMs, ceiling, calendar, next)),
    };
  }
  return evaluation;
}

/** The index of the level reached (-1: none, 0: warning, 1: breach, 2: escalation). */
function reachedLevel(startMs: number, rule: AgeingRule, calendar: WorkingCalendar, nowMs: number): number {
  const offsets = rule.elapsedOffsets;
  if (offsets) {
    const age = nowMs - startMs;
    return age >= offsets[2] ? 2 : age >= offsets[1] ? 1 : age >= offsets[0] ? 0 : -1;
  }
  const [warn, breach, escalate] = levelDeadlines(startMs, rule, calendar);
  return nowMs >= escalate ? 2 : nowMs >= breach ? 1 : nowMs >= warn ? 0 : -1;
}

function dueAt(startMs: number, rule: AgeingRule, calendar: WorkingCalendar, level: number): number {
  const offsets = rule.elapsedOffsets;
  return offsets
    ? startMs + (offsets[level] as number)
    : (levelDeadlines(startMs, rule, calendar)[level] as number);
}

/** Who hears of an alerting case, and at what level: the audiences of its own rule at its rule
 * level, and the ceiling's audiences at the ceiling level (an audience in both gets the higher). */
export function audienceLevels(e: Evaluation, config: AgeingConfig): Map<string, Level> {
  const out = new Map<string, Level>();
  if (e.ruleLevel !== 'none') {
    for (const audience of config.audiencesFor(e.record, e.ruleLevel)) out.set(audience, e.ruleLevel);
  }
  if (e.ceilingLevel !== 'none') {
    const level = e.ceilingLevel;
    for (const audience of config.ceilingAudiencesFor(e.record, level)) {
      const current = out.get(audience);
      if (current === undefined || rankOf(level) > rankOf(current)) out.set(audience, level);
    }
  }
  return out;
}

export interface EngineResult {
  /** Every open case, evaluated. */
  evaluations: Evaluation[];
  /** The open cases at warning or above, oldest first. */
  alerting: Evaluation[];
  closed: number;
}

export function evaluateAll(records: Iterable<CaseView>, config: AgeingConfig, nowMs: number): EngineResult {
  const evaluations: Evaluation[] = [];
  let closed = 0;
  for (const record of records) {
    const evaluation = evaluateCase(record, config, nowMs);
    if (evaluation) evaluations.push(evaluation);
    else closed += 1;
  }
  const alerting = evaluations.filter((e) => e.level !== 'none').sort(oldestFirst);
  return { evaluations, alerting, closed };
}

export const oldestFirst = (a: Evaluation, b: Evaluation) =>
  b.ageMs - a.ageMs || byCodeUnit(a.record.caseRef, b.record.caseRef);
