// The daily digest function in the app stack: its schedule (every quarter of an hour, the London
// time being decided by the function from the config in force), its environment, exactly its
// grants (read only on the ledger, never the mirror table itself), and its four alarms.

import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT, dataNames, grantsOf, logicalId, type Synthesized, synthesize } from './support.ts';

const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
/** A log's: the disclosure log is written in batches (BatchWriteItem), nothing read. */
const APPEND = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];

interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  Namespace: string;
  MetricName: string;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
  Statistic: string;
  Period: number;
  EvaluationPeriods: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
}

describe('the daily digest function', () => {
  let s: Synthesized;
  let grants: Record<string, string[]>;
  let fn: Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } };
  beforeAll(() => {
    s = synthesize(DEPLOYMENT, { feedSilenceHours: 8 });
    grants = grantsOf(s.appTemplate, s.app.digest, {
      ...dataNames(s),
      logs: logicalId(s.app, s.app.digest.logGroup),
      configParameter: ':parameter/queuewatch/test/config',
    });
    const found = Object.values(
      s.appTemplate.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'queuewatch-test-digest' },
      }),
    );
    if (found.length !== 1) throw new Error('expected one digest function');
    fn = found[0]?.Properties;
  });
  const imported = (name: keyof ReturnType<typeof dataNames>) => ({
    'Fn::ImportValue': expect.stringMatching(
      new RegExp(`^queuewatch-test-data:ExportsOutput.*${dataNames(s)[name]}`),
    ),
  });

  it('runs on the project defaults: ARM64, Node.js 22, traced, Powertools, its own encrypted log group', () => {
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Environment.Variables).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=384',
      POWERTOOLS_SERVICE_NAME: 'queuewatch-test',
      POWERTOOLS_METRICS_NAMESPACE: 'Queuewatch',
    });
    s.appTemplate.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/queuewatch-test-digest',
      RetentionInDays: 90,
      KmsKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp(dataNames(s).key) },
    });
  });

  it('runs every quarter of an hour, on the quarter, and a missed run is left to the next', () => {
    s.appTemplate.hasResourceProperties('AWS::Events::Rule', {
      Name: 'queuewatch-test-digest',
      ScheduleExpression: 'cron(0/15 * * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(s.app, s.app.digest.function), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    s.appTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(s.app, s.app.digest.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 900,
    });
    s.appTemplate.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(s.app, s.app.digest.function), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [logicalId(s.app, s.app.digestSchedule), 'Arn'] },
    });
  });

  it('takes no reserved concurrency: each digest is claimed before it is sent, so runs may overlap', () => {
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Timeout).toBe(120);
    expect(fn.MemorySize).toBe(512);
  });

  it('is told its tables, topics, config parameter, shipped config and the feed-silence threshold', () => {
    expect(fn.Environment.Variables).toMatchObject({
      MIRROR_TABLE: imported('mirror'),
      LEDGER_TABLE: imported('ledger'),
      AUDIT_TABLE: imported('audit'),
      STATE_TABLE: imported('state'),
      ALERT_TOPIC_ARN: imported('alertTopic'),
      OPS_TOPIC_ARN: imported('opsTopic'),
      CONFIG_PARAMETER: '/queuewatch/test/config',
      DEFAULT_CONFIG_FILE: '/var/task/queuewatch.json',
      FEED_SILENCE_HOURS: '8',
    });
  });

  it('is told how many subscriptions the data stack made on each topic, to check that they deliver', () => {
    const count = (protocol: string) =>
      DEPLOYMENT.subscribers.filter((sub) => sub.protocol === protocol).length;
    expect(JSON.parse(String(fn.Environment.Variables.EXPECTED_SUBSCRIPTIONS))).toEqual({
      alert: { sms: count('sms'), email: count('email') },
      ops: { email: DEPLOYMENT.opsEmails.length },
    });
    const subscriptions = Object.values(s.dataTemplate.findResources('AWS::SNS::Subscription'));
    expect(subscriptions).toHaveLength(count('sms') + count('email') + DEPLOYMENT.opsEmails.length);
    expect(count('sms')).toBeGreaterThan(0);
    expect(count('email')).toBeGreaterThan(0);
    expect(Object.keys(fn.Environment.Variables)).not.toContain('REJECTS_TABLE');
  });

  it('has exactly the grants it needs, and nothing else', () => {
    expect(grants).toEqual({
      'mirror/index/open-shards': ['dynamodb:Query'],
      ledger: [...READ, 'dynamodb:Scan'].sort(),
      audit: APPEND,
      state: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      // Publish, and list the subscriptions, to check that they still deliver.
      alertTopic: ['sns:ListSubscriptionsByTopic', 'sns:Publish'],
      opsTopic: ['sns:ListSubscriptionsByTopic', 'sns:Publish'],
      configParameter: ['ssm:GetParameter'],
      key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      // The ops topic's own key, apart from the data key.
      opsKey: ['kms:Decrypt', 'kms:GenerateDataKey'],
      logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // Whether one of its own phone numbers opted out of SMS: a call with no resource.
      '*': ['sns:CheckIfPhoneNumberIsOptedOut', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    });
  });

  it('can change neither the alert ledger nor the mirror, and deletes nothing but by a log batch', () => {
    expect(grants.ledger).not.toContain('dynamodb:PutItem');
    expect(grants.ledger).not.toContain('dynamodb:UpdateItem');
    expect(grants.mirror).toBeUndefined();
    for (const [table, actions] of Object.entries(grants)) {
      expect(actions).not.toContain('dynamodb:DeleteItem');
      // The disclosure log's batches (IAM cannot tell a batch's puts from its deletes).
      if (table !== 'audit') expect(actions).not.toContain('dynamodb:BatchWriteItem');
    }
  });

  describe('alarms', () => {
    let alarms: Map<string, AlarmProperties>;
    beforeAll(() => {
      alarms = new Map(
        Object.values(s.appTemplate.findResources('AWS::CloudWatch::Alarm')).map((a) => {
          const p = a.Properties as AlarmProperties;
          return [p.AlarmName, p] as const;
        }),
      );
    });
    const alarm = (name: string) => {
      const found = alarms.get(`queuewatch-test-${name}`);
      if (!found) throw new Error(`no alarm ${name}; have ${[...alarms.keys()].join(', ')}`);
      return found;
    };
    const opsTopic = () => [
      { 'Fn::ImportValue': expect.stringMatching(new RegExp(`ExportsOutputRef${dataNames(s).opsTopic}`)) },
    ];

    it('fires on a single digest error', () => {
      expect(alarm('digest-errors')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(s.app, s.app.digest.function) } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: opsTopic(),
        OKActions: opsTopic(),
      });
    });

    it('fires when a digest is still not sent three hours after it fell due: no picture by mid-morning', () => {
      expect(alarm('digest-overdue')).toMatchObject({
        Namespace: 'Queuewatch',
        MetricName: 'DigestsOverdue',
        Dimensions: [{ Name: 'service', Value: 'queuewatch-test' }],
        Statistic: 'Maximum',
        // Longer than from one run's end to the next's, so it stays raised while the digest is overdue.
        Period: 22 * 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: opsTopic(),
      });
      expect(alarm('digest-overdue').AlarmDescription).toMatch(/3 hours ago/);
    });

    it('fires when a subscription the stack made delivers nothing, or no check succeeded for an hour', () => {
      expect(alarm('subscriptions-not-receiving')).toMatchObject({
        Namespace: 'Queuewatch',
        MetricName: 'SubscriptionsNotReceiving',
        Dimensions: [{ Name: 'service', Value: 'queuewatch-test' }],
        Statistic: 'Maximum',
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: opsTopic(),
        OKActions: opsTopic(),
      });
      expect(alarm('subscriptions-not-receiving').AlarmDescription).toMatch(
        /subscriptions that deliver nothing/,
      );
    });

    it('fires when no digest run has succeeded for an hour, counting missing heartbeats as breaching', () => {
      expect(alarm('digest-heartbeat')).toMatchObject({
        Namespace: 'Queuewatch',
        MetricName: 'DigestHeartbeat',
        Statistic: 'Sum',
        Period: 900,
        EvaluationPeriods: 4,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: opsTopic(),
      });
    });
  });
});
