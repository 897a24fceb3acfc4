import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENTRIES } from '#infra/app-stack.ts';
import { PROJECT_ROOT } from '#infra/deployment.ts';
import { DEPLOYMENT, dataNames, grantsOf, logicalId, type Synthesized, synthesize } from './support.ts';

const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const WRITE = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const READ_WRITE = [...new Set([...READ, ...WRITE, 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'])].sort();
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** A log's: the disclosure log is written in batches (BatchWriteItem), nothing read. */
const APPEND = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const CONFIG_PARAMETER = ':parameter/queuewatch/test/config';

describe('app stack', () => {
  let s: Synthesized;
  let names: Record<string, string>;
  let scanGrants: Record<string, string[]>;
  let ingestGrants: Record<string, string[]>;
  beforeAll(() => {
    s = synthesize(DEPLOYMENT, { feedSilenceHours: 6 });
    names = {
      ...dataNames(s),
      scanLogs: logicalId(s.app, s.app.scan.logGroup),
      ingestLogs: logicalId(s.app, s.app.ingest.logGroup),
      configParameter: CONFIG_PARAMETER,
    };
    scanGrants = grantsOf(s.appTemplate, s.app.scan, names);
    ingestGrants = grantsOf(s.appTemplate, s.app.ingest, names);
  });

  const fn = (name: 'scan' | 'ingest') => {
    const found = Object.values(
      s.appTemplate.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: `queuewatch-test-${name}` },
      }),
    );
    if (found.length !== 1) throw new Error(`expected one ${name} function`);
    return found[0]?.Properties;
  };
  /** A value imported from the data stack: that resource's export. */
  const ref = (name: string) => ({ 'Fn::ImportValue': imported(name) });
  const imported = (name: string) =>
    expect.stringMatching(new RegExp(`^queuewatch-test-data:ExportsOutput.*${names[name]}`));
  const refMatch = (name: string) => ({ 'Fn::ImportValue': Match.stringLikeRegexp(`${names[name]}`) });

  describe('function defaults', () => {
    it.each(['scan', 'ingest'] as const)('runs %s on ARM64, Node.js 22, traced, heap capped', (name) => {
      const props = fn(name);
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Handler).toBe('index.handler');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables).toMatchObject({
        NODE_OPTIONS: `--max-old-space-size=${name === 'scan' ? 384 : 192}`,
        POWERTOOLS_SERVICE_NAME: 'queuewatch-test',
        POWERTOOLS_METRICS_NAMESPACE: 'Queuewatch',
      });
    });

    it.each(['scan', 'ingest'] as const)('logs %s to its own encrypted log group with retention', (name) => {
      const group = name === 'scan' ? s.app.scan.logGroup : s.app.ingest.logGroup;
      expect(fn(name).LoggingConfig).toEqual({ LogGroup: { Ref: logicalId(s.app, group) } });
      s.appTemplate.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/queuewatch-test-${name}`,
        RetentionInDays: 90,
        KmsKeyId: refMatch('key'),
      });
    });

    it('gives the roles no AWS managed policies', () => {
      for (const role of Object.values(s.appTemplate.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('builds the real handlers from functions/', () => {
      expect(FUNCTION_ENTRIES).toEqual({
        scan: `${PROJECT_ROOT}functions/scan.ts`,
        ingest: `${PROJECT_ROOT}functions/ingest.ts`,
        digest: `${PROJECT_ROOT}functions/digest.ts`,
        ack: `${PROJECT_ROOT}functions/ack.ts`,
        signals: `${PROJECT_ROOT}functions/signals.ts`,
      });
    });
  });

  describe('scan function', () => {
    it('never overlaps: reserved concurrency 1, and a missed run is not retried', () => {
      expect(fn('scan').ReservedConcurrentExecutions).toBe(1);
      s.appTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(s.app, s.app.scan.function) },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 300,
      });
    });

    it("deploys on a fresh account only once its Lambda concurrency allows what the stack reserves, as the README's Deploy says", () => {
      // Lambda refuses a reservation that leaves fewer than 100 executions unreserved, and new
      // accounts start with a quota below that: the app stack's deploy fails until it is raised.
      const reserved = Object.values(s.appTemplate.findResources('AWS::Lambda::Function')).reduce(
        (sum, f) => sum + Number(f.Properties.ReservedConcurrentExecutions ?? 0),
        0,
      );
      expect(reserved).toBeGreaterThan(0);
      const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
      const deploy = readme
        .slice(readme.indexOf('\n## Deploy\n'), readme.indexOf('\n1. Copy `deploy.config'))
        .replace(/\s+/g, ' ');
      expect(deploy).toContain(`at least ${100 + reserved} concurrent executions`);
      expect(deploy).toContain(`${reserved} more for each further force`);
    });

    it('has five minutes and 512 MB', () => {
      expect(fn('scan').Timeout).toBe(300);
      expect(fn('scan').MemorySize).toBe(512);
    });

    it('runs on an EventBridge schedule every scheduleMinutes', () => {
      s.appTemplate.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(s.app, s.app.scan.function), 'Arn'] } }),
        ],
      });
    });

    it('follows a configured schedule', () => {
      const slow = synthesize({ ...DEPLOYMENT, scheduleMinutes: 15 });
      slow.appTemplate.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    });

    it('is told its tables, topics, config parameter and shipped config', () => {
      expect(fn('scan').Environment.Variables).toMatchObject({
        MIRROR_TABLE: ref('mirror'),
        LEDGER_TABLE: ref('ledger'),
        AUDIT_TABLE: ref('audit'),
        STATE_TABLE: ref('state'),
        ALERT_TOPIC_ARN: ref('alertTopic'),
        OPS_TOPIC_ARN: ref('opsTopic'),
        CONFIG_PARAMETER: '/queuewatch/test/config',
        DEFAULT_CONFIG_FILE: '/var/task/queuewatch.json',
      });
      expect(Object.keys(fn('scan').Environment.Variables)).not.toContain('REJECTS_TABLE');
    });

    it('has exactly the grants it needs, and nothing else', () => {
      expect(scanGrants).toEqual({
        'mirror/index/open-shards': ['dynamodb:Query'],
        ledger: [...READ_WRITE, 'dynamodb:Scan'].sort(),
        audit: APPEND,
        state: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        acklinks: WRITE,
        alertTopic: ['sns:Publish'],
        opsTopic: ['sns:Publish'],
        configParameter: ['ssm:GetParameter'],
        key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        // The ops topic's own key, apart from the data key.
        opsKey: ['kms:Decrypt', 'kms:GenerateDataKey'],
        scanLogs: LOGS,
        '*': XRAY,
      });
    });

    it('can Query the open-shards index but can neither read nor write the mirror table itself', () => {
      expect(scanGrants['mirror/index/open-shards']).toEqual(['dynamodb:Query']);
      expect(scanGrants.mirror).toBeUndefined();
    });

    it('reads the config from exactly its own parameter', () => {
      const ssm = Object.entries(scanGrants).filter(([, actions]) =>
        actions.some((a) => a.startsWith('ssm:')),
      );
      expect(ssm).toEqual([['configParameter', ['ssm:GetParameter']]]);
    });
  });

  describe('ingest function', () => {
    it('consumes the ingest queue in batches of 25, reporting failed items', () => {
      s.appTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(s.app, s.app.ingest.function) },
        EventSourceArn: refMatch('ingestQueue'),
        BatchSize: 25,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('is told the mirror, flow, state and rejects tables, the ops topic and the config, and nothing of alerts', () => {
      const env = fn('ingest').Environment.Variables;
      expect(env).toMatchObject({
        MIRROR_TABLE: ref('mirror'),
        FLOW_TABLE: ref('flow'),
        STATE_TABLE: ref('state'),
        REJECTS_TABLE: ref('rejects'),
        OPS_TOPIC_ARN: ref('opsTopic'),
        CONFIG_PARAMETER: '/queuewatch/test/config',
      });
      expect(env.DEFAULT_CONFIG_FILE).toBe('/var/task/queuewatch.json');
      for (const absent of ['LEDGER_TABLE', 'AUDIT_TABLE', 'ALERT_TOPIC_ARN']) {
        expect(Object.keys(env)).not.toContain(absent);
      }
    });

    it('has exactly the grants it needs, and nothing else', () => {
      expect(ingestGrants).toEqual({
        mirror: WRITE,
        state: WRITE,
        rejects: WRITE,
        flow: WRITE,
        opsTopic: ['sns:Publish'],
        configParameter: ['ssm:GetParameter'],
        ingestQueue: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
        ],
        key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        // The ops topic's own key, apart from the data key.
        opsKey: ['kms:Decrypt', 'kms:GenerateDataKey'],
        ingestLogs: LOGS,
        '*': XRAY,
      });
    });

    it('writes the mirror with GetItem and conditional Put/Update only: no Scan, no delete', () => {
      expect(ingestGrants.mirror).toEqual(WRITE);
      for (const forbidden of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
        expect(ingestGrants.mirror).not.toContain(forbidden);
      }
    });

    it('has no access to the ledger, the audit log or the alert topic', () => {
      expect(ingestGrants.ledger).toBeUndefined();
      expect(ingestGrants.audit).toBeUndefined();
      expect(ingestGrants.alertTopic).toBeUndefined();
    });
  });

  it('grants Scan only on the ledger, which is small by design: never on the mirror', () => {
    const scanned = [scanGrants, ingestGrants].flatMap((grants) =>
      Object.entries(grants)
        .filter(([, actions]) => actions.includes('dynamodb:Scan'))
        .map(([resource]) => resource),
    );
    expect(scanned).toEqual(['ledger']);
  });
});
