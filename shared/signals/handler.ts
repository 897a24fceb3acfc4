// The signals function's use case wiring: per invocation the config in force, one run of the mode
// the schedule asks for (a check for stopped flow also making the day's rates and shares while they
// are due and not completed), metrics, and ops told what needs them (its AWS adapters:
// shared/wiring/).

import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { clockMinutes, DAY_MS, londonLocalToUtc } from '../domain/calendar.ts';
import { dayText, londonDay } from '../domain/flow.ts';
import * as z from '../domain/zod.ts';
import { failureFields } from '../lambda/dependency.ts';
import { logger, metrics } from '../lambda/observability.ts';
import {
  type AuditLog,
  type ConfigInForce,
  OPS_REPORT_FAILURES,
  type OpsNotifier,
  type Publisher,
  type StateStore,
} from '../scan/ports.ts';
import { dueToTell, rememberedIn } from '../scan/report.ts';
import { DEFAULT_RETRY, errorName, type RetryPolicy, withRetry } from '../scan/retry.ts';
import type { ProfileCache } from './evaluate.ts';
import type { FlowReader, SignalStateStore } from './ports.ts';
import {
  HEARTBEAT_METRIC,
  runSignals,
  SIGNAL_MODES,
  type SignalsMode,
  type SignalsResult,
} from './run-signals.ts';

export interface SignalsDeps {
  config(): Promise<ConfigInForce>;
  flow: FlowReader;
  states: SignalStateStore;
  publisher: Publisher;
  audit: AuditLog;
  ops: OpsNotifier;
  /** Where what ops were told is remembered, so that a failure lasting hours is told when it changes
   * and hourly, not at every check (the state table). Without it (local runs), every time. */
  told?: StateStore;
  /** Retries of each disclosure log and state write (the scan's by default). */
  retry?: RetryPolicy;
  /** The morning run's London time (HH:MM: the deployment's `signalsAt`). From then until the London
   * day ends, a check for stopped flow that finds the day's daily judgement not completed makes it
   * too, so a morning run that failed, timed out or never ran is retried at each check. */
  signalsAt: string;
}

/** Today's morning run (the London day of `nowMs`, at `signalsAt`), as a UTC instant. */
export const morningRunAt = (signalsAt: string, nowMs: number): number =>
  londonLocalToUtc(londonDay(nowMs) * DAY_MS + clockMinutes(signalsAt) * 60_000);

/** The mode a run takes: the schedule's, and for a check for stopped flow also the daily part when
 * today's is due (its morning time has passed) and not recorded as completed. A record that cannot
 * be read is taken as not completed: judging again sends nothing twice. */
async function modeOfRun(
  asked: SignalsMode,
  deps: Pick<SignalsDeps, 'signalsAt' | 'states'>,
  nowMs: number,
): Promise<SignalsMode> {
  if (asked !== 'flow' || nowMs < morningRunAt(deps.signalsAt, nowMs)) return asked;
  const completed = await deps.states.dailyCompleted().catch((error: unknown) => {
    logger.warn('the daily judgement’s record could not be read: it is made again', failureFields(error));
    return undefined;
  });
  return completed === dayText(londonDay(nowMs)) ? 'flow' : 'all';
}

/** Where the signals function remembers what ops were told (the state table). */
const TOLD = 'signals-ops-reports';

/** Tells ops each kind of report when what it says changes, or hourly while it lasts (the scan's
 * rule, in report.ts), remembering what was told; a kind with nothing to report is remembered as
 * such, so that a recurrence is told at once. What was told that cannot be read is told again; a
 * failure to tell or to remember is logged, and never stops the run. */
