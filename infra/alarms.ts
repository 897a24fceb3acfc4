// The alarms that make the watcher's own failures loud: errors, a scan that stops running, a feed
// that goes quiet, messages that can never be ingested. Every one notifies the ops topic, and again
// when it recovers.

import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmName } from '#shared/delivery/names.ts';
import { SMS_SPEND_WARN_SHARE } from '#shared/delivery/subscriptions.ts';
import { METRICS_NAMESPACE } from '#shared/lambda/observability.ts';
import { CONFIG_NOT_IN_FORCE, OPS_REPORT_FAILURES } from '#shared/scan/ports.ts';
import { HEARTBEAT_METRIC } from '#shared/signals/run-signals.ts';
import { lazyServiceName } from './force.ts';
import { INGEST_TIMEOUT, INGEST_VISIBILITY_TIMEOUT, SCAN_TIMEOUT, SIGNALS_TIMEOUT } from './limits.ts';

/** A queuewatch custom metric, as Powertools emits it (the service dimension on every metric: the
 * force's own, settled by the stack it is used in). Counts are summed; a gauge (a value per run)
 * asks for `Maximum`. */
export function queuewatchMetric(
  metricName: string,
  period: Duration,
  options: { statistic?: string; label?: string } = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: lazyServiceName() },
    statistic: options.statistic ?? 'Sum',
    period,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
}

/** How long a feed message may wait in the ingest queue before the ingest-backlog alarm fires: a
 * working ingest takes seconds, and the shortest limits in the shipped config are 30 minutes. */
export const INGEST_BACKLOG_MINUTES = 15;

/** The window of an alarm on what every run reports (its errors, or a state such as the config in
 * force): longer than from one run's end to the next's (the interval between runs, and the longest a
 * run may take), with five minutes for the metric to arrive. A shorter one, missing data not
 * breaching, goes back to OK between two failing runs and tells ops it has recovered. */
export function perRunWindow(every: Duration, runTimeout: Duration): Duration {
  return Duration.minutes(every.toMinutes() + Math.ceil(runTimeout.toSeconds() / 60) + 5);
}

/** Hours without a morning heartbeat before the daily-signals-heartbeat alarm fires. Its window
 * slides: one of a day would fire whenever a run ended later than the one before (a later start,
 * a longer replay), and every year when the London clocks go back, leaving two morning runs 25
 * hours apart. So 25 hours, a run starting up to a quarter of an hour late (the schedule's maximum
 * event age) and running up to its five-minute timeout, rounded up to the hour. */
export const DAILY_SIGNALS_HEARTBEAT_HOURS = 26;

/** Five-minute periods without a heartbeat before the scan-heartbeat alarm fires: three (15
 * minutes), or more for a slower schedule, so a run on time never looks missed. */
export function heartbeatPeriods(scheduleMinutes: number): number {
  return Math.max(3, Math.ceil(scheduleMinutes / 5) + 1);
}

export interface AlarmsProps {
  /** The force's stage, which names the alarms. */
  stage: string;
  opsTopic: ITopic;
  alertTopic: ITopic;
  scan: IFunction;
  ingest: IFunction;
  signals: IFunction;
  /** Minutes between the signals' checks for stopped flow. */
  flowCheckMinutes: number;
  ingestQueue: IQueue;
  ingestDeadLetterQueue: IQueue;
  scheduleMinutes: number;
  feedSilenceHours: number;
  /** The account's monthly SMS spend limit (USD), if the deployment gives it. */
  smsSpendLimitUsd?: number;
}

