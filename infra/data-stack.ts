// The stateful stack: the customer-managed keys (one for the data, one for the ops topic), the
// tables, the alert and ops topics with their subscriptions, and the ingest queue. Functions live in the app stack, so redeploying code never
// touches data.

import { createHash } from 'node:crypto';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { MIRROR_TABLE, MIRROR_TABLE_MIGRATING, TABLES, type TableId } from '#shared/adapters/tables.ts';
import type { ConfigFile } from '#shared/config/schema.ts';
import {
  keyAlias,
  lambdaLogGroupName,
  opsKeyAlias,
  prefixPattern,
  queueName,
  topicName,
} from '#shared/delivery/names.ts';
import { type Deployment, filterPolicyFor } from '#shared/delivery/subscriptions.ts';
import { declareForce } from './force.ts';
import { INGEST_MAX_RECEIVE_COUNT, INGEST_VISIBILITY_TIMEOUT } from './limits.ts';
import { tableFromDefinition } from './tables.ts';

export interface DataStackProps extends StackProps {
  deployment: Deployment;
  /** The admin config the subscriptions' filter policies are checked against. */
  adminConfig: ConfigFile;
}

/** A stable construct id for a subscription: SNS keeps one subscription per endpoint and topic. */
const endpointId = (protocol: string, endpoint: string) =>
  createHash('sha256').update(`${protocol}:${endpoint}`).digest('hex').slice(0, 12);

export class DataStack extends Stack {
  readonly key: Key;
  /** The ops topic's key alone: a data key disabled or scheduled for deletion stops the tables, the
   * alert topic and the queues, and the alarms that say so must still reach ops. */
  readonly opsKey: Key;
  readonly tables: Record<TableId, Table>;
  readonly alertTopic: Topic;
  readonly opsTopic: Topic;
  readonly ingestQueue: Queue;
  readonly ingestDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { stage, production } = props.deployment;
    declareForce(this, stage);
    // Policy statements that cover a kind of resource (every topic, log group or alarm) cover this
    // force's and no other force's.
    const ours = prefixPattern(stage);

    this.key = new Key(this, 'Key', {
      alias: keyAlias(stage),
      description: `queuewatch ${stage}: tables, topics, queues and logs`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(production ? 30 : 7),
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.opsKey = new Key(this, 'OpsKey', {
      alias: opsKeyAlias(stage),
      description: `queuewatch ${stage}: the ops topic (apart, so that alarms outlive the data key)`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(production ? 30 : 7),
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to the encrypted ops topic (AWS's documented statement for it). Only
    // its key: every alarm notifies the ops topic, and none a topic under the data key.
    this.opsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopics',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    for (const key of [this.key, this.opsKey]) {
      // SNS delivers from our encrypted topics to encrypted subscribers (such as SQS queues).
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'SnsUsesKeyForOurTopics',
          principals: [new ServicePrincipal('sns.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'aws:SourceArn': this.formatArn({ service: 'sns', resource: ours }),
            },
          },
        }),
      );
    }
    // The functions' log groups are encrypted with this key too: logs hold case references.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptsOurLogGroups',
        principals: [new ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: lambdaLogGroupName(ours),
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    const built = new Map<string, Table>();
    for (const table of TABLES) {
      // A mirror migrating from the first release keeps its old index beside the sharded one.
      const definition =
        table.id === MIRROR_TABLE.id && props.deployment.openCasesIndex ? MIRROR_TABLE_MIGRATING : table;
      built.set(definition.id, tableFromDefinition(this, definition, { stage, production, key: this.key }));
    }
    const table = (id: TableId): Table => {
      const t = built.get(id);
      if (!t) throw new Error(`no table definition '${id}' in TABLES`);
      return t;
    };
    this.tables = {
      mirror: table('mirror'),
      ledger: table('ledger'),
      audit: table('audit'),
      state: table('state'),
      rejects: table('rejects'),
      flow: table('flow'),
      acklinks: table('acklinks'),
    };

    // No display name on the alert topic: SNS prefixes it to SMS bodies, and an alert must fit
    // one segment.
    this.alertTopic = new Topic(this, 'AlertTopic', {
      topicName: topicName(stage, 'alerts'),
      masterKey: this.key,
      enforceSSL: true,
    });
    this.opsTopic = new Topic(this, 'OpsTopic', {
      topicName: topicName(stage, 'ops'),
      displayName: `queuewatch ${stage} ops`,
      masterKey: this.opsKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch alarms need their own grant.
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: ours,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    this.ingestDeadLetterQueue = new Queue(this, 'IngestDeadLetterQueue', {
      queueName: queueName(stage, 'ingest-dlq'),
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.ingestQueue = new Queue(this, 'IngestQueue', {
      queueName: queueName(stage, 'ingest'),
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      // A feed backlog survives a long outage of the ingest function.
      retentionPeriod: Duration.days(14),
      visibilityTimeout: INGEST_VISIBILITY_TIMEOUT,
      deadLetterQueue: { queue: this.ingestDeadLetterQueue, maxReceiveCount: INGEST_MAX_RECEIVE_COUNT },
    });

    this.subscribe(props.deployment, props.adminConfig);

    new CfnOutput(this, 'IngestQueueUrl', {
      description: 'Where the source system sends case changes',
      value: this.ingestQueue.queueUrl,
    });
    new CfnOutput(this, 'AlertTopicArn', { value: this.alertTopic.topicArn });
    new CfnOutput(this, 'OpsTopicArn', { value: this.opsTopic.topicArn });
  }

  private subscribe(deployment: Deployment, adminConfig: ConfigFile): void {
    const seen = new Map<string, string>();
    const claim = (protocol: string, endpoint: string, where: string) => {
      const id = endpointId(protocol, endpoint);
      const first = seen.get(id);
      if (first) {
        throw new Error(
          `${where}: same ${protocol} endpoint as ${first}; SNS keeps one subscription per endpoint and topic, ` +
            'so give each endpoint one entry',
        );
      }
      seen.set(id, where);
      return id;
    };

    deployment.subscribers.forEach((subscriber, i) => {
      const where = `subscribers[${i}]`;
      const policy = filterPolicyFor(subscriber, adminConfig, where);
      const id = claim(subscriber.protocol, subscriber.endpoint, where);
      new Subscription(this, `Subscriber-${id}`, {
        topic: this.alertTopic,
        protocol: subscriber.protocol === 'sms' ? SubscriptionProtocol.SMS : SubscriptionProtocol.EMAIL,
        endpoint: subscriber.endpoint,
        filterPolicy: Object.fromEntries(
          Object.entries(policy).map(([attribute, values]) => [
            attribute,
            SubscriptionFilter.stringFilter({ allowlist: values }),
          ]),
        ),
      });
    });

    const opsSeen = new Map<string, string>();
    deployment.opsEmails.forEach((email, i) => {
      const id = endpointId('email', email);
      const first = opsSeen.get(id);
      if (first) throw new Error(`opsEmails[${i}]: same address as ${first}`);
      opsSeen.set(id, `opsEmails[${i}]`);
      new Subscription(this, `Ops-${id}`, {
        topic: this.opsTopic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: email,
      });
    });
  }
}
