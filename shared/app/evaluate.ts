// The `evaluate` use case: what a run at an instant would send for a file of cases, assuming
// nothing was sent before. It runs the real scan pipeline (decide, SMS budget, compose) with
// in-memory adapters, so what it shows is what a run sends. Invalid records are reported with line
// and reason; the rest go on.

import { MemoryLedger } from '../adapters/memory-ledger.ts';
import { MemoryAuditLog } from '../adapters/memory-sinks.ts';
import { toMirrorItem } from '../adapters/mirror-item.ts';
import { memoryOpenCases } from '../adapters/mirror-reader.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { type CaseRecord, checkCase, isOpenStage } from '../domain/case.ts';
import { evaluateAll } from '../domain/engine.ts';
import type { Level } from '../domain/levels.ts';
import { compareVersions } from '../ingest/ordering.ts';
import type { RawRecord } from '../io/case-file.ts';
import type { AckLinkRequest, AckLinks, OutgoingMessage, Publisher } from '../scan/ports.ts';
import { runScan, type SentMessage } from '../scan/run-scan.ts';

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
  /** Exactly the messages a first run would send, SMS budget included, in the order sent. */
  messages: Array<Omit<SentMessage, 'messageId'>>;
  /** Groups the SMS budget could not cover: their alert goes by email, with the summary SMS. */
  smsStarved: string[];
  invalid: InvalidRecord[];
}

/** Validates raw records, keeping the newest version of each caseRef (by the mirror's ordering rule). */
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
      // The mirror's ordering rule, so a file shows what the feed would keep.
      const newer = compareVersions(record, seen.record) > 0;
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

/** The acknowledgement page's address on a deployed stack whose config sets no `acknowledge.baseUrl`
 * (the scan's ACK_BASE_URL, the API's own address), as long as a real one in eu-west-2. */
export const PREVIEW_ACK_BASE_URL = 'https://previewapi.execute-api.eu-west-2.amazonaws.com';

/** Preview links: the address a deployed scan links to, with a placeholder as long as a real token
 * (no token is stored), so that every SMS is as long as the one sent and lists the same cases. */
class PreviewLinks implements AckLinks {
  async create(requests: readonly AckLinkRequest[]): Promise<string[]> {
    return requests.map((r) => {
      const base = (r.baseUrl ?? PREVIEW_ACK_BASE_URL).replace(/\/+$/, '');
      return `${base}/${r.channel === 'sms' ? 'PREVIEWSMS' : 'PREVIEWEML'}`;
    });
  }
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

  // The real pipeline, as a first run would go: the open cases as the index would hold them.
  const open = cases.filter((c) => isOpenStage(c.stage)).map((c) => toMirrorItem(c, nowMs));
  const source = memoryOpenCases(open as unknown as Record<string, unknown>[]);
  let sequence = 0;
  const publisher: Publisher = {
    publish: async (_message: OutgoingMessage) => `preview-${++sequence}`,
  };
  const scan = await runScan({
    config,
    nowMs,
    runId: 'preview',
    source,
    ledger: new MemoryLedger(),
    publisher,
    audit: new MemoryAuditLog(),
    // A deployed scan always makes links: at the config's address, else the deployment's own.
    links: new PreviewLinks(),
    publishConcurrency: 1,
  });

  return {
    at: new Date(nowMs).toISOString(),
    cases: {
      total,
      open: open.length,
      closed: cases.length - open.length,
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
    messages: scan.messages.map(({ messageId: _id, ...message }) => message),
    smsStarved: scan.smsStarved,
    invalid,
  };
}
