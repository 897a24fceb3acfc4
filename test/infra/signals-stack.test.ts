// The signals function in the app stack: its defaults, exactly the grants it needs, its two
// schedules (each morning in London time, and every few minutes), the role they invoke it with,
// and the alarms that say when the watcher of silence has gone silent itself.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEPLOYMENT,
  dataNames,
  grantsOf,
  logicalId,
  type Synthesized,
  statementsOf,
  synthesize,
} from './support.ts';

/** A log's: the disclosure log is written in batches (BatchWriteItem), nothing read. */
const APPEND = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];

describe('the signals function', () => {
  let s: Synthesized;
  let grants: Record<string, string[]>;
  beforeAll(() => {
    s = synthesize(DEPLOYMENT);
    grants = grantsOf(s.appTemplate, s.app.signals, {
      ...dataNames(s),
      signalsLogs: logicalId(s.app, s.app.signals.logGroup),
      configParameter: ':parameter/queuewatch/test/config',
    });
  });

  const props = () => {
    const found = Object.values(
      s.appTemplate.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'queuewatch-test-signals' },
      }),
    );
    expect(found).toHaveLength(1);
    return found[0]?.Properties;
  };
  const schedules = (synth: Synthesized = s) =>
    Object.values(synth.appTemplate.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);

  it('runs one at a time, on ARM64 and Node.js 22, traced, with five minutes and 512 MB', () => {
    const p = props();
    expect(p.ReservedConcurrentExecutions).toBe(1);
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Runtime).toBe('nodejs22.x');
    expect(p.TracingConfig).toEqual({ Mode: 'Active' });
    expect(p.Timeout).toBe(300);
    expect(p.MemorySize).toBe(512);
  });

  it('is told the flow, state and audit tables, the topics, the config and its morning time, and nothing of the mirror', () => {
    const env = props().Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([
      'ALERT_TOPIC_ARN',
      'AUDIT_TABLE',
      'CONFIG_PARAMETER',
      'DEFAULT_CONFIG_FILE',
      'FLOW_TABLE',
      'NODE_OPTIONS',
      'OPS_TOPIC_ARN',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'SIGNALS_AT',
      'STATE_TABLE',
    ]);
    // The morning's time, from which the checks for stopped flow retry a morning not completed.
    expect(env.SIGNALS_AT).toBe('06:30');
  });

  it('has exactly the grants it needs: no Scan, no mirror, no ledger', () => {
    expect(grants).toEqual({
      flow: ['dynamodb:Query', 'dynamodb:UpdateItem'],
      state: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      audit: APPEND,
      alertTopic: ['sns:Publish'],
      opsTopic: ['sns:Publish'],
      configParameter: ['ssm:GetParameter'],
      key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      // The ops topic's own key, apart from the data key.
      opsKey: ['kms:Decrypt', 'kms:GenerateDataKey'],
      signalsLogs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    });
  });

  it('judges rates and shares each morning at 06:30 London time, before the 07:00 digest, and stopped flow every 15 minutes', () => {
    const fn = { 'Fn::GetAtt': [logicalId(s.app, s.app.signals.function), 'Arn'] };
    expect(schedules()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Name: 'queuewatch-test-signals-daily',
          ScheduleExpression: 'cron(30 6 * * ? *)',
          ScheduleExpressionTimezone: 'Europe/London',
          State: 'ENABLED',
          Target: expect.objectContaining({
            Arn: fn,
            Input: '{"mode":"daily"}',
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 900 },
          }),
        }),
        expect.objectContaining({
          Name: 'queuewatch-test-signals-flow',
          ScheduleExpression: 'rate(15 minutes)',
          Target: expect.objectContaining({ Arn: fn, Input: '{"mode":"flow"}' }),
        }),
      ]),
    );
  });

  it('follows the deployment’s morning time and check interval', () => {
    const other = synthesize({ ...DEPLOYMENT, signalsAt: '05:45', flowCheckMinutes: 10 });
    const expressions = schedules(other)
      .map((p) => p.ScheduleExpression)
      .sort();
    expect(expressions).toEqual(['cron(45 5 * * ? *)', 'rate(10 minutes)']);
    const fn = Object.values(
      other.appTemplate.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'queuewatch-test-signals' },
      }),
    )[0];
    expect(fn?.Properties.Environment.Variables.SIGNALS_AT).toBe('05:45');
  });

  it('is invoked by roles that may invoke exactly it, assumable only by this account’s schedules', () => {
    for (const schedule of schedules()) {
      const roleId = (schedule.Target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = statementsOf(s.appTemplate, roleId);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [logicalId(s.app, s.app.signals.function), 'Arn'] },
        },
      ]);
      const role = s.appTemplate.findResources('AWS::IAM::Role')[roleId]?.Properties;
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: expect.objectContaining({
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          }),
        }),
      ]);
    }
  });

  it('raises alarms when it fails, and when its checks or its morning run stop succeeding', () => {
    const alarms = new Map(
      Object.values(s.appTemplate.findResources('AWS::CloudWatch::Alarm')).map((a) => [
        a.Properties.AlarmName as string,
        a.Properties,
      ]),
    );
    expect(alarms.get('queuewatch-test-signals-errors')).toMatchObject({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(s.app, s.app.signals.function) } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarms.get('queuewatch-test-flow-signals-heartbeat')).toMatchObject({
      Namespace: 'Queuewatch',
      MetricName: 'FlowSignalsHeartbeat',
      Period: 900,
      EvaluationPeriods: 3,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(alarms.get('queuewatch-test-daily-signals-heartbeat')).toMatchObject({
      MetricName: 'DailySignalsHeartbeat',
      Period: 3600,
      EvaluationPeriods: 26,
      TreatMissingData: 'breaching',
    });
  });
});
