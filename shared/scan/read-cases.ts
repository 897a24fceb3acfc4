// Stage 1 of a run: stream a shard's open cases and evaluate each one on its own. An item that cannot be
// read, or a case the engine cannot evaluate, is counted and held (its alerts are neither sent nor
// resolved this run) and never stops its neighbours; a read that fails part-way says so, so that
// nothing unseen is taken for resolved.

import type { CompiledConfig } from '../config/compile.ts';
import { checkCaseView } from '../domain/case.ts';
import { type Evaluation, evaluateCase, type LevelOrNone } from '../domain/engine.ts';

export interface CaseProblem {
  /** Present when the item has a well-formed reference. */
  caseRef?: string;
  reason: string;
}

/** Problems counted in full, listed up to a limit (a config push that removes a district can make
 * thousands of items unreadable at once). */
export interface Problems {
  total: number;
  listed: CaseProblem[];
}

export interface ReadStats {
  /** Items read from the open-cases index. */
  read: number;
  open: number;
  levels: Record<LevelOrNone, number>;
  openByCategoryAndRisk: Record<string, number>;
  oldestAgeMsByCategory: Record<string, number>;
  /** Items that are not valid cases under the config in force. */
  invalid: Problems;
  /** Valid cases the engine could not evaluate. */
  failed: Problems;
  /** Whether every page was read: if not, nothing unseen may be taken as resolved. */
  complete: boolean;
  /** Why the read stopped early (the error's name, never its message). */
  readError?: string;
  /** The error itself, for a caller that reports it rather than carrying on (never logged). */
  readFailure?: unknown;
}

export interface CaseSink {
  /** An open case, evaluated. */
  add(evaluation: Evaluation): void;
  /** A case whose alerts must be left as they are this run (unreadable or unevaluable). */
  held(caseRef: string): void;
}

const MAX_LISTED_PROBLEMS = 200;

export const emptyReadStats = (): ReadStats => ({
  read: 0,
  open: 0,
  levels: { none: 0, warning: 0, breach: 0, escalation: 0 },
  openByCategoryAndRisk: {},
  oldestAgeMsByCategory: {},
  invalid: { total: 0, listed: [] },
  failed: { total: 0, listed: [] },
  complete: true,
});

/** Adds one shard's figures to a run's (complete only if every shard was read to the end). */
export function addReadStats(into: ReadStats, shard: ReadStats): void {
  into.read += shard.read;
  into.open += shard.open;
  for (const level of Object.keys(into.levels) as Array<keyof ReadStats['levels']>) {
    into.levels[level] += shard.levels[level];
  }
  for (const [bucket, n] of Object.entries(shard.openByCategoryAndRisk)) {
    into.openByCategoryAndRisk[bucket] = (into.openByCategoryAndRisk[bucket] ?? 0) + n;
  }
  for (const [category, ms] of Object.entries(shard.oldestAgeMsByCategory)) {
    into.oldestAgeMsByCategory[category] = Math.max(into.oldestAgeMsByCategory[category] ?? 0, ms);
  }
  for (const key of ['invalid', 'failed'] as const) {
    into[key].total += shard[key].total;
    into[key].listed.push(...shard[key].listed.slice(0, MAX_LISTED_PROBLEMS - into[key].listed.length));
  }
  into.complete &&= shard.complete;
  if (shard.readError) into.readError ??= shard.readError;
  if (shard.readFailure !== undefined) into.readFailure ??= shard.readFailure;
}

/** Reads one shard's pages (or a source's only part), each case on its own. */
export async function readOpenCases(
  pages: AsyncIterable<readonly Record<string, unknown>[]>,
  config: CompiledConfig,
  nowMs: number,
  sink: CaseSink,
): Promise<ReadStats> {
  const stats = { ...emptyReadStats(), complete: false };
  const note = (problems: Problems, problem: CaseProblem) => {
    problems.total += 1;
    if (problems.listed.length < MAX_LISTED_PROBLEMS) problems.listed.push(problem);
  };
  try {
    for await (const page of pages) {
      for (const item of page) {
        stats.read += 1;
        const rawRef = typeof item.caseRef === 'string' ? item.caseRef : undefined;
        const checked = checkCaseView(item, config.vocabulary);
        if (!checked.ok) {
          note(stats.invalid, {
            ...(checked.caseRef ? { caseRef: checked.caseRef } : {}),
            reason: checked.reason,
          });
          if (rawRef) sink.held(rawRef);
          continue;
        }
        const record = checked.value;
        let evaluation: Evaluation | undefined;
        try {
          evaluation = evaluateCase(record, config, nowMs);
        } catch (error) {
          note(stats.failed, {
            caseRef: record.caseRef,
            reason: `could not be evaluated (${error instanceof Error ? error.name : 'error'})`,
          });
          sink.held(record.caseRef);
          continue;
        }
        if (!evaluation) continue; // a closed case cannot be in the index; tolerate a stale item
        stats.open += 1;
        stats.levels[evaluation.level] += 1;
        const bucket = `${record.category}|${record.riskLevel}`;
        stats.openByCategoryAndRisk[bucket] = (stats.openByCategoryAndRisk[bucket] ?? 0) + 1;
        stats.oldestAgeMsByCategory[record.category] = Math.max(
          stats.oldestAgeMsByCategory[record.category] ?? 0,
          evaluation.ageMs,
        );
        sink.add(evaluation);
      }
    }
    stats.complete = true;
  } catch (error) {
    stats.readError = error instanceof Error ? error.name : 'read failed';
    stats.readFailure = error;
  }
  return stats;
}
