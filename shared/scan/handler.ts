// The scan function's use case wiring: per invocation, get the config in force, write any
// disclosures an earlier run could not log, run the scan, report metrics, tell ops what needs them,
// and raise (so the Errors alarm fires) when a step failed, after everything else has settled.
// The clock is the only source of "now": an event can never move it.

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { LEVELS } from '../domain/levels.ts';
import { logger, metrics } from '../lambda/observability.ts';
import {
  type AckLinks,
  type AuditEntry,
  type AuditLog,
  CONFIG_NOT_IN_FORCE,
  type ConfigInForce,
  type LedgerStore,
  OPS_REPORT_FAILURES,
  type OpenCaseSource,
  type OpsNotifier,
  type Publisher,
  type StateStore,
} from './ports.ts';
import { OpsReporter } from './report.ts';
import { DEFAULT_RETRY, errorName, type RetryPolicy, withRetry } from './retry.ts';
import { runScan, type ScanResult, WHOLE_LEDGER_MAX_ENTRIES } from './run-scan.ts';
import { summariseRun } from './summary.ts';

export interface ScanDeps {
  config(): Promise<ConfigInForce>;
  source: OpenCaseSource;
  ledger: LedgerStore;
  publisher: Publisher;
  audit: AuditLog;
  links?: AckLinks;
  ops: OpsNotifier;
  state: StateStore;
}

export interface ScanHandlerOptions {
  /** The only source of "now" (the local run and tests pass a simulated one). */
  clock?: () => number;
  retry?: RetryPolicy;
}

/** A run that could not complete every step: raised after it settled, so the Errors alarm fires. */
export class ScanIncompleteError extends Error {
  override name = 'ScanIncompleteError';
}

/** Disclosures written to the state table when the disclosure log failed, until they are logged. */
const PENDING_AUDIT = 'audit-pending';
const MAX_PENDING = 500;

export function publishRunMetrics(result: ScanResult, durationMs: number): void {
  metrics.addMetric('OpenCases', MetricUnit.Count, result.open);
  metrics.addMetric('CasesRead', MetricUnit.Count, result.read);
  metrics.addMetric('InvalidRecords', MetricUnit.Count, result.invalid.total);
  metrics.addMetric('UnevaluatedCases', MetricUnit.Count, result.unevaluated.total);
  for (const level of LEVELS) {
    metrics.addMetric(
      `CasesAt${level[0]?.toUpperCase()}${level.slice(1)}`,
      MetricUnit.Count,
      result.levels[level],
    );
  }
  metrics.addMetric('GroupsDue', MetricUnit.Count, result.groupsDue);
  metrics.addMetric('NotificationsSent', MetricUnit.Count, result.messages.length);
  metrics.addMetric('SmsSent', MetricUnit.Count, result.smsSent);
  metrics.addMetric('SmsBudgetStarved', MetricUnit.Count, result.smsStarved.length);
  metrics.addMetric(
    'PublishFailures',
    MetricUnit.Count,
    result.failures.filter((f) => f.stage === 'publish' || f.stage === 'summary').length,
  );
  metrics.addMetric('StepFailures', MetricUnit.Count, result.failures.length);
  metrics.addMetric('UnauditedDisclosures', MetricUnit.Count, result.unaudited.length);
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, durationMs);
  for (const [bucket, count] of Object.entries(result.openByCategoryAndRisk)) {
    const [category = '', riskLevel = ''] = bucket.split('|');
    const single = metrics.singleMetric();
    single.addDimensions({ category, riskLevel });
    single.addMetric('OpenCasesByCategory', MetricUnit.Count, count);
  }
  for (const [category, ageMs] of Object.entries(result.oldestAgeMsByCategory)) {
    const single = metrics.singleMetric();
    single.addDimension('category', category);
    single.addMetric('OldestAgeSeconds', MetricUnit.Seconds, Math.round(ageMs / 1000));
  }
}

/** Disclosures not yet in the disclosure log, as this container knows them: none known pending
 * (so a healthy run reads nothing), and those it could not even keep in the state table. */
interface PendingAudits {
  nonePending: boolean;
  held: AuditEntry[];
}

