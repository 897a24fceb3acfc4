// The stateless stack: the scan and ingest functions, the schedule, the feed's event source, the
// acknowledgement page (function and HTTP API), the signals function and its schedules, the digest
// and the alarms. It holds no data, so it can be redeployed freely (in production its log groups
// are kept when it is destroyed).

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps, Stage, TimeZone } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Schedule as ScheduledRun, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import {
  ACK_LINKS_TABLE,
  AUDIT_TABLE,
  FLOW_TABLE,
  LEDGER_TABLE,
  LEGACY_OPEN_INDEX_NAME,
  MIRROR_TABLE,
  MIRROR_TABLE_MIGRATING,
  OPEN_SHARDS_INDEX_NAME,
  REJECTS_TABLE,
  STATE_TABLE,
} from '#shared/adapters/tables.ts';
import { configFileJson, loadConfig } from '#shared/config/load.ts';
import { dashboardName, ruleName, scheduleName } from '#shared/delivery/names.ts';
import { expectedSubscriptionsOf } from '#shared/delivery/subscription-health.ts';
import type { Deployment } from '#shared/delivery/subscriptions.ts';
import { ackId } from '#shared/scan/ledger-keys.ts';
import { ACK_MEMORY_MB, ACK_TIMEOUT, AckEndpoint } from './ack-endpoint.ts';
import { QueuewatchAlarms } from './alarms.ts';
import { QueuewatchDashboard } from './dashboard.ts';
import type { DataStack } from './data-stack.ts';
import { PROJECT_ROOT, SHIPPED_ADMIN_CONFIG_PATH } from './deployment.ts';
import { DIGEST_EVERY_MINUTES, DigestAlarms } from './digest-alarms.ts';
import { declareForce } from './force.ts';
import { QueuewatchFunction } from './lambda-defaults.ts';
import {
  configParameterName,
  DEFAULT_FEED_SILENCE_HOURS,
  DIGEST_MEMORY_MB,
  DIGEST_TIMEOUT,
  functionName,
  INGEST_BATCH_SIZE,
  INGEST_TIMEOUT,
  SCAN_MEMORY_MB,
  SCAN_TIMEOUT,
  SIGNALS_MEMORY_MB,
  SIGNALS_TIMEOUT,
} from './limits.ts';
import { ScheduledInvoke } from './scheduled-invoke.ts';

/** Where the shipped admin config sits inside a function's asset at run time: as JSON, converted
 * from the admin's YAML at synth, so the functions need no YAML parser. */
export const BUNDLED_CONFIG_FILE = '/var/task/queuewatch.json';

export const FUNCTION_ENTRIES = {
  scan: join(PROJECT_ROOT, 'functions', 'scan.ts'),
  ingest: join(PROJECT_ROOT, 'functions', 'ingest.ts'),
  digest: join(PROJECT_ROOT, 'functions', 'digest.ts'),
  ack: join(PROJECT_ROOT, 'functions', 'ack.ts'),
  signals: join(PROJECT_ROOT, 'functions', 'signals.ts'),
};

export interface AppStackProps extends StackProps {
  deployment: Deployment;
  data: DataStack;
  /** The admin config shipped in the scan bundle, used until one is pushed to SSM. */
  adminConfigPath?: string;
  feedSilenceHours?: number;
  /** The handlers' source files (tests may point these at stand-ins). */
  entries?: { scan: string; ingest: string; digest: string; ack: string; signals?: string };
}