function opsTeller(deps: Pick<SignalsDeps, 'ops' | 'told'>, nowMs: number) {
  const { told } = deps;
  let said: Promise<Record<string, unknown> | undefined> | undefined;
  const read = () => {
    said ??= told
      ? told.get(TOLD).catch((error: unknown) => {
          logger.warn('what ops were told could not be read: told again', failureFields(error));
          return undefined;
        })
      : Promise.resolve(undefined);
    return said;
  };
  const remember = async (kind: string, fingerprint: string) => {
    if (!told) return;
    const next = { ...((await read()) ?? {}), [kind]: { fingerprint, at: nowMs } };
    said = Promise.resolve(next);
    await told.put(TOLD, next).catch((error: unknown) => {
      logger.warn('what ops were told could not be recorded', failureFields(error));
    });
  };
  return {
    async tell(kind: string, fingerprint: string, subject: string, text: string): Promise<void> {
      if (told && !dueToTell(rememberedIn(await read(), kind), fingerprint, nowMs)) return;
      try {
        await deps.ops.notify(subject, text);
      } catch (error) {
        opsReportFailed(error);
        return;
      }
      await remember(kind, fingerprint);
    },
    async clear(kind: string): Promise<void> {
      if (told && rememberedIn(await read(), kind)?.fingerprint) await remember(kind, '');
    },
  };
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

/** `unrecorded`: 1 when a completed daily judgement could not be recorded (a failed step too). */
export function publishSignalMetrics(result: SignalsResult, durationMs: number, unrecorded = 0): void {
  metrics.addMetric('SignalsRaised', MetricUnit.Count, result.raised);
  metrics.addMetric('SignalsLearning', MetricUnit.Count, result.learning.length);
  metrics.addMetric('SignalMessagesSent', MetricUnit.Count, result.sent.length);
  metrics.addMetric(
    'SignalPublishFailures',
    MetricUnit.Count,
    result.failed.filter((f) => f.step === 'publish').length,
  );
  metrics.addMetric('SignalStepFailures', MetricUnit.Count, result.failed.length + unrecorded);
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
  // A signalsAt that is not a time fails here, at cold start, naming it, not in every run.
  try {
    clockMinutes(deps.signalsAt);
  } catch (error) {
    throw new RangeError(`signalsAt (SIGNALS_AT) is not a London time like 06:30: ${deps.signalsAt}`, {
      cause: error,
    });
  }
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
    const ops = opsTeller(deps, nowMs);
    const runId = context.awsRequestId || randomUUID();
    let result: SignalsResult;
    try {
      result = await runSignals({
        config: inForce.config,
        nowMs,
        runId,
        mode: await modeOfRun(event.mode, deps, nowMs),
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
    // The daily judgement completed: recorded, so the checks for stopped flow leave it until
    // tomorrow's morning (not recorded, they make it again, which sends nothing twice).
    let unrecorded: string | undefined;
    if (result.completed.includes('daily')) {
      await withRetry(
        () => deps.states.completeDaily(dayText(londonDay(nowMs))),
        deps.retry ?? DEFAULT_RETRY,
      ).catch((error: unknown) => {
        unrecorded = errorName(error);
      });
    }
    publishSignalMetrics(result, clock() - started, unrecorded !== undefined ? 1 : 0);
    // Each part's heartbeat says it completed (the daily one: today's rates and shares judged and
    // sent), whatever another part did.
    for (const part of result.completed) metrics.addMetric(HEARTBEAT_METRIC[part], MetricUnit.Count, 1);
    logger.info('signals run', {
      mode: result.mode,
      at: result.at,
      raised: result.raised,
      sent: result.sent.map((s) => `${s.event} ${s.signal}${s.district ? ` ${s.district}` : ''}`),
      learning: result.learning.length,
      failed: result.failed.length,
      configSource: inForce.source,
    });
    if (result.invalidFlowItems === 0) await ops.clear('flow-items');
    if (result.invalidFlowItems > 0) {
      const transitions = result.invalidFlowItems - result.unreadableMarkers.length;
      const lines = [
        ...(transitions > 0
          ? [
              `The signals run ${result.runId} left out ${transitions} items of the flow table it could not read as transitions; the counts it judged may be low.`,
            ]
          : []),
        ...result.unreadableMarkers.map(({ district, marker }) =>
          marker === 'since'
            ? `${district}'s first day of flow (flow table item pk "since", sk "${district}") is not a date: the run took the first day with a transition it read instead. Write the district's first day of flow there (YYYY-MM-DD) to stop this report.`
            : `${district}'s latest transition (flow table item pk "last", sk "${district}") is not an instant: the run took the latest transition in its flow instead. The next transition recorded for the district replaces it.`,
        ),
      ];
      await ops.tell(
        'flow-items',
        lines
          .slice(transitions > 0 ? 1 : 0)
          .concat(`${transitions}`)
          .join('\n'),
        `${result.invalidFlowItems} flow items could not be read`,
        lines.join('\n'),
      );
    }
    for (const disclosure of result.unaudited) {
      logger.error('disclosure not yet in the disclosure log', { disclosure });
    }
    const dailyIncomplete = result.mode !== 'flow' && !result.completed.includes('daily');
    if (result.failed.length === 0 && result.unaudited.length === 0 && unrecorded === undefined) {
      await ops.clear('failures');
    }
    if (result.failed.length > 0 || result.unaudited.length > 0 || unrecorded !== undefined) {
      const lines = [
        ...result.failed.map(
          (f) =>
            `  ${f.signal}${f.district ? ` in ${f.district}` : ''}: ${STEP_CONSEQUENCE[f.step]} (${f.error})`,
        ),
        ...result.unaudited.map(
          (d) =>
            `  message ${d.messageId} (${d.reason}): sent, but not in the disclosure log; its entry is in this function's log ("disclosure not yet in the disclosure log")`,
        ),
        ...(unrecorded !== undefined
          ? [
              `  today's rates and shares: judged and sent, but that could not be recorded: the next check judges them again, sending nothing twice (${unrecorded})`,
            ]
          : []),
      ];
      const count = result.failed.length + result.unaudited.length + (unrecorded !== undefined ? 1 : 0);
      for (const f of result.failed) logger.error('signal step failed', { ...f });
      // The morning's signals are not held over to tomorrow's morning run: each check retries them.
      const retried = dailyIncomplete
        ? `\nToday's rates and shares are judged again at each check for stopped flow (from ${deps.signalsAt} London time, until the day ends) until every one has gone.`
        : '';
      await ops.tell(
        'failures',
        [...lines, retried].join('\n'),
        `${count} signal step${count === 1 ? '' : 's'} failed`,
        `Run ${result.runId}: ${count} step${count === 1 ? '' : 's'} failed after retries; every other signal was judged and sent.\n${lines.join('\n')}${retried}`,
      );
      throw new SignalsDeliveryError(
        `${count - result.unaudited.length} signal steps failed and ${result.unaudited.length} disclosures are not logged; what was not sent remains due`,
      );
    }
    return result;
  };
}
