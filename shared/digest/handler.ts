// The digest function's use case wiring: per invocation (every quarter of an hour), get the config
// in force, send the digests due, publish metrics (a heartbeat for a whole run, how many were sent,
// how many are overdue), log what failed, and raise after everything settled so the Errors alarm
// fires. The clock is the only source of "now": an event can never move it.

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import {
  describeSubscriptionHealth,
  type ExpectedSubscriptions,
  type SubscriptionDirectory,
  subscriptionHealth,
} from '../delivery/subscription-health.ts';
import { describeError } from '../lambda/dependency.ts';
import { logger, metrics } from '../lambda/observability.ts';
import type { AuditLog, ConfigInForce, LedgerStore, OpenCaseSource, Publisher } from '../scan/ports.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../scan/retry.ts';
import type { SignalStateStore } from '../signals/ports.ts';
import { DIGEST_METRICS } from './metrics.ts';
import type { DigestStore, FeedHealth } from './ports.ts';
import { type DigestResult, runDigest } from './run-digest.ts';

export interface DigestDeps {
  config(): Promise<ConfigInForce>;
  source: OpenCaseSource;
  ledger: Pick<LedgerStore, 'loadGroups' | 'loadCaseShards'>;
  feed: FeedHealth;
  store: DigestStore;
  publisher: Publisher;
  audit: AuditLog;
  /** The stack's feed-silence threshold, so the digest calls the feed quiet when the alarm does. */
  feedQuietAfterMs?: number;
  /** The silence signals' states, so a digest leads with any raised for its place. */
  signals?: Pick<SignalStateStore, 'load'>;
  /** The topics' subscriptions and how many the stack made: each run checks that they receive. */
  subscriptions?: { directory: SubscriptionDirectory; expected: ExpectedSubscriptions };
}

export interface DigestHandlerOptions {
  clock?: () => number;
  retry?: RetryPolicy;
  /** How long the subscription check may take (default SUBSCRIPTION_CHECK_BUDGET_MS). */
  subscriptionCheckBudgetMs?: number;
}

/** A run that could not send every digest due: raised after it settled, so the Errors alarm fires
 * (what was not sent stays due for the next run). */
export class DigestIncompleteError extends Error {
  override name = 'DigestIncompleteError';
}

/** A run in brief: what the function returns and its log line shows (no message text). */
export function summariseDigest(result: DigestResult) {
  return {
    runId: result.runId,
    at: result.at,
    day: result.day,
    dueAt: result.dueAt,
    groups: result.groups.length,
    sent: result.sent.map((s) => s.group),
    alreadySent: result.alreadySent.length,
    busy: result.busy,
    overdue: result.overdue,
    failures: result.failures.length,
  };
}

export function createDigestHandler(deps: DigestDeps, options: DigestHandlerOptions = {}) {
  const clock = options.clock ?? Date.now;
  const retry = options.retry ?? DEFAULT_RETRY;
  return async (_event: unknown, context: Pick<Context, 'awsRequestId'>): Promise<DigestResult> => {
    const nowMs = clock();
    const inForce = await deps.config();
    if (inForce.problem)
      logger.warn('config in force is not the pushed one', {
        source: inForce.source,
        problem: inForce.problem,
      });
    const result = await runDigest({
      config: inForce.config,
      nowMs,
      runId: context.awsRequestId || randomUUID(),
      source: deps.source,
      ledger: deps.ledger,
      feed: deps.feed,
      store: deps.store,
      publisher: deps.publisher,
      audit: deps.audit,
      retry,
      ...(deps.feedQuietAfterMs !== undefined ? { feedQuietAfterMs: deps.feedQuietAfterMs } : {}),
      ...(deps.signals ? { signals: deps.signals } : {}),
    });
    if (deps.subscriptions) await checkSubscriptions(deps.subscriptions, options.subscriptionCheckBudgetMs);
    metrics.addMetric(DIGEST_METRICS.sent, MetricUnit.Count, result.sent.length);
    metrics.addMetric(DIGEST_METRICS.overdue, MetricUnit.Count, result.overdue.length);
    metrics.addMetric(DIGEST_METRICS.failures, MetricUnit.Count, result.failures.length);
    logger.info('digest run', { ...summariseDigest(result), configSource: inForce.source });
    if (result.historyUnreadable) logger.warn('the digest history could not be read: the trend starts again');
    const unreadable = result.unreadableLedgerItems;
    if (unreadable !== undefined)
      metrics.addMetric(DIGEST_METRICS.unreadableAlertRecords, MetricUnit.Count, unreadable);
    if (unreadable !== undefined && unreadable > 0) {
      logger.warn('alert-ledger records could not be read: the digests count fewer unacknowledged alerts', {
        unreadableLedgerItems: unreadable,
      });
    }
    for (const { disclosure, ...failure } of result.failures) {
      logger.error('digest step failed', { ...failure });
      // Every disclosure the log could not take is in the function's logs, so none is lost.
      if (disclosure) logger.error('disclosure not yet in the disclosure log', { disclosure });
    }
    if (result.overdue.length > 0)
      logger.error('daily digests overdue', { overdue: result.overdue, dueAt: result.dueAt });
    if (result.failures.length > 0) {
      throw new DigestIncompleteError(
        `${result.failures.length} digest steps failed (${[...new Set(result.failures.map((f) => f.stage))].join(', ')}); what was not sent stays due`,
      );
    }
    // The heartbeat says a whole run succeeded: none for an hour is an alarm.
    metrics.addMetric(DIGEST_METRICS.heartbeat, MetricUnit.Count, 1);
    return result;
  };
}

/** The longest the subscription check may take: well inside the function's timeout, so a slow or
 * throttled SNS never costs a run its digests' metrics and heartbeat. */
const SUBSCRIPTION_CHECK_BUDGET_MS = 30_000;

/** Counts the subscriptions the stack made that deliver nothing, for the subscriptions alarm, and
 * says which kinds in the log. A check that fails or runs out of time is logged and publishes no
 * count: an hour without one raises the alarm too. It never holds the digests back. */
async function checkSubscriptions(
  { directory, expected }: NonNullable<DigestDeps['subscriptions']>,
  budgetMs = SUBSCRIPTION_CHECK_BUDGET_MS,
) {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`took over ${budgetMs / 1000} s`), { name: 'CheckTimedOut' })),
      budgetMs,
    );
  });
  try {
    const [alert, ops] = await Promise.race([
      Promise.all([directory.list('alert'), directory.list('ops')]),
      outOfTime,
    ]);
    const health = subscriptionHealth(expected, { alert, ops });
    metrics.addMetric(DIGEST_METRICS.subscriptionsNotReceiving, MetricUnit.Count, health.notReceiving);
    if (health.notReceiving > 0) {
      logger.warn('subscriptions that deliver nothing', {
        notReceiving: health.notReceiving,
        problems: describeSubscriptionHealth(health),
        counts: health.counts,
      });
    }
  } catch (error) {
    // Described, never its message: an SNS error about a subscription may quote its phone number.
    logger.error('subscription check failed', { error: describeError(error) });
  } finally {
    clearTimeout(timer);
  }
}
