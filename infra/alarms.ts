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
import { METRICS_NAMESPACE, SERVICE } from '#shared/lambda/observability.ts';
import { HEARTBEAT_METRIC } from '#shared/signals/run-signals.ts';

/** A queuewatch custom metric, as Powertools emits it (the service dimension on every metric). */
export function queuewatchMetric(metricName: string, period: Duration): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE },
    statistic: 'Sum',
    period,
  });
}

export interface AlarmsProps {
  prefix: string;
  opsTopic: ITopic;
  alertTopic: ITopic;
  scan: IFunction;
  ingest: IFunction;
  signals: IFunction;
  /** Minutes between the signals' checks for stopped flow. */
  flowCheckMinutes: number;
  ingestDeadLetterQueue: IQueue;
  scheduleMinutes: number;
  feedSilenceHours: number;
}

export class QueuewatchAlarms extends Construct {
  readonly alarms: Record<
    | 'scanErrors'
    | 'scanHeartbeat'
    | 'ingestErrors'
    | 'ingestDeadLetters'
    | 'rejectedMessages'
    | 'feedSilence'
    | 'alertDeliveryFailures'
    | 'signalsErrors'
    | 'flowSignalsHeartbeat'
    | 'dailySignalsHeartbeat',
    Alarm
  >;

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
      },
    ) => {
      const a = new Alarm(this, alarmId, {
        alarmName: `${props.prefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold: 1,
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

    // Three empty 5-minute periods make 15 minutes without a successful run; a slower schedule
    // widens the window so a run on time never looks missed.
    const heartbeatPeriods = Math.max(3, Math.ceil(props.scheduleMinutes / 5) + 1);
    // Hourly buckets, all of them empty: alarms within the hour after the window passes, rather
    // than at the end of one long aligned period.
    const silencePeriod = Duration.hours(1);

    this.alarms = {
      scanErrors: alarm(
        'scan-errors',
        'The scan function failed. Alerts may not be going out: check its logs.',
        props.scan.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        atLeastOne,
      ),
      scanHeartbeat: alarm(
        'scan-heartbeat',
        `No successful scan for ${heartbeatPeriods * 5} minutes: the watcher itself has stopped. ` +
          'Nobody is being alerted about ageing cases.',
        queuewatchMetric('Heartbeat', fiveMinutes),
        noneAt(heartbeatPeriods),
      ),
      ingestErrors: alarm(
        'ingest-errors',
        'The ingest function failed; messages will be retried and may reach the dead-letter queue.',
        props.ingest.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
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
        queuewatchMetric('IngestedMessages', silencePeriod),
        noneAt(props.feedSilenceHours),
      ),
      signalsErrors: alarm(
        'signals-errors',
        'The signals function failed: falls in referrals or stopped flow may not be raised. Check its logs.',
        props.signals.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
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
        'No successful morning run of the signals in a day: falling referral rates and shares are not being judged.',
        queuewatchMetric(HEARTBEAT_METRIC.daily, Duration.days(1)),
        noneAt(1),
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
  }
}
