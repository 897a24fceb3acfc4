import { beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_EVERY_MINUTES } from '#infra/digest-alarms.ts';
import {
  DIGEST_TIMEOUT,
  INGEST_TIMEOUT,
  INGEST_VISIBILITY_TIMEOUT,
  SCAN_TIMEOUT,
  SIGNALS_TIMEOUT,
} from '#infra/limits.ts';
import { DEPLOYMENT, logicalId, type Synthesized, synthesize } from './support.ts';

interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  Namespace: string;
  MetricName: string;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
  Statistic: string;
  Period: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
}

const alarmsOf = (s: Synthesized) =>
  new Map(
    Object.values(s.appTemplate.findResources('AWS::CloudWatch::Alarm')).map((a) => {
      const p = a.Properties as AlarmProperties;
      return [p.AlarmName, p] as const;
    }),
  );

describe('alarms', () => {
  let s: Synthesized;
  let alarms: Map<string, AlarmProperties>;
  beforeAll(() => {
    s = synthesize(DEPLOYMENT);
    alarms = alarmsOf(s);
  });
  const alarm = (name: string) => {
    const found = alarms.get(`queuewatch-test-${name}`);
    if (!found) throw new Error(`no alarm ${name}; have ${[...alarms.keys()].join(', ')}`);
    return found;
  };
  // The force's own service name, so another force's metrics never count here.
  const service = [{ Name: 'service', Value: 'queuewatch-test' }];

  it('notifies the ops topic when any alarm fires and when it recovers', () => {
    const opsTopic = new RegExp(
      `^queuewatch-test-data:ExportsOutputRef${logicalId(s.data, s.data.opsTopic)}`,
    );
    expect(alarms.size).toBeGreaterThan(0);
    for (const a of alarms.values()) {
      expect(a.AlarmActions).toEqual([{ 'Fn::ImportValue': expect.stringMatching(opsTopic) }]);
      expect(a.OKActions).toEqual(a.AlarmActions);
    }
  });

  it('fires on a single scan error', () => {
    expect(alarm('scan-errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(s.app, s.app.scan.function) } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fires when no scan has succeeded for 15 minutes, counting missing heartbeats as breaching', () => {
    expect(alarm('scan-heartbeat')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'Heartbeat',
      Dimensions: service,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('widens the heartbeat window for a slower schedule, so a run on time never looks missed', () => {
    const slow = alarmsOf(synthesize({ ...DEPLOYMENT, scheduleMinutes: 15 })).get(
      'queuewatch-test-scan-heartbeat',
    );
    expect(slow?.EvaluationPeriods).toBe(4);
  });

  it('fires on a message in the ingest dead-letter queue', () => {
    const dlq = new RegExp(logicalId(s.data, s.data.ingestDeadLetterQueue));
    expect(alarm('ingest-dead-letters')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::ImportValue': expect.stringMatching(dlq) } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fires when a feed message has waited 15 minutes in the ingest queue (an ingest that is not running fails nothing)', () => {
    const queue = new RegExp(logicalId(s.data, s.data.ingestQueue));
    expect(alarm('ingest-backlog')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::ImportValue': expect.stringMatching(queue) } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 15 * 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when a report to ops could not be sent', () => {
    expect(alarm('ops-report-failures')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'OpsReportFailures',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('stays raised while a pushed config is not the one in force', () => {
    expect(alarm('config-not-in-force')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'PushedConfigNotInForce',
      Dimensions: service,
      Statistic: 'Sum',
      // Each run reports it: a window past the next run's end keeps it raised between runs.
      Period: 15 * 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires on a single rejected message', () => {
    expect(alarm('rejected-messages')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'RejectedMessages',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fires on an ingest error', () => {
    expect(alarm('ingest-errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(s.app, s.app.ingest.function) } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fires when a message goes back to SQS for a retry, which the function does not count as an error', () => {
    expect(alarm('ingest-retries')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'RetriedMessages',
      Dimensions: service,
      Statistic: 'Sum',
      // Past the next try: a message is received again once the visibility timeout has passed.
      Period: 12 * 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('ingest-retries').AlarmDescription).toMatch(/names the dependency/);
  });

  it('fires when no case has changed for six hours, so a dead feed (or one resending old state) is loud', () => {
    const silence = alarm('feed-silence');
    expect(silence).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'ChangedCases',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // Every bucket of the window must be empty.
    expect(silence.Period * silence.EvaluationPeriods).toBe(6 * 3600);
    expect(silence.DatapointsToAlarm ?? silence.EvaluationPeriods).toBe(silence.EvaluationPeriods);
  });

  it('takes the feed-silence window from configuration', () => {
    const silence = alarmsOf(synthesize(DEPLOYMENT, { feedSilenceHours: 12 })).get(
      'queuewatch-test-feed-silence',
    );
    expect((silence?.Period ?? 0) * (silence?.EvaluationPeriods ?? 0)).toBe(12 * 3600);
  });

  it('does not fire on a morning run that is on time: two runs are 25 hours apart when the clocks go back', () => {
    const daily = alarm('daily-signals-heartbeat');
    expect(daily).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'DailySignalsHeartbeat',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // A sliding window: it fires when no heartbeat fell in the last Period x EvaluationPeriods, every
    // bucket empty. 06:30 London is 05:30 UTC on Saturday 24 October 2026 and 06:30 UTC on Sunday
    // 25 October; a run may start up to 15 minutes late (the schedule's maximum event age) and ends
    // (its heartbeat) up to its timeout after that.
    const window = daily.Period * daily.EvaluationPeriods;
    expect(daily.DatapointsToAlarm ?? daily.EvaluationPeriods).toBe(daily.EvaluationPeriods);
    const saturday = Date.parse('2026-10-24T05:30:00Z');
    const sunday = Date.parse('2026-10-25T06:30:00Z');
    const latest = 15 * 60 + SIGNALS_TIMEOUT.toSeconds();
    expect(window).toBeGreaterThan((sunday - saturday) / 1000 + latest);
    // A morning with no run still fires: around it, two heartbeats are at least 46 hours apart (two
    // 23-hour days when the clocks go forward), less a first run that ended late.
    expect(window).toBeLessThan(46 * 3600 - latest);
  });

  it('stays raised while every run fails: an alarm on what each run reports looks back past the next run', () => {
    // With missing data not breaching and a sliding window, an alarm whose window is shorter than
    // the time from one run's end to the next's goes back to OK between two failing runs, and tells
    // ops it has recovered. The next run ends at most one interval plus the run's own length later.
    const slow = alarmsOf(synthesize({ ...DEPLOYMENT, scheduleMinutes: 15, flowCheckMinutes: 20 }));
    const seconds = (d: { toSeconds(): number }) => d.toSeconds();
    const perRun: Array<[Map<string, AlarmProperties>, string, number]> = [
      [alarms, 'scan-errors', 5 * 60 + seconds(SCAN_TIMEOUT)],
      [alarms, 'config-not-in-force', 5 * 60 + seconds(SCAN_TIMEOUT)],
      [slow, 'scan-errors', 15 * 60 + seconds(SCAN_TIMEOUT)],
      [slow, 'config-not-in-force', 15 * 60 + seconds(SCAN_TIMEOUT)],
      // A failed feed message is received again when the queue's visibility timeout has passed.
      [alarms, 'ingest-errors', seconds(INGEST_VISIBILITY_TIMEOUT) + seconds(INGEST_TIMEOUT)],
      [alarms, 'ingest-retries', seconds(INGEST_VISIBILITY_TIMEOUT) + seconds(INGEST_TIMEOUT)],
      [alarms, 'signals-errors', 15 * 60 + seconds(SIGNALS_TIMEOUT)],
      [slow, 'signals-errors', 20 * 60 + seconds(SIGNALS_TIMEOUT)],
      [alarms, 'digest-errors', DIGEST_EVERY_MINUTES * 60 + seconds(DIGEST_TIMEOUT)],
      [alarms, 'digest-overdue', DIGEST_EVERY_MINUTES * 60 + seconds(DIGEST_TIMEOUT)],
    ];
    const short = perRun.flatMap(([from, name, between]) => {
      const a = from.get(`queuewatch-test-${name}`);
      if (!a) throw new Error(`no alarm ${name}`);
      // One breaching datapoint anywhere in the window raises it.
      const window =
        a.Period * ((a.DatapointsToAlarm ?? a.EvaluationPeriods) === 1 ? a.EvaluationPeriods : 1);
      return window > between ? [] : [`${name}: ${window} s window, ${between} s between two runs' ends`];
    });
    expect(short).toEqual([]);
  });

  it('warns at 80% of the SMS spend limit the deployment gives, and has no spend alarm without one', () => {
    expect(alarms.has('queuewatch-test-sms-spend')).toBe(false);
    const spend = alarmsOf(synthesize({ ...DEPLOYMENT, smsSpendLimitUsd: 50 })).get(
      'queuewatch-test-sms-spend',
    );
    expect(spend).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'SMSMonthToDateSpentUSD',
      Statistic: 'Maximum',
      Threshold: 40,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(spend?.Dimensions).toBeUndefined();
    expect(spend?.AlarmDescription).toMatch(
      /^SMS spend this month has reached USD 40, 80% of the account's limit/,
    );
  });

  it('fires when SNS fails to deliver an alert', () => {
    expect(alarm('alert-delivery-failures')).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});
