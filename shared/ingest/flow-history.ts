// Loads past flow: an export of stage transitions (JSON Lines, JSON array or CSV, one transition a
// record) into the flow table, so the silence signals start with a baseline instead of weeks of
// learning. Each transition is stored under the same id the feed would give it (case, stage
// entered, when), so a re-run, an overlap with what the feed already counted, or a repeat within
// the file is stored once. Bad records are reported by line and reason, never by content.

import { appendFileSync, rmSync } from 'node:fs';
import type { CaseVocabulary } from '../domain/case.ts';
import { EARLIEST_INSTANT, FUTURE_TOLERANCE_MS } from '../domain/case.ts';
import { londonDay, type Transition, transitionId, transitionSchema } from '../domain/flow.ts';
import { byCodeUnit } from '../domain/order.ts';
import { type CaseFileFormat, type RecordFields, readCaseFile } from '../io/case-file.ts';

export interface FlowHistoryStore {
  recordHistory(transitions: readonly Transition[], nowMs: number): Promise<void>;
}

export interface FlowHistoryOptions {
  file: string;
  format?: CaseFileFormat;
  store: FlowHistoryStore;
  vocabulary: CaseVocabulary;
  nowMs: number;
  /** Where rejected records go, one JSON object a line (default: FILE.rejects.jsonl). */
  rejectsFile?: string;
  /** Transitions written at a time (default 500). */
  batchSize?: number;
  onProgress?: (read: number) => void;
}

export interface FlowHistoryReport {
  read: number;
  stored: number;
  /** Lines repeating a transition already in the file (stored once). */
  repeated: number;
  rejected: number;
  rejectsFile?: string;
  /** The London days covered, per district. */
  districts: Record<string, { from: string; to: string; transitions: number }>;
}

const TRANSITION_KEYS = Object.keys(transitionSchema.shape);

/** A transition's fields: one given twice in a record (`"to"` twice: which stage was entered?) is
 * refused, not read as the last. */
const TRANSITION_FIELDS: RecordFields = {
  what: 'transition fields',
  listed: TRANSITION_KEYS,
  known: new Set(TRANSITION_KEYS),
};

export async function importFlowHistory(options: FlowHistoryOptions): Promise<FlowHistoryReport> {
  const rejectsFile = options.rejectsFile ?? `${options.file}.rejects.jsonl`;
  rmSync(rejectsFile, { force: true });
  const report: FlowHistoryReport = { read: 0, stored: 0, repeated: 0, rejected: 0, districts: {} };
  const seen = new Set<string>();
  const days = new Map<string, { from: number; to: number; transitions: number }>();
  let batch: Transition[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await options.store.recordHistory(batch, options.nowMs);
    report.stored += batch.length;
    batch = [];
  };
  const reject = (line: number, reason: string) => {
    report.rejected += 1;
    appendFileSync(rejectsFile, `${JSON.stringify({ line, reason })}\n`);
  };

  for await (const raw of readCaseFile(options.file, options.format, TRANSITION_FIELDS)) {
    report.read += 1;
    options.onProgress?.(report.read);
    if ('error' in raw) {
      reject(raw.line, raw.error);
      continue;
    }
    const parsed = transitionSchema.safeParse(raw.raw);
    if (!parsed.success) {
      reject(raw.line, parsed.error.issues.map((i) => describeIssue(i, raw.raw)).join('; '));
      continue;
    }
    const t = parsed.data;
    if (!options.vocabulary.districts.has(t.district)) {
      reject(raw.line, 'district is not one of the config’s districts');
      continue;
    }
    if (!options.vocabulary.categories.has(t.category)) {
      reject(raw.line, 'category is not one of the config’s categories');
      continue;
    }
    // The floor the import and the feed hold case dates to: an earlier date is an export error.
    if (Date.parse(t.at) < Date.parse(EARLIEST_INSTANT)) {
      reject(raw.line, `at is too early: it must be from ${EARLIEST_INSTANT}`);
      continue;
    }
    if (Date.parse(t.at) > options.nowMs + FUTURE_TOLERANCE_MS) {
      reject(raw.line, 'at is in the future');
      continue;
    }
    const id = transitionId(t);
    if (seen.has(id)) {
      report.repeated += 1;
      continue;
    }
    seen.add(id);
    const day = londonDay(Date.parse(t.at));
    const span = days.get(t.district) ?? { from: day, to: day, transitions: 0 };
    days.set(t.district, {
      from: Math.min(span.from, day),
      to: Math.max(span.to, day),
      transitions: span.transitions + 1,
    });
    batch.push(t);
    if (batch.length >= (options.batchSize ?? 500)) await flush();
  }
  await flush();
  const iso = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);
  for (const [district, span] of [...days].sort(([a], [b]) => byCodeUnit(a, b))) {
    report.districts[district] = { from: iso(span.from), to: iso(span.to), transitions: span.transitions };
  }
  return { ...report, ...(report.rejected > 0 ? { rejectsFile } : {}) };
}

/** A zod issue as a reason naming the field, never its value. */
function describeIssue(issue: { path: PropertyKey[]; message: string; code: string }, raw: unknown): string {
  const field = issue.path.map(String).join('.') || 'record';
  const present =
    typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>)[field] !== undefined;
  if (issue.code === 'invalid_type' && !present) return `${field} is missing`;
  // The schema's own messages name the field and the allowed values, never the value given.
  return issue.message.startsWith(field) ? issue.message : `${field}: ${issue.message}`;
}
