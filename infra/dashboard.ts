// The CloudWatch dashboard: the queue at a glance for a service owner (how many cases, how old, how
// many past their limits, what was sent) and the watcher's health for an engineer (alarms, runs,
// failures, the feed), one row per question, each opening with a note saying how to read it.

import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  AlarmStatusWidgetSortBy,
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  LogQueryVisualizationType,
  LogQueryWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TextWidgetBackground,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEPENDENCY_FAILURES_METRIC } from '#shared/lambda/dependency.ts';
import { METRICS_NAMESPACE } from '#shared/lambda/observability.ts';
import { heartbeatPeriods, queuewatchMetric } from './alarms.ts';
import { serviceOf } from './force.ts';

export interface DashboardProps {
  dashboardName: string;
  stage: string;
  scan: IFunction;
  ingest: IFunction;
  logGroups: ILogGroup[];
  alertTopic: ITopic;
  ingestQueue: IQueue;
  ingestDeadLetterQueue: IQueue;
  /** The alarms to show, by name: their ARNs are built from the names rather than read from the
   * alarms, so the dashboard holds no reference to them (moto, which cannot create alarms from a
   * template, deploys it too). */
  alarmNames: string[];
  scheduleMinutes: number;
  scanTimeout: Duration;
  feedSilenceHours: number;
}

const ROW_HEIGHT = 6;
const NOTE_WIDTH = 6;
const HOUR = Duration.hours(1);

/** A search over a per-dimension metric the scan publishes with `singleMetric` (service plus the
 * given dimensions), so a category added by `config push` shows up without a deploy. */
const search = (
  service: string,
  metricName: string,
  dimensions: string[],
  statistic: string,
  period: Duration,
) =>
  `SEARCH('{${METRICS_NAMESPACE},${[...dimensions, 'service'].join(',')}} MetricName="${metricName}" service="${service}"', '${statistic}', ${period.toSeconds()})`;