export class AppStack extends Stack {
  readonly scan: QueuewatchFunction;
  readonly ingest: QueuewatchFunction;
  readonly signals: QueuewatchFunction;
  readonly schedule: Rule;
  /** The signals' schedules: each morning (rates and shares) and every few minutes (flow). */
  readonly signalSchedules: { daily: ScheduledRun; flow: ScheduledRun };
  readonly alarms: QueuewatchAlarms;
  readonly digest: QueuewatchFunction;
  readonly digestSchedule: Rule;
  readonly digestAlarms: DigestAlarms;
  readonly dashboard: QueuewatchDashboard;
  readonly ack: QueuewatchFunction;
  readonly ackEndpoint: AckEndpoint;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { stage, production, scheduleMinutes, openCasesIndex } = props.deployment;
    declareForce(this, stage);
    // The open-cases index the functions read: the sharded one, or (migrating from the first
    // release) the old one; while migrating, either, the old one until the backfill is recorded
    // complete in the state table. OPEN_CASES_INDEX tells their readers which.
    const mirror = openCasesIndex ? MIRROR_TABLE_MIGRATING : MIRROR_TABLE;
    const openIndex =
      openCasesIndex === 'legacy'
        ? LEGACY_OPEN_INDEX_NAME
        : openCasesIndex === 'migrating'
          ? [OPEN_SHARDS_INDEX_NAME, LEGACY_OPEN_INDEX_NAME]
          : OPEN_SHARDS_INDEX_NAME;
    const indexEnvironment = { OPEN_CASES_INDEX: openCasesIndex ?? 'sharded' };
    const { data } = props;
    const entries = props.entries ?? FUNCTION_ENTRIES;
    const adminConfigPath = props.adminConfigPath ?? SHIPPED_ADMIN_CONFIG_PATH;
    const shippedConfig = {
      from: shippedConfigJson(this, adminConfigPath),
      to: basename(BUNDLED_CONFIG_FILE),
    };

    this.scan = new QueuewatchFunction(this, 'Scan', {
      functionName: functionName(stage, 'scan'),
      description: 'Scans the open cases, sends due alerts, records them in the ledger and audit log',
      entry: entries.scan,
      key: data.key,
      production,
      timeout: SCAN_TIMEOUT,
      memorySize: SCAN_MEMORY_MB,
      // Runs never overlap: the ledger's conditional writes are the second line, not the first.
      reservedConcurrentExecutions: 1,
      // A run that cannot start before the next is due is dropped: the next one covers it.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.max(1, scheduleMinutes)),
      environment: { DEFAULT_CONFIG_FILE: BUNDLED_CONFIG_FILE, ...indexEnvironment },
      bundledFiles: [shippedConfig],
    });
    this.scan
      .bindTable(data.tables.mirror, mirror, { queryIndex: openIndex })
      // The ledger's records are read by key, shard by shard (BatchGetItem), or in one pass (Scan)
      // while the ledger is small (WHOLE_LEDGER_MAX_ENTRIES) or the legacy index is read.
      .bindTable(data.tables.ledger, LEDGER_TABLE, 'readWrite', { scan: true })
      // The disclosure log is written in batches.
      .bindTable(data.tables.audit, AUDIT_TABLE, 'append')
      // Pending disclosures, what ops were told, the last good config: read and put by name.
      .bindTable(data.tables.state, STATE_TABLE, { actions: ['GetItem', 'PutItem'] })
      .bindTopic(data.alertTopic, 'ALERT_TOPIC_ARN')
      .bindTopic(data.opsTopic, 'OPS_TOPIC_ARN')
      .bindParameter(configParameterName(stage), 'CONFIG_PARAMETER');

    this.schedule = new Rule(this, 'ScanSchedule', {
      ruleName: ruleName(stage, 'scan'),
      description: `Runs the scan every ${scheduleMinutes} minutes`,
      schedule: Schedule.rate(Duration.minutes(scheduleMinutes)),
      targets: [new LambdaFunction(this.scan.function, { retryAttempts: 0 })],
    });