/** Writes the disclosures earlier runs could not log, and keeps this run's until they are: in the
 * state table, in this container's memory when the state table is down too, and always in the
 * function's logs. Returns how many are still not in the disclosure log. */
async function settleAudits(
  deps: ScanDeps,
  retry: RetryPolicy,
  fresh: AuditEntry[],
  known: PendingAudits,
): Promise<number> {
  for (const entry of fresh) logger.error('disclosure not yet in the disclosure log', { disclosure: entry });
  if (known.nonePending && fresh.length === 0) return 0;
  let stored: AuditEntry[] = [];
  let readable = true;
  try {
    const item = await deps.state.get(PENDING_AUDIT);
    if (Array.isArray(item?.entries)) stored = item.entries as AuditEntry[];
  } catch (error) {
    readable = false;
    logger.error('could not read the pending disclosures', { dependency: 'state', error: errorName(error) });
  }
  const still: AuditEntry[] = [];
  for (const entry of [...stored, ...known.held]) {
    await withRetry(() => deps.audit.record(entry), retry).catch(() => still.push(entry));
  }
  const next = [...still, ...fresh];
  if (!readable) {
    // Stored ones stay stored; what is new waits in memory for the next run.
    known.held = next;
    known.nonePending = false;
    return next.length;
  }
  try {
    if (next.length > 0 || stored.length > 0) {
      const kept = next.slice(-MAX_PENDING);
      await deps.state.put(PENDING_AUDIT, { entries: kept, dropped: next.length - kept.length });
    }
    known.held = [];
    known.nonePending = next.length === 0;
  } catch (error) {
    logger.error('could not keep the pending disclosures', { dependency: 'state', error: errorName(error) });
    known.held = next.filter((e) => !stored.includes(e));
    known.nonePending = false;
  }
  return next.length;
}

export function createScanHandler(deps: ScanDeps, options: ScanHandlerOptions = {}) {
  const clock = options.clock ?? Date.now;
  const retry = options.retry ?? DEFAULT_RETRY;
  const reporter = new OpsReporter(deps.ops, deps.state);
  const audits: PendingAudits = { nonePending: false, held: [] };
  // A cold container reads the ledger district by district; once a run has left it small, in one pass.
  let wholeLedger = false;
  return async (_event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<ScanResult> => {
    const started = performance.now();
    const nowMs = clock();
    const inForce = await deps.config();
    if (inForce.problem)
      logger.warn('config in force is not the pushed one', {
        source: inForce.source,
        problem: inForce.problem,
      });
    if (inForce.pushNotInForce) metrics.addMetric(CONFIG_NOT_IN_FORCE, MetricUnit.Count, 1);
    if (inForce.degraded?.length)
      logger.error('a dependency failed while reading the config', { failed: inForce.degraded });
    const result = await runScan({
      config: inForce.config,
      nowMs,
      runId: context.awsRequestId || randomUUID(),
      source: deps.source,
      ledger: deps.ledger,
      publisher: deps.publisher,
      audit: deps.audit,
      ...(deps.links ? { links: deps.links } : {}),
      retry,
      wholeLedger,
    });
    // By what the ledger holds after the run, not what it read: a first run reads none and may write
    // a whole force's entries, which the next run must not read in one pass.
    wholeLedger = result.ledgerEntriesAfter <= WHOLE_LEDGER_MAX_ENTRIES;
    const pendingAudits = await settleAudits(deps, retry, result.unaudited, audits);
    publishRunMetrics(result, performance.now() - started);
    logger.info('scan run', { ...summariseRun(result), pendingAudits, configSource: inForce.source });
    for (const failure of result.failures) logger.error('scan step failed', { ...failure });
    const opsFailed = await reporter.send(result, nowMs);
    if (opsFailed.length > 0) {
      metrics.addMetric(OPS_REPORT_FAILURES, MetricUnit.Count, opsFailed.length);
      logger.error('could not tell ops', { failed: opsFailed });
    }
    if (result.failures.length > 0) {
      throw new ScanIncompleteError(
        `${result.failures.length} steps failed (${[...new Set(result.failures.map((f) => f.stage))].join(', ')}); what was not sent stays due`,
      );
    }
    // The heartbeat says a whole run succeeded: its absence for 15 minutes is an alarm.
    metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
    return result;
  };
}
