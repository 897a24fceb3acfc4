// The signals function's use case wiring: per invocation the config in force, one run of the mode
// the schedule asks for, metrics, and ops told what needs them (its AWS adapters: shared/wiring/).

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from '../domain/zod.ts';
import { failureFields } from '../lambda/dependency.ts';
import { logger, metrics } from '../lambda/observability.ts';
import {
  type AuditLog,
  type ConfigInForce,
  OPS_REPORT_FAILURES,
  type OpsNotifier,
  type Publisher,
} from '../scan/ports.ts';
import type { RetryPolicy } from '../scan/retry.ts';
import type { ProfileCache } from './evaluate.ts';
import type { FlowReader, SignalStateStore } from './ports.ts';
import { HEARTBEAT_METRIC, runSignals, SIGNAL_MODES, type SignalsResult } from './run-signals.ts';

export interface SignalsDeps {
  config(): Promise<ConfigInForce>;
  flow: FlowReader;
  states: SignalStateStore;
  publisher: Publisher;
  audit: AuditLog;
  ops: OpsNotifier;
  /** Retries of each disclosure log and state write (the scan's by default). */
  retry?: RetryPolicy;
}

/** The schedule's input: which signals to judge, and (local runs) as of when. */
export const signalsEventSchema = z.strictObject({
  mode: z.enum(SIGNAL_MODES, { error: `mode must be one of ${SIGNAL_MODES.join(', ')}` }),
  at: z.optional(z.iso.datetime({ offset: true, error: 'at must be an ISO 8601 instant with an offset' })),
});
export type SignalsEvent = z.infer<typeof signalsEventSchema>;

export class SignalsEventError extends Error {
  override name = 'SignalsEventError';
}

export class SignalsDeliveryError extends Error {
  override name = 'SignalsDeliveryError';
}

export class SignalsRunError extends Error {
  override name = 'SignalsRunError';
}

/** What a failed step means for its series, as ops are told. */
const STEP_CONSEQUENCE: Record<SignalsResult['failed'][number]['step'], string> = {
  claim: 'not sent (it could not be claimed for this run); it stays due and the next run sends it',
  publish: 'not sent; it stays due and the next run sends it',
  state: 'sent and logged, but its state was not saved: the next run sends it again',
  judge: 'not judged this run; the next run judges it again',
};

export function publishSignalMetrics(result: SignalsResult, durationMs: number): void {
  metrics.addMetric('SignalsRaised', MetricUnit.Count, result.raised);
  metrics.addMetric('SignalsLearning', MetricUnit.Count, result.learning.length);
  metrics.addMetric('SignalMessagesSent', MetricUnit.Count, result.sent.length);
  metrics.addMetric(
    'SignalPublishFailures',
    MetricUnit.Count,
    result.failed.filter((f) => f.step === 'publish').length,
  );
  metrics.addMetric('SignalStepFailures', MetricUnit.Count, result.failed.length);
  metrics.addMetric('UnauditedDisclosures', MetricUnit.Count, result.unaudited.length);
  metrics.addMetric('FlowInvalidItems', MetricUnit.Count, result.invalidFlowItems);
  metrics.addMetric('SignalsRunDuration', MetricUnit.Milliseconds, durationMs);
}

/** A report to ops that could not be sent: logged, and counted for its alarm. */
function opsReportFailed(error: unknown): void {
  metrics.addMetric(OPS_REPORT_FAILURES, MetricUnit.Count, 1);
  logger.error('ops notification failed', failureFields(error));
}

export function createSignalsHandler(deps: SignalsDeps, clock: () => number = Date.now) {
  // Kept across warm runs: each flow profile is fitted once a London day.
  const profiles: ProfileCache = new Map();
  return async (raw: unknown, context: Pick<Context, 'awsRequestId'>): Promise<SignalsResult> => {
    const parsed = signalsEventSchema.safeParse(raw);
    if (!parsed.success) {
      throw new SignalsEventError(
        `signals event is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ')}`,
      );
    }
    const event = parsed.data;
    const started = clock();
    const nowMs = event.at ? Date.parse(event.at) : started;
    const inForce = await deps.config();
    const runId = context.awsRequestId || randomUUID();
    let result: SignalsResult;
    try {
      result = await runSignals({
        config: inForce.config,
        nowMs,
        runId,
        mode: event.mode,
        flow: deps.flow,
        states: deps.states,
        publisher: deps.publisher,
        audit: deps.audit,
        profiles,
        ...(deps.retry ? { retry: deps.retry } : {}),
      });
    } catch (error) {
      // The flow or the signals' states could not be read: nothing judged, nothing sent. The
      // error's kind only, never its message (an SDK message can quote a value).
      logger.error('signals run failed before judging', { runId, ...failureFields(error) });
      throw new SignalsRunError(`signals run failed before judging: ${failureFields(error).error.name}`);
    }
    publishSignalMetrics(result, clock() - started);
    logger.info('signals run', {
      mode: result.mode,
      at: result.at,
      raised: result.raised,
      sent: result.sent.map((s) => `${s.event} ${s.signal}${s.district ? ` ${s.district}` : ''}`),
      learning: result.learning.length,
      failed: result.failed.length,
      configSource: inForce.source,
    });
    if (result.invalidFlowItems > 0) {
      await deps.ops
        .notify(
          `${result.invalidFlowItems} flow items could not be read`,
          `The signals run ${result.runId} left out ${result.invalidFlowItems} items of the flow table it could not read as transitions; the counts it judged may be low.`,
        )
        .catch((error: unknown) => opsReportFailed(error));
    }
    for (const disclosure of result.unaudited) {
      logger.error('disclosure not yet in the disclosure log', { disclosure });
    }
    if (result.failed.length > 0 || result.unaudited.length > 0) {
      const lines = [
        ...result.failed.map(
          (f) =>
            `  ${f.signal}${f.district ? ` in ${f.district}` : ''}: ${STEP_CONSEQUENCE[f.step]} (${f.error})`,
        ),
        ...result.unaudited.map(
          (d) =>
            `  message ${d.messageId} (${d.reason}): sent, but not in the disclosure log; its entry is in this function's log ("disclosure not yet in the disclosure log")`,
        ),
      ];
      const count = result.failed.length + result.unaudited.length;
      for (const f of result.failed) logger.error('signal step failed', { ...f });
      await deps.ops
        .notify(
          `${count} signal step${count === 1 ? '' : 's'} failed`,
          `Run ${result.runId}: ${count} step${count === 1 ? '' : 's'} failed after retries; every other signal was judged and sent.\n${lines.join('\n')}`,
        )
        .catch((error: unknown) => opsReportFailed(error));
      throw new SignalsDeliveryError(
        `${result.failed.length} signal steps failed and ${result.unaudited.length} disclosures are not logged; what was not sent remains due`,
      );
    }
    if (event.mode === 'daily' || event.mode === 'all')
      metrics.addMetric(HEARTBEAT_METRIC.daily, MetricUnit.Count, 1);
    if (event.mode === 'flow' || event.mode === 'all')
      metrics.addMetric(HEARTBEAT_METRIC.flow, MetricUnit.Count, 1);
    return result;
  };
}
