// The `status` use case: the live picture of the queue from the mirror, as the scan sees it (the
// same OpenCaseSource, the same engine), without sending or recording anything: open cases by
// district and level, and the oldest case of each category.

import type { CompiledConfig } from '../config/compile.ts';
import type { LevelOrNone } from '../domain/engine.ts';
import { LEVELS } from '../domain/levels.ts';
import type { OpenCaseSource } from '../scan/ports.ts';
import { readAllOpenCases } from '../scan/whole.ts';

export type LevelCounts = Record<LevelOrNone, number>;

export interface OldestCase {
  caseRef: string;
  district: string;
  riskLevel: string;
  stage: string;
  ageMs: number;
  level: LevelOrNone;
  rule: string;
}

export interface QueueStatus {
  at: string;
  /** Items the index returned, and those of them that could not be evaluated. */
  read: number;
  invalid: number;
  open: number;
  /** Open cases that entered their stage after `at` (an instant in the past): they were not waiting
   * in it then, so they are left out of every count. */
  enteredAfter: number;
  levels: LevelCounts;
  /** Every district of the config, in its order, even with no open case. */
  byDistrict: Array<{ district: string; name: string; levels: LevelCounts; open: number }>;
  /** Every category of the config, in its order; undefined oldest when it has no open case. */
  oldestByCategory: Array<{ category: string; open: number; oldest?: OldestCase }>;
}

const noLevels = (): LevelCounts => ({ none: 0, warning: 0, breach: 0, escalation: 0 });

export async function queueStatus(
  source: OpenCaseSource,
  config: CompiledConfig,
  nowMs: number,
  /** `nowMs` is an instant in the past (`status --at`), not the scan's now. */
  options: { past?: boolean } = {},
): Promise<QueueStatus> {
  const districts = new Map(
    Object.entries(config.file.districts).map(([district, { name }]) => [
      district,
      { district, name, levels: noLevels(), open: 0 },
    ]),
  );
  const categories = new Map(
    config.file.categories.map((category) => [
      category,
      { category, open: 0 } as QueueStatus['oldestByCategory'][number],
    ]),
  );
  const status: QueueStatus = {
    at: new Date(nowMs).toISOString(),
    read: 0,
    invalid: 0,
    open: 0,
    enteredAfter: 0,
    levels: noLevels(),
    byDistrict: [],
    oldestByCategory: [],
  };
  const read = await readAllOpenCases(source, config, nowMs, {
    add: (evaluation) => {
      const { record, level, ageMs } = evaluation;
      // Now, a case entered "in the future" (a source clock ahead) is as the scan sees it: age 0.
      if (options.past && Date.parse(record.stageEnteredAt) > nowMs) {
        status.enteredAfter += 1;
        return;
      }
      status.open += 1;
      status.levels[level] += 1;
      const district = districts.get(record.district);
      if (district) {
        district.levels[level] += 1;
        district.open += 1;
      }
      const category = categories.get(record.category);
      if (!category) return;
      category.open += 1;
      const oldest = category.oldest;
      if (!oldest || ageMs > oldest.ageMs || (ageMs === oldest.ageMs && record.caseRef < oldest.caseRef)) {
        category.oldest = {
          caseRef: record.caseRef,
          district: record.district,
          riskLevel: record.riskLevel,
          stage: record.stage,
          ageMs,
          level,
          rule: evaluation.rule.id,
        };
      }
    },
    held: () => {},
  });
  // A picture of part of the queue would mislead: a read that stopped says why instead.
  if (!read.complete) throw read.readFailure ?? new Error('the open cases could not be read to the end');
  status.read = read.read;
  // Not valid, not evaluable, or not open after all: the scan skips these too (and tells ops).
  status.invalid = read.read - status.open - status.enteredAfter;
  status.byDistrict = [...districts.values()];
  status.oldestByCategory = [...categories.values()];
  return status;
}

/** Levels from the most urgent down, then the cases within limits. */
export const STATUS_COLUMNS: readonly LevelOrNone[] = [...[...LEVELS].reverse(), 'none'];