    this.ingest = new QueuewatchFunction(this, 'Ingest', {
      functionName: functionName(stage, 'ingest'),
      description: 'Applies case changes from the feed to the mirror; rejects what can never be valid',
      entry: entries.ingest,
      key: data.key,
      production,
      timeout: INGEST_TIMEOUT,
      memorySize: 256,
      // Ingest checks categories and districts against the config in force: the pushed one, or the
      // shipped one until a config is pushed.
      environment: { DEFAULT_CONFIG_FILE: BUNDLED_CONFIG_FILE },
      bundledFiles: [shippedConfig],
    });
    this.ingest
      .bindTable(data.tables.mirror, MIRROR_TABLE, 'write')
      // Each transition the mirror makes: put once, its day marked, the district's last moved.
      .bindTable(data.tables.flow, FLOW_TABLE, 'write')
      .bindTable(data.tables.state, STATE_TABLE, 'write')
      .bindTable(data.tables.rejects, REJECTS_TABLE, 'write')
      .bindTopic(data.opsTopic, 'OPS_TOPIC_ARN')
      .bindParameter(configParameterName(stage), 'CONFIG_PARAMETER');
    this.ingest.function.addEventSource(
      new SqsEventSource(data.ingestQueue, {
        batchSize: INGEST_BATCH_SIZE,
        // Above 10 messages a batch, Lambda requires a batching window.
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
      }),
    );

    this.signals = new QueuewatchFunction(this, 'Signals', {
      functionName: functionName(stage, 'signals'),
      description:
        'Judges the silence signals (referral rates and shares, stopped flow) and sends what is due',
      entry: entries.signals ?? FUNCTION_ENTRIES.signals,
      key: data.key,
      production,
      timeout: SIGNALS_TIMEOUT,
      memorySize: SIGNALS_MEMORY_MB,
      // One run at a time: signal state is read, sent and written by one run.
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      // The morning run's time: from then on, a check for stopped flow that finds the day's rates
      // and shares not yet judged and sent (the morning run failed, or never ran) judges them too.
      environment: { DEFAULT_CONFIG_FILE: BUNDLED_CONFIG_FILE, SIGNALS_AT: props.deployment.signalsAt },
      bundledFiles: [shippedConfig],
    });
    this.signals
      // Queries each district's days, and writes a day's count item the first time it reads it.
      .bindTable(data.tables.flow, FLOW_TABLE, { actions: ['Query', 'UpdateItem'] })
      // The signals' states (read together, put one by one) and the last good config.
      .bindTable(data.tables.state, STATE_TABLE, { actions: ['GetItem', 'BatchGetItem', 'PutItem'] })
      .bindTable(data.tables.audit, AUDIT_TABLE, 'append')
      .bindTopic(data.alertTopic, 'ALERT_TOPIC_ARN')
      .bindTopic(data.opsTopic, 'OPS_TOPIC_ARN')
      .bindParameter(configParameterName(stage), 'CONFIG_PARAMETER');

