// The daily picture's own alarms: it failed, it is overdue (a digest that fell due three hours ago has
// not gone: "no picture by mid-morning"), or it has stopped running at all (so nothing could even
// say it is overdue); and the subscription check each of its runs makes: a subscription the stack
// made that delivers nothing. Each notifies the ops topic, and again when it recovers.

import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmName } from '#shared/delivery/names.ts';
import { DIGEST_METRICS } from '#shared/digest/metrics.ts';
import { DIGEST_OVERDUE_AFTER_MS } from '#shared/digest/schedule.ts';
import { perRunWindow, queuewatchMetric } from './alarms.ts';
import { DIGEST_TIMEOUT } from './limits.ts';

/** The digest function runs every quarter of an hour (see DIGEST_SCHEDULE). */
export const DIGEST_EVERY_MINUTES = 15;
/** Runs without a heartbeat before the digest-heartbeat alarm fires: an hour. */
export const DIGEST_HEARTBEAT_PERIODS = 4;

export interface DigestAlarmsProps {
  /** The force's stage, which names the alarms. */
  stage: string;
  opsTopic: ITopic;
  digest: IFunction;
}

export class DigestAlarms extends Construct {
  readonly alarms: Record<
    'digestErrors' | 'digestOverdue' | 'digestHeartbeat' | 'subscriptionsNotReceiving',
    Alarm
  >;
  readonly alarmNames: string[] = [];

  constructor(scope: Construct, id: string, props: DigestAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(DIGEST_EVERY_MINUTES);
    const perRun = perRunWindow(period, DIGEST_TIMEOUT);
    const action = new SnsAction(props.opsTopic);
    const alarm = (
      alarmId: string,
      description: string,
      metric: IMetric,
      comparison: ComparisonOperator,
      evaluationPeriods: number,
      missing: TreatMissingData,
    ) => {
      const name = alarmName(props.stage, alarmId);
      this.alarmNames.push(name);
      const a = new Alarm(this, alarmId, {
        alarmName: name,
        alarmDescription: description,
        metric,
        threshold: 1,
        comparisonOperator: comparison,
        evaluationPeriods,
        treatMissingData: missing,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    const overdueHours = DIGEST_OVERDUE_AFTER_MS / 3_600_000;

    this.alarms = {
      digestErrors: alarm(
        'digest-errors',
        'The daily digest function failed (its log says which step): what it could not send stays due and ' +
          'the next run, a quarter of an hour later, tries again.',
        props.digest.metricErrors({ period: perRun, statistic: 'Sum' }),
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        1,
        TreatMissingData.NOT_BREACHING,
      ),
      digestOverdue: alarm(
        'digest-overdue',
        `A daily digest fell due ${overdueHours} hours ago and has not been sent: directors and the senior ` +
          'officer have no picture of the queue this morning. The log line "daily digests overdue" names them.',
        queuewatchMetric(DIGEST_METRICS.overdue, perRun, { statistic: 'Maximum' }),
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        1,
        TreatMissingData.NOT_BREACHING,
      ),
      digestHeartbeat: alarm(
        'digest-heartbeat',
        `No successful daily digest run for ${(DIGEST_HEARTBEAT_PERIODS * DIGEST_EVERY_MINUTES) / 60} hour: ` +
          'the digest function has stopped running or keeps failing, so no digest can go out or be called overdue.',
        queuewatchMetric(DIGEST_METRICS.heartbeat, period),
        ComparisonOperator.LESS_THAN_THRESHOLD,
        DIGEST_HEARTBEAT_PERIODS,
        TreatMissingData.BREACHING,
      ),
      subscriptionsNotReceiving: alarm(
        'subscriptions-not-receiving',
        'A subscription on the alert or ops topic delivers nothing: an inbox that has not confirmed the email ' +
          'AWS sent, a phone opted out of SMS from this account (a reply of STOP), or fewer subscriptions than ' +
          'the stack made (one deleted since the deploy: an unsubscribe link, perhaps opened by a mail ' +
          'gateway). Counted by kind against what the stack made. The digest function checks every ' +
          'quarter of an hour; its log line "subscriptions that deliver nothing" says which kinds on which ' +
          'topic. Also raised when no check has succeeded for an hour ("subscription check failed").',
        queuewatchMetric(DIGEST_METRICS.subscriptionsNotReceiving, Duration.hours(1), {
          statistic: 'Maximum',
        }),
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        1,
        TreatMissingData.BREACHING,
      ),
    };
  }
}
