// The `evaluate` use case: what a run at an instant would send for a file of cases, assuming
// nothing was sent before. Invalid records are reported with line and reason; the rest go on.

import type { CompiledConfig } from '../config/compile.ts';
import type { Level } from '../config/schema.ts';
import { type CaseRecord, checkCase, isOpenStage } from '../domain/case.ts';
import { evaluateAll } from '../domain/engine.ts';
import { groupAlerts, type RenderedNotification, renderNotification } from '../domain/notify.ts';
import type { RawRecord } from '../io/case-file.ts';

export interface InvalidRecord {
  line: number;
  caseRef?: string;
  reason: string;
}

export interface EvaluateReport {
  at: string;
  cases: { total: number; open: number; closed: number; invalid: number };
  levels: Record<Level | 'none', number>;
  breaches: Array<{
    caseRef: string;
    level: Level;
    ageHours: number;
    rule: string;
    district: string;
    nextLevel?: Level;
    nextDueAt?: string;
  }>;
  notifications: Array<Omit<RenderedNotification, 'cases'> & { caseRefs: string[] }>;
  invalid: InvalidRecord[];
}

/** Validates raw records, keeping the newest version of each caseRef (by sourceUpdatedAt). */
export async function collectCases(
  records: AsyncIterable<RawRecord> | Iterable<RawRecord>,
  config: CompiledConfig,
  nowMs: number,
): Promise<{ cases: CaseRecord[]; invalid: InvalidRecord[]; total: number }> {
  const byRef = new Map<string, { record: CaseRecord; line: number }>();
  const invalid: InvalidRecord[] = [];
  let total = 0;
  for await (const item of records) {
    total += 1;
    if ('error' in item) {
      invalid.push({ line: item.line, reason: item.error });
      continue;
    }
    const checked = checkCase(item.raw, config.vocabulary, nowMs);
    if (!checked.ok) {
      invalid.push({
        line: item.line,
        ...(checked.caseRef ? { caseRef: checked.caseRef } : {}),
        reason: checked.reason,
      });
      continue;
    }
    const record = checked.value;
    const seen = byRef.get(record.caseRef);
    if (seen) {
      const newer = record.sourceUpdatedAt > seen.record.sourceUpdatedAt;
      const [kept, dropped] = newer
        ? [{ record, line: item.line }, seen]
        : [seen, { record, line: item.line }];
      invalid.push({
        line: dropped.line,
        caseRef: record.caseRef,
        reason: `duplicate caseRef: superseded by line ${kept.line} (same or newer sourceUpdatedAt)`,
      });
      byRef.set(record.caseRef, kept);
      continue;
    }
    byRef.set(record.caseRef, { record, line: item.line });
  }
  invalid.sort((a, b) => a.line - b.line);
  return { cases: [...byRef.values()].map((v) => v.record), invalid, total };
}

export async function evaluateRecords(
  records: AsyncIterable<RawRecord> | Iterable<RawRecord>,
  config: CompiledConfig,
  nowMs: number,
): Promise<EvaluateReport> {
  const { cases, invalid, total } = await collectCases(records, config, nowMs);
  const result = evaluateAll(cases, config, nowMs);
  const levels = { none: 0, warning: 0, breach: 0, escalation: 0 };
  for (const e of result.evaluations) levels[e.level] += 1;
  const notifications = groupAlerts(result.alerting, config).map((n) => {
    const { cases: lines, ...rendered } = renderNotification(n, config, nowMs);
    return { ...rendered, caseRefs: lines.map((c) => c.caseRef) };
  });
  return {
    at: new Date(nowMs).toISOString(),
    cases: {
      total,
      open: cases.filter((c) => isOpenStage(c.stage)).length,
      closed: cases.filter((c) => !isOpenStage(c.stage)).length,
      invalid: invalid.length,
    },
    levels,
    breaches: result.alerting.map((e) => ({
      caseRef: e.record.caseRef,
      level: e.level as Level,
      ageHours: Math.round((e.ageMs / 3_600_000) * 10) / 10,
      // The rule whose clock put the case at this level: its own, or the absolute ceiling.
      rule: e.ruleLevel === e.level ? e.rule.id : config.ceiling.id,
      district: e.record.district,
      ...(e.next ? { nextLevel: e.next.level, nextDueAt: new Date(e.next.at).toISOString() } : {}),
    })),
    notifications,
    invalid,
  };
}