    const { signalsAt, flowCheckMinutes } = props.deployment;
    const [hour = '7', minute = '0'] = signalsAt.split(':');
    const invoke = (mode: 'daily' | 'flow') =>
      new ScheduledInvoke(
        this,
        `Signals${mode === 'daily' ? 'Daily' : 'Flow'}Invoker`,
        this.signals.function,
        {
          input: ScheduleTargetInput.fromObject({ mode }),
          maxEventAge: Duration.minutes(Math.max(1, Math.min(flowCheckMinutes, 15))),
        },
      );
    this.signalSchedules = {
      // London time, so the morning run stays in the morning across the clock changes.
      daily: new ScheduledRun(this, 'SignalsDailySchedule', {
        scheduleName: scheduleName(stage, 'signals-daily'),
        description: `Judges referral rates and shares each day at ${signalsAt} London time`,
        schedule: ScheduleExpression.cron({
          hour: String(Number(hour)),
          minute: String(Number(minute)),
          timeZone: TimeZone.EUROPE_LONDON,
        }),
        target: invoke('daily'),
      }),
      flow: new ScheduledRun(this, 'SignalsFlowSchedule', {
        scheduleName: scheduleName(stage, 'signals-flow'),
        description: `Checks for stopped flow every ${flowCheckMinutes} minutes`,
        schedule: ScheduleExpression.rate(Duration.minutes(flowCheckMinutes)),
        target: invoke('flow'),
      }),
    };
    // The acknowledgement page: GET shows an alert's cases, only the button's POST acknowledges. It
    // reads and uses up links, and writes acknowledgements (only `acks/` items of the ledger) and
    // their disclosure-log entries. Its refusal page links to the deployed config's case system.
    this.ack = new QueuewatchFunction(this, 'Ack', {
      functionName: functionName(stage, 'ack'),
      description: 'Acknowledgement page: shows an alert on GET, acknowledges it on the button POST',
      entry: entries.ack,
      key: data.key,
      production,
      timeout: ACK_TIMEOUT,
      memorySize: ACK_MEMORY_MB,
      environment: { CASE_SYSTEM_URL: loadConfig(adminConfigPath).file.linkBase },
    });
    this.ack
      // A link is read, and marked used; the scan creates them.
      .bindTable(data.tables.acklinks, ACK_LINKS_TABLE, { actions: ['GetItem', 'UpdateItem'] })
      .bindTable(data.tables.ledger, LEDGER_TABLE, 'write', { leadingKeys: [ackId('*', '*')] })
      .bindTable(data.tables.audit, AUDIT_TABLE, 'append');
    this.ackEndpoint = new AckEndpoint(this, 'AckEndpoint', {
      stage,
      production,
      fn: this.ack.function,
      key: data.key,
      opsTopic: data.opsTopic,
    });
    // The scan stores a link per alert and channel, and links to the page's own address unless the
    // config in force gives a public one (acknowledge.baseUrl).
    this.scan.bindTable(data.tables.acklinks, ACK_LINKS_TABLE, 'write');
    this.scan.function.addEnvironment('ACK_BASE_URL', this.ackEndpoint.url);
    new CfnOutput(this, 'AckPageUrl', {
      description:
        "The acknowledgement page's own address; put a short domain of your own in front and set acknowledge.baseUrl",
      value: this.ackEndpoint.url,
    });

    this.alarms = new QueuewatchAlarms(this, 'Alarms', {
      stage,
      opsTopic: data.opsTopic,
      alertTopic: data.alertTopic,
      scan: this.scan.function,
      ingest: this.ingest.function,
      signals: this.signals.function,
      flowCheckMinutes,
      ingestQueue: data.ingestQueue,
      ingestDeadLetterQueue: data.ingestDeadLetterQueue,
      scheduleMinutes,
      feedSilenceHours: props.feedSilenceHours ?? DEFAULT_FEED_SILENCE_HOURS,
      ...(props.deployment.smsSpendLimitUsd !== undefined
        ? { smsSpendLimitUsd: props.deployment.smsSpendLimitUsd }
        : {}),
    });

