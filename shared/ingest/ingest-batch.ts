// The ingest use case: one batch of feed messages into the mirror. Each message is validated and
// applied on its own (the queue's partial batch processing calls `handle` once per message, see
// wiring/sqs-batch.ts), so one bad message never blocks or re-runs its neighbours:
// - applied (created, updated, or a harmless unchanged/stale repeat): acknowledged;
// - can never be valid (malformed, wrong fields, unknown vocabulary, future stage, conflicting
//   version): recorded in the rejects table, counted, reported to ops, and acknowledged;
// - failed for a passing reason (throttling, network): returned as a batch item failure, so SQS
//   retries it and the DLQ catches it after maxReceiveCount. The log line names the dependency that
//   failed, and RetriedMessages (an alarm) counts it.
// Once every message is handled, `finish` counts the batch, records the last ingest time and sends
// ops one report of what was rejected.

import type { CaseVocabulary } from '../domain/case.ts';
import {
  callDependency,
  DEPENDENCY_FAILURES_METRIC,
  DependencyError,
  failureFields,
} from '../lambda/dependency.ts';
import { OPS_REPORT_FAILURES, type OpsNotifier } from '../scan/ports.ts';
import { MAX_BODY_CHARS, parseChange, type Rejection, schemaFieldsOf } from './change.ts';
import type { ApplyOutcome } from './ordering.ts';
import type { IngestLogger, IngestMetrics, IngestStateStore, MirrorStore, RejectStore } from './ports.ts';

export interface IngestDeps {
  mirror: MirrorStore;
  rejects: RejectStore;
  state: IngestStateStore;
  ops: OpsNotifier;
  vocabulary: CaseVocabulary;
  logger: IngestLogger;
  metrics: IngestMetrics;
}

export type AppliedOutcome = Exclude<ApplyOutcome, 'conflict'>;

export interface IngestSummary {
  received: number;
  applied: Record<AppliedOutcome, number>;
  rejected: Array<Pick<Rejection, 'code' | 'caseRef'> & { messageId: string }>;
  /** Message ids returned to SQS for a retry. */
  retried: string[];
  /** Cases whose mirror item could not be read as a case and was replaced by the message's record
   * (also counted in `applied.replaced`). */
  replacedMalformed: string[];
}

/** A feed message as the queue hands it over: its id (named in rejects and retries) and its body. */
export interface FeedMessage {
  messageId: string;
  body: string;
}

export interface IngestBatch {
  /** Applies one message, or keeps it as rejected; throws when it failed for a passing reason, so
   * the caller returns it to the queue for a retry. */
  handle(message: FeedMessage): Promise<void>;
  /** After every message of the batch was handled: metrics, the last ingest time, the ops report. */
  finish(): Promise<IngestSummary>;
}

/** Starts a batch of `received` feed messages. */
export function startIngestBatch(received: number, deps: IngestDeps, nowMs: number): IngestBatch {
  const { logger } = deps;
  const summary: IngestSummary = {
    received,
    applied: { created: 0, updated: 0, unchanged: 0, stale: 0, replaced: 0 },
    rejected: [],
    retried: [],
    replacedMalformed: [],
  };

  const dependencyFailed = (error: unknown) => {
    if (error instanceof DependencyError) deps.metrics.addMetric(DEPENDENCY_FAILURES_METRIC, 'Count', 1);
  };

  const reject = async (record: FeedMessage, rejection: Rejection) => {
    const stored = {
      messageId: record.messageId,
      code: rejection.code,
      reason: rejection.reason,
      ...(rejection.caseRef ? { caseRef: rejection.caseRef } : {}),
      ...fieldsOf(record.body, deps.vocabulary, nowMs),
      bodyLength: record.body.length,
      rejectedAtMs: nowMs,
    };
    await callDependency('dynamodb:rejects', () => deps.rejects.record(stored));
    summary.rejected.push({
      messageId: record.messageId,
      code: rejection.code,
      ...(rejection.caseRef ? { caseRef: rejection.caseRef } : {}),
    });
    logger.warn('feed message rejected', {
      messageId: record.messageId,
      code: rejection.code,
      reason: rejection.reason,
      caseRef: rejection.caseRef,
    });
  };

  const handle = async (record: FeedMessage) => {
    const change = parseChange(record.body, deps.vocabulary, nowMs);
    try {
      if (!change.ok) return await reject(record, change);
      const outcome = await callDependency('dynamodb:mirror', () => deps.mirror.apply(change, nowMs));
      if (outcome === 'conflict') {
        const what =
          change.sourceSequence !== undefined ? 'sourceUpdatedAt and sourceSequence' : 'sourceUpdatedAt';
        return await reject(record, {
          ok: false,
          code: 'conflict',
          caseRef: change.record.caseRef,
          reason: `the mirror holds other content for the same version (the same ${what}); the stored one is kept`,
        });
      }
      summary.applied[outcome] += 1;
      if (outcome === 'replaced') {
        summary.replacedMalformed.push(change.record.caseRef);
        logger.warn('mirror item could not be read as a case; replaced by the feed message', {
          messageId: record.messageId,
          caseRef: change.record.caseRef,
        });
      }
    } catch (error) {
      summary.retried.push(record.messageId);
      dependencyFailed(error);
      logger.warn('feed message failed for now; SQS will retry it', {
        messageId: record.messageId,
        caseRef: change.ok ? change.record.caseRef : change.caseRef,
        ...failureFields(error),
      });
      throw error;
    }
  };

  const finish = async (): Promise<IngestSummary> => {
    const applied = Object.values(summary.applied).reduce((sum, n) => sum + n, 0);
    // What the mirror really changed: a repeat, a stale replay or a conflicting copy is a message,
    // not a change, so a source stuck resending old state still looks silent.
    const changed = summary.applied.created + summary.applied.updated + summary.applied.replaced;
    deps.metrics.addMetric('IngestedMessages', 'Count', applied);
    deps.metrics.addMetric('ChangedCases', 'Count', changed);
    deps.metrics.addMetric('RejectedMessages', 'Count', summary.rejected.length);
    deps.metrics.addMetric('RetriedMessages', 'Count', summary.retried.length);
    deps.metrics.addMetric('ReplacedMalformedItems', 'Count', summary.replacedMalformed.length);
    logger.info('ingest batch', {
      received: summary.received,
      ...summary.applied,
      rejected: summary.rejected.length,
      retried: summary.retried.length,
    });

    // Neither loses a message: the changes are applied and the rejects stored, so the batch stands.
    if (changed > 0) {
      await callDependency('dynamodb:state', () => deps.state.recordIngest(nowMs)).catch((error: unknown) => {
        dependencyFailed(error);
        deps.metrics.addMetric('IngestStateFailures', 'Count', 1);
        logger.error('could not record the last ingest time', failureFields(error));
      });
    }
    if (summary.rejected.length > 0 || summary.replacedMalformed.length > 0) {
      const report = opsReport(summary);
      await callDependency('sns:ops', () => deps.ops.notify(report.subject, report.text)).catch(
        (error: unknown) => {
          dependencyFailed(error);
          deps.metrics.addMetric(OPS_REPORT_FAILURES, 'Count', 1);
          logger.error('could not report rejected messages to ops', failureFields(error));
        },
      );
    }
    return summary;
  };
  return { handle, finish };
}

