// The acknowledgement page in the stack: a function that can only read and use up links and write
// acknowledgements and their disclosure-log entries; an HTTP API with exactly GET and POST /{token},
// throttled, logging accesses without the token; the scan told the page's address and allowed to
// store links; alarms for errors, failures and a burst of refusals.

import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACK_REFUSAL_BURST, ACK_THROTTLE } from '#infra/ack-endpoint.ts';
import { ACK_METRICS } from '#shared/ack/metrics.ts';
import { loadConfig } from '#shared/config/load.ts';
import {
  DEPLOYMENT,
  dataNames,
  grantsOf,
  logicalId,
  type Synthesized,
  statementsOf,
  synthesize,
} from './support.ts';

const WRITE = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** A log's: the disclosure log is written in batches (BatchWriteItem), nothing read. */
const APPEND = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

describe('acknowledgement page in the stack', () => {
  let s: Synthesized;
  let names: ReturnType<typeof dataNames> & { ackLogs: string };
  let apiId: string;
  beforeAll(() => {
    s = synthesize(DEPLOYMENT);
    names = { ...dataNames(s), ackLogs: logicalId(s.app, s.app.ack.logGroup) };
    apiId = logicalId(s.app, s.app.ackEndpoint.api);
  });

  const fnProps = (name: string) => {
    const found = Object.values(
      s.appTemplate.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }),
    );
    if (found.length !== 1) throw new Error(`expected one function ${name}`);
    return found[0]?.Properties;
  };
  const imported = (name: keyof typeof names) => ({
    'Fn::ImportValue': expect.stringMatching(
      new RegExp(`^queuewatch-test-data:ExportsOutputRef${names[name]}`),
    ),
  });
  const pageAddress = () => ({
    'Fn::Join': [
      '',
      ['https://', { Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }],
    ],
  });

  describe('the function', () => {
    it('runs on ARM64, Node.js 22, traced, with 10 seconds and 256 MB', () => {
      const props = fnProps('queuewatch-test-ack');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Timeout).toBe(10);
      expect(props.MemorySize).toBe(256);
    });

    it('is told the link, ledger and audit tables and the case system, and nothing of alerts or the mirror', () => {
      const env = fnProps('queuewatch-test-ack').Environment.Variables;
      expect(env).toMatchObject({
        ACK_LINKS_TABLE: imported('acklinks'),
        LEDGER_TABLE: imported('ledger'),
        AUDIT_TABLE: imported('audit'),
        CASE_SYSTEM_URL: loadConfig().file.linkBase,
        POWERTOOLS_SERVICE_NAME: 'queuewatch-test',
      });
      for (const absent of [
        'MIRROR_TABLE',
        'STATE_TABLE',
        'ALERT_TOPIC_ARN',
        'OPS_TOPIC_ARN',
        'CONFIG_PARAMETER',
      ]) {
        expect(Object.keys(env)).not.toContain(absent);
      }
    });

    it('has exactly the grants it needs: no Scan, no delete, no topic, no mirror', () => {
      expect(grantsOf(s.appTemplate, s.app.ack, names)).toEqual({
        acklinks: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        ledger: WRITE,
        audit: APPEND,
        key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        ackLogs: LOGS,
        '*': XRAY,
      });
    });

    it('may write only acknowledgement items of the ledger, never a claim or a case shard', () => {
      const ledgerStatements = statementsOf(s.appTemplate, logicalId(s.app, s.app.ack.role)).filter((st) =>
        JSON.stringify(st.Resource).includes(names.ledger),
      ) as Array<{ Condition?: unknown }>;
      expect(ledgerStatements).toHaveLength(1);
      expect(ledgerStatements[0]?.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['acks/*/*'] },
      });
    });
  });

  describe('the HTTP API', () => {
    it('has exactly two routes, GET and POST /{token}, both to the function with payload format 2.0', () => {
      const routes = Object.values(s.appTemplate.findResources('AWS::ApiGatewayV2::Route'));
      expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(['GET /{token}', 'POST /{token}']);
      s.appTemplate.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        ApiId: { Ref: apiId },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(s.app, s.app.ack.function), 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
      s.appTemplate.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [logicalId(s.app, s.app.ack.function), 'Arn'] },
        Principal: 'apigateway.amazonaws.com',
      });
    });

    it('throttles the whole stage, so a flood never reaches the function', () => {
      s.appTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: apiId },
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: ACK_THROTTLE.rateLimit,
          ThrottlingBurstLimit: ACK_THROTTLE.burstLimit,
        },
      });
    });

    it('logs each access to an encrypted log group, by route and never by path (the path is the token)', () => {
      const [stage] = Object.values(s.appTemplate.findResources('AWS::ApiGatewayV2::Stage'));
      const settings = stage?.Properties.AccessLogSettings;
      expect(settings.DestinationArn).toEqual({
        'Fn::GetAtt': [logicalId(s.app, s.app.ackEndpoint.accessLogs), 'Arn'],
      });
      const format = JSON.parse(settings.Format) as Record<string, string>;
      expect(Object.values(format)).toEqual(
        expect.arrayContaining(['$context.requestId', '$context.routeKey', '$context.status']),
      );
      for (const leaky of ['$context.path', '$context.identity.sourceIp', '$context.domainName']) {
        expect(settings.Format).not.toContain(leaky);
      }
      s.appTemplate.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/lambda/queuewatch-test-ack-access',
        RetentionInDays: 90,
        KmsKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp(names.key) },
      });
    });

    it('publishes its address as an output', () => {
      expect(s.appTemplate.toJSON().Outputs.AckPageUrl.Value).toEqual(pageAddress());
    });
  });

  describe('the scan', () => {
    it("is told the page's address and the link table", () => {
      expect(fnProps('queuewatch-test-scan').Environment.Variables).toMatchObject({
        ACK_BASE_URL: pageAddress(),
        ACK_LINKS_TABLE: imported('acklinks'),
      });
    });

    it('may store links (conditional writes) but neither scan nor delete them', () => {
      const grants = grantsOf(s.appTemplate, s.app.scan, names);
      expect(grants.acklinks).toEqual(WRITE);
    });
  });

  describe('alarms', () => {
    const alarmNamed = (name: string) => {
      const found = Object.values(
        s.appTemplate.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }),
      );
      if (found.length !== 1) throw new Error(`expected one alarm ${name}`);
      return found[0]?.Properties;
    };
    const opsTopic = () => [{ 'Fn::ImportValue': expect.stringContaining(names.opsTopic) }];

    it('fires on any function error, and tells ops when it recovers', () => {
      const alarm = alarmNamed('queuewatch-test-ack-errors');
      expect(alarm).toMatchObject({
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(alarm.AlarmActions).toEqual(opsTopic());
      expect(alarm.OKActions).toEqual(opsTopic());
    });

    it('fires on a server error from the page, which also sees a function that is never reached', () => {
      expect(alarmNamed('queuewatch-test-ack-api-errors')).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: [{ Name: 'ApiId', Value: { Ref: expect.stringMatching(/Api/) } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: opsTopic(),
      });
    });

    it.each([
      ['queuewatch-test-ack-failures', ACK_METRICS.failures, 1],
      ['queuewatch-test-ack-unaudited', ACK_METRICS.unaudited, 1],
      ['queuewatch-test-ack-refusal-burst', ACK_METRICS.refused, ACK_REFUSAL_BURST],
    ])('%s watches %s from %i in five minutes', (name, metric, threshold) => {
      expect(alarmNamed(name)).toMatchObject({
        MetricName: metric,
        Namespace: 'Queuewatch',
        Dimensions: [{ Name: 'service', Value: 'queuewatch-test' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });
  });
});
