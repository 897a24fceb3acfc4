import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_TABLE, OPEN_SHARDS_INDEX_NAME, TABLES } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import { filterPolicyFor } from '#shared/delivery/subscriptions.ts';
import { DEPLOYMENT, logicalId, PRODUCTION, type Synthesized, synthesize } from './support.ts';

const keyArn = (s: Synthesized) => ({ 'Fn::GetAtt': [logicalId(s.data, s.data.key), 'Arn'] });

describe('data stack', () => {
  let dev: Synthesized;
  let prod: Synthesized;
  beforeAll(() => {
    dev = synthesize(DEPLOYMENT);
    prod = synthesize(PRODUCTION);
  });

  describe('key', () => {
    it('is customer managed with rotation on', () => {
      dev.dataTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('lets CloudWatch alarms and SNS use it for the encrypted topics', () => {
      const statement = (service: string) =>
        Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: service },
          Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
        });
      dev.dataTemplate.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([statement('cloudwatch.amazonaws.com'), statement('sns.amazonaws.com')]),
        },
      });
    });

    it('lets CloudWatch use the ops key alone: every alarm publishes to the ops topic, none to a topic under the data key', () => {
      const services = (key: { node: { defaultChild?: unknown } }) =>
        (
          dev.dataTemplate.toJSON().Resources[logicalId(dev.data, key)].Properties.KeyPolicy
            .Statement as Array<{
            Principal: { Service?: string };
          }>
        ).map((st) => st.Principal.Service);
      expect(services(dev.data.opsKey)).toContain('cloudwatch.amazonaws.com');
      expect(services(dev.data.key)).not.toContain('cloudwatch.amazonaws.com');
    });

    it('is kept and protected from quick deletion in production only', () => {
      prod.dataTemplate.hasResource('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({ PendingWindowInDays: 30 }),
      });
      dev.dataTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    });
  });

  describe('tables', () => {
    it.each(TABLES.map((t) => [t.id, t] as const))(
      'builds %s from its shared definition',
      (id, definition) => {
        dev.dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: `queuewatch-test-${id}`,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
            ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          TimeToLiveSpecification: definition.ttlAttribute
            ? { AttributeName: definition.ttlAttribute, Enabled: true }
            : Match.absent(),
        });
      },
    );

    it('encrypts every table with the customer-managed key and keeps point-in-time recovery on', () => {
      const tables = Object.values(dev.dataTemplate.findResources('AWS::DynamoDB::Table'));
      expect(tables).toHaveLength(TABLES.length);
      for (const table of tables) {
        expect(table.Properties.SSESpecification).toEqual({
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: keyArn(dev),
        });
        expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
          PointInTimeRecoveryEnabled: true,
        });
      }
    });

    it('indexes only open cases, by district shard, keyed and projected as the shared definition says', () => {
      const [index] = MIRROR_TABLE.indexes;
      if (!index) throw new Error('the mirror definition has no index');
      expect(index.indexName).toBe(OPEN_SHARDS_INDEX_NAME);
      dev.dataTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'queuewatch-test-mirror',
        GlobalSecondaryIndexes: [
          {
            IndexName: OPEN_SHARDS_INDEX_NAME,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: index.sortKey?.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] },
          },
        ],
      });
    });

    it('turns on deletion protection and retains every table in production', () => {
      const tables = Object.values(prod.dataTemplate.findResources('AWS::DynamoDB::Table'));
      expect(tables).toHaveLength(TABLES.length);
      for (const table of tables) {
        expect(table.Properties.DeletionProtectionEnabled).toBe(true);
        expect(table.DeletionPolicy).toBe('Retain');
        expect(table.UpdateReplacePolicy).toBe('Retain');
      }
    });

    it('leaves tables deletable outside production', () => {
      for (const table of Object.values(dev.dataTemplate.findResources('AWS::DynamoDB::Table'))) {
        expect(table.Properties.DeletionProtectionEnabled).toBe(false);
        expect(table.DeletionPolicy).toBe('Delete');
      }
    });

    it('protects the production data stack from deletion', () => {
      expect(prod.data.terminationProtection).toBe(true);
      expect(dev.data.terminationProtection).toBe(false);
    });
  });

  describe('topics and queues', () => {
    it('encrypts the alert topic with the data key and the ops topic with a key of its own', () => {
      const topics = Object.values(dev.dataTemplate.findResources('AWS::SNS::Topic'));
      expect(topics.map((t) => [t.Properties.TopicName, t.Properties.KmsMasterKeyId])).toEqual([
        ['queuewatch-test-alerts', keyArn(dev)],
        // Apart, so that the alarms saying the data key is disabled still reach ops.
        ['queuewatch-test-ops', { 'Fn::GetAtt': [logicalId(dev.data, dev.data.opsKey), 'Arn'] }],
      ]);
      dev.dataTemplate.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/queuewatch-test-ops',
        TargetKeyId: { 'Fn::GetAtt': [logicalId(dev.data, dev.data.opsKey), 'Arn'] },
      });
      const opsKey = dev.dataTemplate.toJSON().Resources[logicalId(dev.data, dev.data.opsKey)];
      expect(opsKey.Properties.EnableKeyRotation).toBe(true);
      // CloudWatch alarms may use it (the data key: SNS only), and SNS.
      const sids = (opsKey.Properties.KeyPolicy.Statement as Array<{ Sid?: string }>).map((st) => st.Sid);
      expect(sids).toEqual(
        expect.arrayContaining(['CloudWatchAlarmsPublishToEncryptedTopics', 'SnsUsesKeyForOurTopics']),
      );
    });

    it('gives the alert topic no display name, which SNS would put in front of every SMS', () => {
      dev.dataTemplate.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: 'queuewatch-test-alerts',
        DisplayName: Match.absent(),
      });
    });

    it('refuses publishing without TLS and lets CloudWatch alarms publish to the ops topic', () => {
      const opsTopic = { Ref: logicalId(dev.data, dev.data.opsTopic) };
      dev.dataTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [opsTopic],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
            }),
          ]),
        },
      });
    });

    it('encrypts the ingest queue and its dead-letter queue with the key and requires TLS', () => {
      const queues = dev.dataTemplate.findResources('AWS::SQS::Queue');
      expect(Object.values(queues).map((q) => q.Properties.QueueName)).toEqual([
        'queuewatch-test-ingest-dlq',
        'queuewatch-test-ingest',
      ]);
      for (const [id, queue] of Object.entries(queues)) {
        expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn(dev));
        dev.dataTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('moves a message to the dead-letter queue after five receives', () => {
      dev.dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'queuewatch-test-ingest',
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(dev.data, dev.data.ingestDeadLetterQueue), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
    });

    it('keeps a message invisible for longer than the ingest function may run', () => {
      const queue = Object.values(dev.dataTemplate.findResources('AWS::SQS::Queue')).find(
        (q) => q.Properties.QueueName === 'queuewatch-test-ingest',
      );
      const timeout = dev.appTemplate.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'queuewatch-test-ingest' },
      });
      const [ingest] = Object.values(timeout);
      expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * ingest?.Properties.Timeout);
    });
  });

  describe('subscriptions', () => {
    const config = loadConfig().file;

    it('subscribes each subscriber with the filter policy the delivery code routes by', () => {
      const subscriptions = Object.values(
        dev.dataTemplate.findResources('AWS::SNS::Subscription', {
          Properties: { TopicArn: { Ref: logicalId(dev.data, dev.data.alertTopic) } },
        }),
      ).map((s) => s.Properties);
      expect(subscriptions).toHaveLength(DEPLOYMENT.subscribers.length);
      for (const subscriber of DEPLOYMENT.subscribers) {
        expect(subscriptions).toContainEqual({
          Protocol: subscriber.protocol,
          Endpoint: subscriber.endpoint,
          TopicArn: { Ref: logicalId(dev.data, dev.data.alertTopic) },
          FilterPolicy: filterPolicyFor(subscriber, config),
        });
      }
    });

    it('routes a district supervisor to its district, and a director to its local authority', () => {
      dev.dataTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sms',
        Endpoint: '+447700900123',
        FilterPolicy: { group: ['district-supervisor@D01'], kind: ['alert', 'summary'] },
      });
      dev.dataTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Endpoint: 'dcs-northgate@example.org',
        FilterPolicy: {
          group: ['director-childrens-services@la-northgate'],
          level: ['escalation'],
          kind: ['alert', 'email-only', 'digest'],
        },
      });
    });

    it('subscribes the ops emails to the ops topic, unfiltered', () => {
      dev.dataTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'duty@example.org',
        TopicArn: { Ref: logicalId(dev.data, dev.data.opsTopic) },
        FilterPolicy: Match.absent(),
      });
    });

    it('refuses a subscriber whose audience the admin config does not know, naming it', () => {
      const deployment = {
        ...DEPLOYMENT,
        subscribers: [{ protocol: 'email' as const, endpoint: 'x@example.org', audience: 'nobody' }],
      };
      expect(() => synthesize(deployment)).toThrow(/subscribers\[0\]\.audience: unknown audience 'nobody'/);
    });

    it('refuses the same endpoint twice, since SNS keeps one subscription per endpoint and topic', () => {
      const [first] = DEPLOYMENT.subscribers;
      if (!first) throw new Error('fixture has no subscribers');
      const deployment = {
        ...DEPLOYMENT,
        subscribers: [first, { ...first, audience: 'duty-inspector' }],
      };
      expect(() => synthesize(deployment)).toThrow(
        /subscribers\[1\]\.endpoint: same sms endpoint as subscribers\[0\]/,
      );
    });
  });
});