function fieldsOf(
  body: string,
  vocabulary: CaseVocabulary,
  nowMs: number,
): { fields?: Record<string, unknown> } {
  if (body.length > MAX_BODY_CHARS) return {};
  try {
    const fields = schemaFieldsOf(JSON.parse(body), vocabulary, nowMs);
    return fields ? { fields } : {};
  } catch {
    return {};
  }
}

const LISTED = 50;

/** One summary per batch for the ops topic: counts, reason codes, case references and message ids;
 * never any content of a message. */
export function opsReport(summary: IngestSummary): { subject: string; text: string } {
  const n = summary.rejected.length;
  const replaced = summary.replacedMalformed;
  const replacedText = [
    `The mirror held ${replaced.length === 1 ? 'an item' : `${replaced.length} items`} that could not be read as a case, so the scan held ${replaced.length === 1 ? 'it' : 'them'} (neither sent nor resolved);`,
    `the feed's valid record${replaced.length === 1 ? ' replaced it' : 's replaced them'}: cases ${replaced.slice(0, LISTED).join(', ')}${replaced.length > LISTED ? ` and ${replaced.length - LISTED} more` : ''}.`,
  ];
  if (n === 0) {
    return {
      subject: `${replaced.length} malformed mirror item${replaced.length === 1 ? '' : 's'} replaced`,
      text: replacedText.join('\n'),
    };
  }
  const byCode = new Map<string, typeof summary.rejected>();
  for (const r of summary.rejected) byCode.set(r.code, [...(byCode.get(r.code) ?? []), r]);
  const lines = [...byCode.entries()].map(([code, rs]) => {
    const refs = rs.flatMap((r) => (r.caseRef ? [r.caseRef] : []));
    const unref = rs.length - refs.length;
    const parts: string[] = [];
    if (refs.length > 0) {
      const more = refs.length > LISTED ? ` and ${refs.length - LISTED} more` : '';
      parts.push(`cases ${refs.slice(0, LISTED).join(', ')}${more}`);
    }
    if (unref > 0) parts.push(`${unref} without a valid case reference`);
    return `  ${code}: ${rs.length}${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
  });
  const ids = summary.rejected.slice(0, LISTED).map((r) => r.messageId);
  return {
    subject: `${n} feed message${n === 1 ? '' : 's'} rejected`,
    text: [
      `The ingest function rejected ${n} of ${summary.received} feed messages in one batch. They will not be retried:`,
      'each is kept in the rejects table with its reason (rejectId feed#<SQS message id>) for replay after a fix.',
      '',
      ...lines,
      '',
      `SQS message ids: ${ids.join(', ')}${n > LISTED ? ` and ${n - LISTED} more` : ''}`,
      ...(replaced.length > 0 ? ['', ...replacedText] : []),
    ].join('\n'),
  };
}
