// The scan function's use case wiring: build the adapters from the environment once, then per
// invocation get the config in force, run the scan, report metrics and tell ops what needs them.

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { type ConfigInForce, RuntimeConfigSource } from '../adapters/config-source.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { DynamoOpenCaseSource } from '../adapters/mirror-reader.ts';
import { type OpsNotifier, SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { SnsPublisher } from '../adapters/sns-publisher.ts';
import { DynamoStateStore, type StateStore } from '../adapters/state-store.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import { logger, metrics } from '../lambda/observability.ts';
import type { AuditLog, LedgerStore, OpenCaseSource, Publisher } from './ports.ts';
import { runScan, type ScanResult } from './run-scan.ts';
import { summariseRun } from './summary.ts';

export interface ScanDeps {
  config(): Promise<ConfigInForce>;
  source: OpenCaseSource;
  ledger: LedgerStore;
  publisher: Publisher;
  audit: AuditLog;
  ops: OpsNotifier;
  state: StateStore;
}

/** The event: an EventBridge schedule's, or `{ at }` to evaluate as of an instant (local runs). */
export interface ScanEvent {
  at?: string;
}

export class ScanDeliveryError extends Error {
  override name = 'ScanDeliveryError';
}

/** Builds the AWS adapters from the function's environment (read once, at cold start). */
export function awsScanDeps(env: NodeJS.ProcessEnv = process.env): ScanDeps {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = new SNSClient({});
  const state = new DynamoStateStore(doc, requireEnv('STATE_TABLE', env));
  const ops = new SnsOpsNotifier(sns, requireEnv('OPS_TOPIC_ARN', env));
  const configSource = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: new SSMClient({}) }),
    requireEnv('CONFIG_PARAMETER', env),
    optionalEnv('DEFAULT_CONFIG_FILE', env),
    state,
    ops,
  );
  return {
    config: () => configSource.current(),
    source: new DynamoOpenCaseSource(doc, requireEnv('MIRROR_TABLE', env)),
    // Reserved concurrency 1: a warm container is the ledger's only writer, so it keeps its copy.
    ledger: new DynamoLedger(doc, requireEnv('LEDGER_TABLE', env), { cache: true }),
    publisher: new SnsPublisher(sns, requireEnv('ALERT_TOPIC_ARN', env)),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ops,
    state,
  };
}

export function publishRunMetrics(result: ScanResult, durationMs: number): void {
  metrics.addMetric('OpenCases', MetricUnit.Count, result.open);
  metrics.addMetric('CasesRead', MetricUnit.Count, result.read);
  metrics.addMetric('InvalidRecords', MetricUnit.Count, result.invalid.length);
  for (const level of ['warning', 'breach', 'escalation'] as const) {
    metrics.addMetric(
      `CasesAt${level[0]?.toUpperCase()}${level.slice(1)}`,
      MetricUnit.Count,
      result.levels[level],
    );
  }
  metrics.addMetric('NotificationsSent', MetricUnit.Count, result.messages.length);
  metrics.addMetric('SmsSent', MetricUnit.Count, result.smsSent);
  metrics.addMetric('PublishFailures', MetricUnit.Count, result.failed.length);
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
    single.addMetric('OldestAgeHours', MetricUnit.Count, Math.round((ageMs / 3_600_000) * 10) / 10);
  }
}

/** Tells ops about invalid mirror items when their number changes (not every five minutes). */
async function reportInvalid(deps: ScanDeps, result: ScanResult): Promise<void> {
  const previous = await deps.state.get('scan-invalid');
  const count = result.invalid.length;
  if ((previous?.count ?? 0) === count) return;
  await deps.state.put('scan-invalid', { count, at: result.at });
  if (count === 0) return;
  const sample = result.invalid
    .slice(0, 20)
    .map((i) => `  ${i.caseRef ?? '(no valid caseRef)'}: ${i.reason}`)
    .join('\n');
  await deps.ops.notify(
    `${count} invalid items in the mirror`,
    `The scan skipped ${count} mirror items it could not evaluate:\n${sample}`,
  );
}

export function createScanHandler(deps: ScanDeps, clock: () => number = Date.now) {
  return async (
    event: ScanEvent | undefined,
    context: Pick<Context, 'awsRequestId'>,
  ): Promise<ScanResult> => {
    const started = clock();
    const nowMs = event?.at ? Date.parse(event.at) : started;
    if (Number.isNaN(nowMs)) throw new TypeError(`event.at is not an ISO 8601 instant: ${event?.at}`);
    const inForce = await deps.config();
    if (inForce.problem) logger.warn('config in force is not the pushed one', { source: inForce.source });
    const result = await runScan({
      config: inForce.config,
      nowMs,
      runId: context.awsRequestId || randomUUID(),
      source: deps.source,
      ledger: deps.ledger,
      publisher: deps.publisher,
      audit: deps.audit,
    });
    publishRunMetrics(result, clock() - started);
    logger.info('scan run', { ...summariseRun(result), configSource: inForce.source });
    await reportInvalid(deps, result);
    if (result.failed.length > 0) {
      await deps.ops
        .notify(
          `${result.failed.length} alert messages failed to publish`,
          `Run ${result.runId} could not publish ${result.failed.length} messages; they stay due and the next run retries them.\n${result.failed.map((f) => `  ${f.level} to ${f.audience} in ${f.district}: ${f.error}`).join('\n')}`,
        )
        .catch((error: unknown) => logger.error('ops notification failed', { error }));
      throw new ScanDeliveryError(`${result.failed.length} messages failed to publish; they remain due`);
    }
    // The heartbeat says a whole run succeeded: its absence for 15 minutes is an alarm.
    metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
    return result;
  };
}