    // The daily picture. It runs every quarter of an hour and sends each digest on the first run at
    // or after the config's London time (`digest.at`): the config in force (pushed to SSM) decides the
    // time and the audiences without a deploy, a London time needs no schedule of its own across the
    // clock changes, and a run that fails is retried by the next one instead of losing the day.
    // Each digest is claimed in the state table before it is published, so runs never need to be
    // serialised (no reserved concurrency taken from the account).
    const feedSilenceHours = props.feedSilenceHours ?? DEFAULT_FEED_SILENCE_HOURS;
    this.digest = new QueuewatchFunction(this, 'Digest', {
      functionName: functionName(stage, 'digest'),
      description:
        'Sends the daily picture by email to each digest audience once a day, at the configured London time',
      entry: entries.digest,
      key: data.key,
      production,
      timeout: DIGEST_TIMEOUT,
      memorySize: DIGEST_MEMORY_MB,
      // A run that cannot start in time is dropped: the next one, a quarter of an hour later, covers it.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(DIGEST_EVERY_MINUTES),
      environment: {
        DEFAULT_CONFIG_FILE: BUNDLED_CONFIG_FILE,
        // The digest calls the feed quiet when the feed-silence alarm would.
        FEED_SILENCE_HOURS: String(feedSilenceHours),
        ...indexEnvironment,
      },
      bundledFiles: [shippedConfig],
    });
    this.digest
      .bindTable(data.tables.mirror, mirror, { queryIndex: openIndex })
      // Read only: the digest counts alerts and acknowledgements, it never changes them.
      .bindTable(data.tables.ledger, LEDGER_TABLE, 'read', { scan: true })
      .bindTable(data.tables.audit, AUDIT_TABLE, 'append')
      // The feed's last ingest, which digests went out, the trend's snapshots, the last good config,
      // and the silence signals' states (read together).
      .bindTable(data.tables.state, STATE_TABLE, {
        actions: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
      })
      .bindTopic(data.alertTopic, 'ALERT_TOPIC_ARN')
      .bindTopic(data.opsTopic, 'OPS_TOPIC_ARN')
      .bindParameter(configParameterName(stage), 'CONFIG_PARAMETER');
    // Each run also checks that the subscriptions the data stack made still deliver: it counts the
    // topics' subscriptions (pending, missing) and asks of each of its phones whether it opted out
    // of SMS (a call that names no resource).
    this.digest.function.addEnvironment(
      'EXPECTED_SUBSCRIPTIONS',
      JSON.stringify(expectedSubscriptionsOf(props.deployment)),
    );
    this.digest.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sns:ListSubscriptionsByTopic'],
        resources: [data.alertTopic.topicArn, data.opsTopic.topicArn],
      }),
    );
    this.digest.grantAccountWide(
      ['sns:CheckIfPhoneNumberIsOptedOut'],
      'whether one of the force’s own phone numbers opted out of SMS: the call names a number, not a resource',
    );
    this.digestSchedule = new Rule(this, 'DigestSchedule', {
      ruleName: ruleName(stage, 'digest'),
      description: `Runs the daily digest every ${DIGEST_EVERY_MINUTES} minutes; it sends when the config's London time has come`,
      schedule: Schedule.cron({ minute: `0/${DIGEST_EVERY_MINUTES}` }),
      targets: [new LambdaFunction(this.digest.function, { retryAttempts: 0 })],
    });
    this.digestAlarms = new DigestAlarms(this, 'DigestAlarms', {
      stage,
      opsTopic: data.opsTopic,
      digest: this.digest.function,
    });

    this.dashboard = new QueuewatchDashboard(this, 'Dashboard', {
      dashboardName: dashboardName(stage),
      stage,
      scan: this.scan.function,
      ingest: this.ingest.function,
      logGroups: [this.scan.logGroup, this.ingest.logGroup],
      alertTopic: data.alertTopic,
      ingestQueue: data.ingestQueue,
      ingestDeadLetterQueue: data.ingestDeadLetterQueue,
      alarmNames: [
        ...this.alarms.alarmNames,
        ...this.digestAlarms.alarmNames,
        ...this.ackEndpoint.alarmNames,
      ],
      scheduleMinutes,
      scanTimeout: SCAN_TIMEOUT,
      feedSilenceHours: props.feedSilenceHours ?? DEFAULT_FEED_SILENCE_HOURS,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The queue and the watcher at a glance',
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${dashboardName(stage)}`,
    });

    new CfnOutput(this, 'ConfigParameter', {
      description: 'Push the admin config here: npx queuewatch config push',
      value: configParameterName(stage),
    });
  }
}

/** The admin config as the JSON the functions read, written into the cloud assembly's directory
 * (named by its content, so forces with one config share it) for the bundling to copy. A config
 * that is not valid fails the synth, naming the key path and line. */
function shippedConfigJson(scope: Construct, adminConfigPath: string): string {
  const json = configFileJson(adminConfigPath);
  const dir = join(Stage.of(scope)?.outdir ?? tmpdir(), 'shipped-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, json);
  return file;
}