export class QueuewatchAlarms extends Construct {
  readonly alarms: Record<
    | 'scanErrors'
    | 'scanHeartbeat'
    | 'ingestErrors'
    | 'ingestRetries'
    | 'ingestDeadLetters'
    | 'ingestBacklog'
    | 'rejectedMessages'
    | 'feedSilence'
    | 'alertDeliveryFailures'
    | 'signalsErrors'
    | 'flowSignalsHeartbeat'
    | 'dailySignalsHeartbeat'
    | 'opsReportFailures'
    | 'configNotInForce',
    Alarm
  >;
  /** Only when the deployment gives the account's SMS spend limit. */
  readonly smsSpend?: Alarm;
  /** Every alarm's name as written (not a reference), for widgets that list them. */
  readonly alarmNames: string[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);
    const action = new SnsAction(props.opsTopic);
    const alarm = (
      alarmId: string,
      description: string,
      metric: IMetric,
      options: {
        comparison: ComparisonOperator;
        evaluationPeriods?: number;
        missing?: TreatMissingData;
        threshold?: number;
      },
    ) => {
      const name = alarmName(props.stage, alarmId);
      this.alarmNames.push(name);
      const a = new Alarm(this, alarmId, {
        alarmName: name,
        alarmDescription: description,
        metric,
        threshold: options.threshold ?? 1,
        comparisonOperator: options.comparison,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    const atLeastOne = { comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };
    const noneAt = (evaluationPeriods: number) => ({
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods,
      missing: TreatMissingData.BREACHING,
    });

    const heartbeatWindow = heartbeatPeriods(props.scheduleMinutes);
    const perScanRun = perRunWindow(Duration.minutes(props.scheduleMinutes), SCAN_TIMEOUT);
    const perSignalsRun = perRunWindow(Duration.minutes(props.flowCheckMinutes), SIGNALS_TIMEOUT);
    // A feed message that failed is received again once the queue's visibility timeout has passed.
    const perIngestTry = perRunWindow(INGEST_VISIBILITY_TIMEOUT, INGEST_TIMEOUT);
    // Hourly buckets, all of them empty: alarms within the hour after the window passes, rather
    // than at the end of one long aligned period.
    const silencePeriod = Duration.hours(1);

    this.alarms = {
      scanErrors: alarm(
        'scan-errors',
        'The scan function failed. Alerts may not be going out: check its logs.',
        props.scan.metricErrors({ period: perScanRun, statistic: 'Sum' }),
        atLeastOne,
      ),
      scanHeartbeat: alarm(
        'scan-heartbeat',
        `No successful scan for ${heartbeatWindow * 5} minutes: the watcher itself has stopped. ` +
          'Nobody is being alerted about ageing cases.',
        queuewatchMetric('Heartbeat', fiveMinutes),
        noneAt(heartbeatWindow),
      ),
      ingestErrors: alarm(
        'ingest-errors',
        'The ingest function failed (its log says which dependency, if one did): the whole batch goes back ' +
          'to SQS and is retried, reaching the dead-letter queue after 5 receives.',
        props.ingest.metricErrors({ period: perIngestTry, statistic: 'Sum' }),
        atLeastOne,
      ),
      // A dependency failing for some messages does not fail the function (the batch reports those
      // messages back to SQS), so the Errors metric never sees it: this does.
      ingestRetries: alarm(
        'ingest-retries',
        'Feed messages failed for a passing reason (a table throttling or unreachable: the log line ' +
          '"feed message failed for now" names the dependency) and went back to SQS. The mirror is behind ' +
          'until they succeed; after 5 receives they reach the dead-letter queue.',
        queuewatchMetric('RetriedMessages', perIngestTry),
        atLeastOne,
      ),
      ingestDeadLetters: alarm(
        'ingest-dead-letters',
        'Case changes are in the ingest dead-letter queue: the mirror is missing them. Fix the cause, ' +
          'then redrive the queue.',
        props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: 'Maximum',
        }),
        atLeastOne,
      ),
      // Nothing fails when the ingest function is not running at all (its event source disabled, the
      // function deleted or throttled): the messages just wait, and new cases never reach the mirror.
      ingestBacklog: alarm(
        'ingest-backlog',
        `A feed message has waited over ${INGEST_BACKLOG_MINUTES} minutes in the ingest queue: the mirror is ` +
          'behind, so new and changed cases are not being watched. Check that the ingest function is ' +
          "running (its SQS trigger enabled, not throttled) and its errors; the queue's age of oldest " +
          'message shows the backlog.',
        props.ingestQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
        { ...atLeastOne, threshold: INGEST_BACKLOG_MINUTES * 60 },
      ),
      rejectedMessages: alarm(
        'rejected-messages',
        'The feed sent messages that can never be valid; they are in the rejects table with their reason.',
        queuewatchMetric('RejectedMessages', fiveMinutes),
        atLeastOne,
      ),
      feedSilence: alarm(
        'feed-silence',
        `No case change ingested for ${props.feedSilenceHours} hours: the feed may be broken, and the ` +
          'mirror (and every alert) is going stale.',
        queuewatchMetric('ChangedCases', silencePeriod),
        noneAt(props.feedSilenceHours),
      ),
      signalsErrors: alarm(
        'signals-errors',
        'The signals function failed: falls in referrals or stopped flow may not be raised. Check its logs.',
        props.signals.metricErrors({ period: perSignalsRun, statistic: 'Sum' }),
        atLeastOne,
      ),
      // Three checks in a row missing: the watcher of silence has itself gone silent.
      flowSignalsHeartbeat: alarm(
        'flow-signals-heartbeat',
        `No successful check for stopped flow for ${3 * props.flowCheckMinutes} minutes: a district or the whole ` +
          'feed could stop without anyone being told.',
        queuewatchMetric(HEARTBEAT_METRIC.flow, Duration.minutes(props.flowCheckMinutes)),
        noneAt(3),
      ),
      dailySignalsHeartbeat: alarm(
        'daily-signals-heartbeat',
        `The day's referral rates and shares have not been judged and sent in full for ${DAILY_SIGNALS_HEARTBEAT_HOURS} hours ` +
          '(the morning run and the checks after it that make it again have all failed, or none ran): falling ' +
          'referral rates and shares may not be raised.',
        queuewatchMetric(HEARTBEAT_METRIC.daily, silencePeriod),
        noneAt(DAILY_SIGNALS_HEARTBEAT_HOURS),
      ),
      opsReportFailures: alarm(
        'ops-report-failures',
        'A report to ops could not be sent (the ops topic refused it or was unreachable), so ops were not told ' +
          'of something the scan, the ingest or the signals found. The log of the function that could not send ' +
          'it has an error line saying so, with what the report was about.',
        queuewatchMetric(OPS_REPORT_FAILURES, fiveMinutes),
        atLeastOne,
      ),
      // Ops are told what was wrong once; this stays raised until a good config is pushed, so an admin
      // who believes a tightened threshold is live can see that it is not.
      configNotInForce: alarm(
        'config-not-in-force',
        'The config pushed to SSM is not the one the scan runs on: the push was refused (it fails validation) ' +
          'or its parameter was deleted. Alerting goes on with the last good config; what was wrong went to ' +
          'ops when it began. `queuewatch config show --stage <stage>` shows what is in force; fix the ' +
          'config and push it again.',
        queuewatchMetric(CONFIG_NOT_IN_FORCE, perScanRun),
        atLeastOne,
      ),
      alertDeliveryFailures: alarm(
        'alert-delivery-failures',
        'SNS failed to deliver alerts (SMS or email) to subscribers.',
        new Metric({
          namespace: 'AWS/SNS',
          metricName: 'NumberOfNotificationsFailed',
          dimensionsMap: { TopicName: props.alertTopic.topicName },
          statistic: 'Sum',
          period: fiveMinutes,
        }),
        atLeastOne,
      ),
    };
    if (props.smsSpendLimitUsd !== undefined) {
      const warnAt = Math.round(props.smsSpendLimitUsd * SMS_SPEND_WARN_SHARE * 100) / 100;
      // The whole account's spend in the region (the metric has no dimension): SNS stops sending
      // every SMS within minutes of reaching the limit.
      this.smsSpend = alarm(
        'sms-spend',
        `SMS spend this month has reached USD ${warnAt}, ${SMS_SPEND_WARN_SHARE * 100}% of the account's limit ` +
          `(USD ${props.smsSpendLimitUsd}): at the limit SNS stops sending every SMS, and alerts reach phones no ` +
          'more until the month ends. Ask AWS to raise the limit (and set smsSpendLimitUsd to match), or ' +
          'lower sms.maxPerRun.',
        new Metric({
          namespace: 'AWS/SNS',
          metricName: 'SMSMonthToDateSpentUSD',
          statistic: 'Maximum',
          period: Duration.hours(1),
        }),
        { ...atLeastOne, threshold: warnAt },
      );
    }
  }
}