export class QueuewatchDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const service = serviceOf(this);
    // The scan publishes its gauges once a run: one run per bucket, at least five minutes wide.
    const runPeriod = Duration.minutes(Math.max(5, props.scheduleMinutes));
    const gauge = (name: string, label: string) =>
      queuewatchMetric(name, runPeriod, { statistic: 'Maximum', label });
    const perHour = (name: string, label: string) => queuewatchMetric(name, HOUR, { label });
    const per5Minutes = (name: string, label: string) =>
      queuewatchMetric(name, Duration.minutes(5), { label });
    const note = (markdown: string) =>
      new TextWidget({
        markdown,
        width: NOTE_WIDTH,
        height: ROW_HEIGHT,
        background: TextWidgetBackground.TRANSPARENT,
      });
    const graph = (
      title: string,
      width: number,
      left: IMetric[],
      extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
    ) => new GraphWidget({ title, width, height: ROW_HEIGHT, left, leftYAxis: { min: 0 }, ...extra });

    const header = new TextWidget({
      width: 24,
      height: 2,
      markdown: [
        `# queuewatch ${props.stage}: the safeguarding queue and its watcher`,
        'Top rows: the queue as the scan sees it every run (service owners). Lower rows: whether alerts ' +
          'go out and the feed keeps the mirror true (engineers). Every alarm notifies the ops topic.',
      ].join('\n'),
    });

    const health: IWidget[] = [
      note(
        [
          '## Is it watching?',
          "Each alarm's state: red means ops have been told. **Heartbeat**: one per scan run that " +
            `succeeded; none for ${heartbeatPeriods(props.scheduleMinutes) * 5} minutes fires ` +
            '*scan-heartbeat*, and nobody is being alerted. **Run duration** must stay well under the ' +
            'timeout line.',
        ].join('\n\n'),
      ),
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: props.alarmNames.map((name) =>
          Alarm.fromAlarmArn(
            this,
            `Alarm-${name}`,
            Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: name,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ),
        ),
        width: 6,
        height: ROW_HEIGHT,
        sortBy: AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
      graph('Heartbeat (successful scan runs)', 6, [per5Minutes('Heartbeat', 'successful runs')]),
      graph(
        'Scan run duration',
        6,
        [
          queuewatchMetric('RunDuration', Duration.minutes(5), {
            statistic: 'Maximum',
            label: 'longest run (ms)',
          }),
        ],
        {
          leftAnnotations: [{ value: props.scanTimeout.toMilliseconds(), label: 'timeout' }],
        },
      ),
    ];

    const queue: IWidget[] = [
      note(
        [
          '## The queue now',
          '**Open cases**, and how many are past each level of their rule: *warning* (due soon), ' +
            '*breach* (past its limit), *escalation* (long past: senior people told). By category and ' +
            'DASH risk level on the right. Cases counted as the last scan run saw them.',
        ].join('\n\n'),
      ),
      new SingleValueWidget({
        title: 'Now',
        width: 6,
        height: ROW_HEIGHT,
        sparkline: true,
        metrics: [
          gauge('OpenCases', 'open cases'),
          gauge('CasesAtWarning', 'at warning'),
          gauge('CasesAtBreach', 'at breach'),
          gauge('CasesAtEscalation', 'at escalation'),
        ],
      }),
      graph('Cases past each level', 6, [
        gauge('CasesAtWarning', 'warning'),
        gauge('CasesAtBreach', 'breach'),
        gauge('CasesAtEscalation', 'escalation'),
      ]),
      graph(
        'Open cases by category and risk',
        6,
        [
          new MathExpression({
            expression: search(
              service,
              'OpenCasesByCategory',
              ['category', 'riskLevel'],
              'Maximum',
              runPeriod,
            ),
            label: '',
            period: runPeriod,
          }),
        ],
        { stacked: true },
      ),
    ];

    const ageing: IWidget[] = [
      note(
        [
          '## How old',
          'The oldest open case of each category: hours since it entered its current stage (a new ' +
            'stage or a re-opened case starts a new clock; a re-grade does not). A line that only ' +
            'climbs is a case nobody is moving.',
        ].join('\n\n'),
      ),
      graph(
        'Oldest open case by category (hours in its stage)',
        18,
        [
          new MathExpression({
            expression: `${search(service, 'OldestAgeSeconds', ['category'], 'Maximum', runPeriod)} / 3600`,
            label: '',
            period: runPeriod,
          }),
        ],
        { leftYAxis: { min: 0, label: 'hours', showUnits: false } },
      ),
    ];

    const sent: IWidget[] = [
      note(
        [
          '## What went out',
          '**Messages** the scan published (one per audience, district and level) and how many went ' +
            'by **SMS** (capped per run). **Delivered / failed**: what SNS did with them (a failure ' +
            "fires *alert-delivery-failures*). **SMS spend**: the whole account's, this month.",
        ].join('\n\n'),
      ),
      graph('Messages and SMS sent per hour', 7, [
        perHour('NotificationsSent', 'messages'),
        perHour('SmsSent', 'SMS'),
      ]),
      graph('SNS deliveries per hour', 7, [
        props.alertTopic.metricNumberOfNotificationsDelivered({
          period: HOUR,
          statistic: 'Sum',
          label: 'delivered',
        }),
        props.alertTopic.metricNumberOfNotificationsFailed({
          period: HOUR,
          statistic: 'Sum',
          label: 'failed',
        }),
      ]),
      new SingleValueWidget({
        title: 'SMS spend this month (USD)',
        width: 4,
        height: ROW_HEIGHT,
        metrics: [
          new Metric({
            namespace: 'AWS/SNS',
            metricName: 'SMSMonthToDateSpentUSD',
            statistic: 'Maximum',
            period: HOUR,
            label: 'USD',
          }),
        ],
      }),
    ];

    const failures: IWidget[] = [
      note(
        [
          '## What failed',
          '**Scan**: messages that failed to publish (they stay due; the next run retries), mirror ' +
            'items it could not read, function errors. **Ingest**: feed messages rejected (kept in the ' +
            'rejects table), returned to SQS for a retry, calls to a dependency that failed, function ' +
            'errors, and what sits in the dead-letter queue. The table names the dependency.',
        ].join('\n\n'),
      ),
      graph('Scan failures', 6, [
        per5Minutes('PublishFailures', 'publish failures'),
        gauge('InvalidRecords', 'invalid mirror items'),
        props.scan.metricErrors({ period: Duration.minutes(5), statistic: 'Sum', label: 'function errors' }),
      ]),
      graph('Ingest failures', 6, [
        per5Minutes('RejectedMessages', 'rejected'),
        per5Minutes('RetriedMessages', 'returned to SQS'),
        per5Minutes(DEPENDENCY_FAILURES_METRIC, 'dependency failures'),
        props.ingest.metricErrors({
          period: Duration.minutes(5),
          statistic: 'Sum',
          label: 'function errors',
        }),
        props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
          label: 'in the dead-letter queue',
        }),
      ]),
      new LogQueryWidget({
        title: 'Which dependency failed',
        width: 6,
        height: ROW_HEIGHT,
        logGroupNames: props.logGroups.map((g) => g.logGroupName),
        view: LogQueryVisualizationType.TABLE,
        queryLines: [
          'fields @timestamp',
          'filter ispresent(dependency)',
          'stats count(*) as failures, max(@timestamp) as last by dependency, error.name, error.code',
          'sort failures desc',
        ],
      }),
    ];

    const feed: IWidget[] = [
      note(
        [
          '## The feed',
          '**Case changes applied** to the mirror per hour (repeats and stale messages are not changes): none for ' +
            `${props.feedSilenceHours} hours fires *feed-silence* (a broken feed makes every alert stale). ` +
            '**Waiting in the ingest queue** and the age of the oldest: a backlog that grows means ingest ' +
            'is not keeping up or is failing.',
        ].join('\n\n'),
      ),
      graph('Case changes applied per hour', 9, [
        perHour('ChangedCases', 'changed'),
        perHour('IngestedMessages', 'messages applied (with repeats and stale ones)'),
      ]),
      graph(
        'Ingest queue',
        9,
        [
          props.ingestQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: 'waiting',
          }),
        ],
        {
          right: [
            props.ingestQueue.metricApproximateAgeOfOldestMessage({
              period: Duration.minutes(5),
              statistic: 'Maximum',
              label: 'oldest (seconds)',
            }),
          ],
          rightYAxis: { min: 0, label: 'seconds', showUnits: false },
        },
      ),
    ];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
      widgets: [[header], health, queue, ageing, sent, failures, feed],
    });
  }
}
