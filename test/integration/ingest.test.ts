// The ingest function with real SDK clients: DynamoDB on an embedded dynalite, the ops topic on
// moto_server with an SQS queue subscribed. Real SQS-shaped batches go through the deployed handler
// (functions/ingest.ts) and through the use case with a client made to fail for one message.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lastIngest, recordIngest } from '#shared/adapters/ingest-state.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { MirrorWriter } from '#shared/adapters/mirror-writer.ts';
import { SnsOpsNotifier } from '#shared/adapters/ops-notifier.ts';
import { DynamoRejectStore, type RejectItem } from '#shared/adapters/rejects.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { pushConfig } from '#shared/cli/config-push.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from '#shared/config/load.ts';
import { type CaseRecord, FUTURE_TOLERANCE_MS } from '#shared/domain/case.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { awsIngestDeps } from '#shared/wiring/ingest.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';
import { aCase as baseCase, shippedConfigJsonPath, sqsRecord } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { openIndexRefs } from '#test/support/open-index.ts';

const PII = /SYNTHETIC-(PERSON|ADDRESS|NOTE)/;
const REGION = 'eu-west-2';

let dynamo: EmbeddedDynamo;
let moto: Moto;
let doc: DynamoDBDocumentClient;
let sqs: SQSClient;
let sns: SNSClient;
let tables: Record<TableId, string>;
let topicArn: string;
let opsQueueUrl: string;

const aCase = (caseRef: string, overrides: Partial<CaseRecord> = {}): CaseRecord =>
  baseCase({ caseRef, sourceUpdatedAt: '2026-03-29T01:00:00.000Z', ...overrides });

/** A message as the source sends it, with synthetic source-system fields the edge must drop. */
const change = (changeType: string, c: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    changeType,
    case: { ...c, subjectName: 'SYNTHETIC-PERSON-1', address: 'SYNTHETIC-ADDRESS-1' },
    notes: 'SYNTHETIC-NOTE-1: free text',
    ...extra,
  });

async function drainOpsQueue(): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < 5; i++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: opsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...Messages);
    if (Messages.length === 0 && messages.length > 0) break;
  }
  return messages;
}

const context = {
  awsRequestId: 'req-1',
  functionName: 'queuewatch-ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:queuewatch-ingest',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/queuewatch-ingest',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

beforeAll(async () => {
  [dynamo, moto] = await Promise.all([startDynalite(), startMoto()]);
  tables = await createTables(dynamo.client, 'it');
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  const aws = { endpoint: moto.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS };
  sns = new SNSClient(aws);
  sqs = new SQSClient(aws);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'queuewatch-ops' }))).TopicArn as string;
  opsQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ops-inbox' }))).QueueUrl as string;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: opsQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
});

afterAll(async () => {
  sns?.destroy();
  sqs?.destroy();
  await Promise.all([dynamo?.close(), moto?.stop()]);
});

describe('the ingest function (functions/ingest.ts)', () => {
  it('stores exactly the good messages of a mixed batch, keeps the invalid ones and tells ops', async () => {
    // Arrange: a newer version of one case is already in the mirror, and one open case to close.
    const now = Date.now();
    await doc.send(
      new PutCommand({
        TableName: tables.mirror,
        Item: toMirrorItem(aCase('DA-100-0000003', { sourceUpdatedAt: '2026-03-29T05:00:00.000Z' }), now),
      }),
    );
    await doc.send(
      new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(aCase('DA-100-0000004'), now) }),
    );
    vi.stubEnv('MIRROR_TABLE', tables.mirror);
    vi.stubEnv('FLOW_TABLE', tables.flow);
    vi.stubEnv('STATE_TABLE', tables.state);
    vi.stubEnv('REJECTS_TABLE', tables.rejects);
    vi.stubEnv('OPS_TOPIC_ARN', topicArn);
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', moto.endpoint);
    // No config pushed to this parameter: the function runs on the shipped one, the JSON file the
    // stack puts beside its bundle.
    vi.stubEnv('CONFIG_PARAMETER', '/queuewatch/ingest-test/config');
    vi.stubEnv('DEFAULT_CONFIG_FILE', shippedConfigJsonPath());
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', moto.endpoint);
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Queuewatch');
    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const future = new Date(now + FUTURE_TOLERANCE_MS + 3_600_000).toISOString();

    let response: SQSBatchResponse;
    try {
      const { handler } = await import('#functions/ingest.ts');
      const event: SQSEvent = {
        Records: [
          sqsRecord('m-created', change('created', aCase('DA-100-0000001'), { sourceSequence: 1 })),
          sqsRecord('m-repeat', change('created', aCase('DA-100-0000001'), { sourceSequence: 1 })),
          sqsRecord(
            'm-stage',
            change('stage-changed', aCase('DA-100-0000002', { stage: 'awaiting-referral' })),
          ),
          sqsRecord('m-stale', change('updated', aCase('DA-100-0000003', { riskLevel: 'standard' }))),
          sqsRecord(
            'm-closed',
            change(
              'closed',
              aCase('DA-100-0000004', { stage: 'closed', sourceUpdatedAt: '2026-03-29T02:00:00Z' }),
            ),
          ),
          sqsRecord('m-truncated', change('created', aCase('DA-100-0000005')).slice(0, 80)),
          sqsRecord('m-category', change('created', aCase('DA-100-0000006', { category: 'burglary' }))),
          sqsRecord('m-future', change('created', aCase('DA-100-0000007', { stageEnteredAt: future }))),
          sqsRecord(
            'm-huge',
            change('created', {
              ...aCase('DA-100-0000008'),
              caseRef: `SYNTHETIC-PERSON-${'X'.repeat(100_000)}`,
            }),
          ),
          sqsRecord(
            'm-control',
            change('created', { ...aCase('DA-100-0000009'), district: "D01'\u0000\u001b[31m OR 1=1;--" }),
          ),
          sqsRecord(
            'm-offsetless',
            change('created', { ...aCase('DA-100-0000010'), sourceUpdatedAt: '2026-03-29T01:00:00' }),
          ),
        ],
      };
      response = await handler(event, context);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      vi.unstubAllEnvs();
    }

    // Nothing is returned for a retry: every message was either applied or kept as a reject.
    expect(response).toEqual({ batchItemFailures: [] });

    // The mirror: the two new cases, the newer stored version untouched, the closed case out of
    // the open-cases index; nothing of the invalid ones, and no source-system fields.
    const { Items: mirror = [] } = await doc.send(new ScanCommand({ TableName: tables.mirror }));
    const byRef = new Map(mirror.map((item) => [item.caseRef as string, item]));
    expect([...byRef.keys()].sort()).toEqual([
      'DA-100-0000001',
      'DA-100-0000002',
      'DA-100-0000003',
      'DA-100-0000004',
    ]);
    expect(byRef.get('DA-100-0000001')).toMatchObject({
      sourceSequence: 1,
      openShard: expect.stringMatching(/^D\d\d$/),
    });
    expect(byRef.get('DA-100-0000002')).toMatchObject({
      stage: 'awaiting-referral',
      openShard: expect.any(String),
    });
    expect(byRef.get('DA-100-0000003')).toMatchObject({
      riskLevel: 'high',
      sourceUpdatedAt: '2026-03-29T05:00:00.000Z',
    });
    expect(byRef.get('DA-100-0000004')).toMatchObject({ stage: 'closed' });
    expect(byRef.get('DA-100-0000004')).not.toHaveProperty('openShard');
    expect(await openIndexRefs(doc, tables.mirror)).toEqual([
      'DA-100-0000001',
      'DA-100-0000002',
      'DA-100-0000003',
    ]);

    // The rejects: every invalid message, with its reason, message id and schema fields only.
    const { Items: rejects = [] } = await doc.send(new ScanCommand({ TableName: tables.rejects }));
    const reject = new Map((rejects as RejectItem[]).map((r) => [r.messageId, r]));
    expect([...reject.keys()].sort()).toEqual(
      ['m-category', 'm-control', 'm-future', 'm-huge', 'm-offsetless', 'm-truncated'].sort(),
    );
    expect(reject.get('m-truncated')).toMatchObject({
      code: 'invalid-json',
      reason: 'not valid JSON (truncated)',
    });
    expect(reject.get('m-truncated')).not.toHaveProperty('fields');
    expect(reject.get('m-category')).toMatchObject({ code: 'unknown-category', caseRef: 'DA-100-0000006' });
    expect(reject.get('m-future')).toMatchObject({ code: 'future-stage', caseRef: 'DA-100-0000007' });
    expect(reject.get('m-future')?.reason).toMatch(
      /^case: stageEnteredAt is in the future: it must be from /,
    );
    expect(reject.get('m-future')?.reason).not.toContain(future);
    expect(reject.get('m-huge')).toMatchObject({ code: 'invalid-fields' });
    expect(reject.get('m-huge')?.reason).toMatch(/caseRef must be 3 to 40 capital letters/);
    expect(reject.get('m-control')?.reason).toMatch(/district must be a district id/);
    expect(reject.get('m-offsetless')?.reason).toMatch(/sourceUpdatedAt has no UTC offset/);
    for (const r of reject.values()) {
      expect(r.rejectId).toBe(`feed#${r.messageId}`);
      expect(r.expiresAt).toBeGreaterThan(now / 1000);
      expect(r.fields?.length ?? 0).toBeLessThan(3000);
    }
    expect(JSON.parse(reject.get('m-category')?.fields ?? '{}')).toEqual({
      changeType: 'created',
      case: aCase('DA-100-0000006', { category: '[withheld: a string of 8 characters]' }),
    });
    expect(JSON.stringify(reject.get('m-category'))).not.toContain('burglary');

    // The last ingest time is recorded for the quiet-feed alarm.
    const ingestedAt = await lastIngest(doc, tables.state);
    expect(ingestedAt).toBeGreaterThanOrEqual(now);

    // One ops summary for the batch: counts and case references, no content of any message; and,
    // as nothing has been pushed to the parameter, one notice that the shipped config is in force.
    const opsMessages = await drainOpsQueue();
    expect(opsMessages).toHaveLength(2);
    expect(opsMessages.map((m) => m.Body)).toContainEqual(
      expect.stringMatching(
        /^Nothing has been pushed to \/queuewatch\/ingest-test\/config: the functions run on the config shipped/,
      ),
    );
    const opsText = opsMessages.find((m) => m.Body?.includes('rejected'))?.Body ?? '';
    expect(opsText).toMatch(/rejected 6 of 11 feed messages/);
    expect(opsText).toMatch(/unknown-category: 1 \(cases DA-100-0000006\)/);
    expect(opsText).toMatch(/future-stage: 1 \(cases DA-100-0000007\)/);
    expect(opsText).not.toMatch(PII);
    expect(opsText).not.toContain('burglary');

    // The function's logs and metrics: structured, counted, and free of personal data.
    const logText = output.join('');
    expect(logText).not.toMatch(PII);
    expect(logText).toMatch(/"RejectedMessages":6\b/);
    expect(logText).toMatch(/"IngestedMessages":5\b/);
    expect(logText).toContain('feed message rejected');

    // Nothing personal reached the database either.
    expect(JSON.stringify([mirror, rejects])).not.toMatch(/SYNTHETIC-(ADDRESS|NOTE)/);
  });

  it('follows the pushed config: a district added with config push is accepted without a deploy', async () => {
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', moto.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', moto.endpoint);
    const parameter = '/queuewatch/ingest-push/config';
    try {
      const deps = awsIngestDeps({
        MIRROR_TABLE: tables.mirror,
        FLOW_TABLE: tables.flow,
        STATE_TABLE: tables.state,
        REJECTS_TABLE: tables.rejects,
        OPS_TOPIC_ARN: topicArn,
        CONFIG_PARAMETER: parameter,
        DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
      });
      const inD11 = (id: string) =>
        sqsRecord(id, change('created', aCase('DA-200-0000011', { district: 'D11' }), { sourceSequence: 1 }));
      const before = await ingestSqsBatch({ Records: [inD11('m-d11-before')] }, await deps(), Date.now());
      const pushed = join(mkdtempSync(join(tmpdir(), 'qw-ingest-')), 'with-d11.yaml');
      writeFileSync(
        pushed,
        readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace(
          '  D10: { name: Riverside, localAuthority: la-riverside }',
          '  D10: { name: Riverside, localAuthority: la-riverside }\n  D11: { name: Brookfield, localAuthority: la-riverside }',
        ),
      );
      await pushConfig(pushed, { parameter, endpoint: moto.endpoint, stage: 'unused' });
      const after = await ingestSqsBatch({ Records: [inD11('m-d11-after')] }, await deps(), Date.now());

      expect(before.summary.rejected.map((r) => r.code)).toEqual(['unknown-district']);
      expect((await drainOpsQueue()).map((m) => m.Body ?? '').join()).toMatch(/unknown-district: 1/);
      expect(after.summary.applied.created).toBe(1);
      expect(after.summary.rejected).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('ingestSqsBatch with real adapters', () => {
  it('returns exactly the message whose write failed for a passing reason, and applies the rest', async () => {
    // A client that throttles every write of one case, as DynamoDB would under a hot partition.
    const good = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const failing = DynamoDBDocumentClient.from(
      (await import('#shared/local/embedded-dynamo.ts')).localDynamoClient(dynamo.endpoint),
    );
    failing.middlewareStack.add(
      (next) => async (args) => {
        // The mirror writer's UpdateItem names the case in its Key.
        const input = args.input as {
          Item?: { caseRef?: { S?: string } };
          Key?: { caseRef?: { S?: string } };
        };
        if ((input.Item ?? input.Key)?.caseRef?.S === 'DA-200-0000002') {
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'build', name: 'throttleOneCase' },
    );
    const ops = new SnsOpsNotifier(sns, topicArn);
    const logs: unknown[] = [];
    const now = Date.now();
    const { response, summary } = await ingestSqsBatch(
      {
        Records: [
          sqsRecord('t1', change('created', aCase('DA-200-0000001'))),
          sqsRecord('t2', change('created', aCase('DA-200-0000002'))),
          sqsRecord('t3', change('created', aCase('DA-200-0000003'))),
          sqsRecord('t4', '{"changeType":'),
        ],
      },
      {
        mirror: new MirrorWriter(failing, tables.mirror),
        rejects: new DynamoRejectStore(good, tables.rejects),
        state: { recordIngest: (atMs) => recordIngest(good, tables.state, atMs) },
        ops,
        vocabulary: loadConfig().vocabulary,
        logger: { info: () => {}, warn: (...a) => void logs.push(a), error: (...a) => void logs.push(a) },
        metrics: { addMetric: () => {} },
      },
      now,
    );
    failing.destroy();

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 't2' }]);
    expect(summary.applied.created).toBe(2);
    expect(summary.rejected.map((r) => r.messageId)).toEqual(['t4']);
    for (const ref of ['DA-200-0000001', 'DA-200-0000003']) {
      const { Item } = await doc.send(new GetCommand({ TableName: tables.mirror, Key: { caseRef: ref } }));
      expect(Item?.caseRef).toBe(ref);
    }
    const { Item: missing } = await doc.send(
      new GetCommand({ TableName: tables.mirror, Key: { caseRef: 'DA-200-0000002' } }),
    );
    expect(missing).toBeUndefined();
    expect(logs).toContainEqual([
      'feed message failed for now; SQS will retry it',
      {
        messageId: 't2',
        caseRef: 'DA-200-0000002',
        dependency: 'dynamodb:mirror',
        error: { name: 'ThrottlingException', httpStatusCode: 400 },
      },
    ]);
    expect(JSON.stringify(logs)).not.toMatch(PII);
    const opsMessages = await drainOpsQueue();
    expect(opsMessages.map((m) => m.Body)).toEqual([expect.stringMatching(/invalid-json: 1/)]);
  });

  it('replaces a mirror item that cannot be read as a case with the message’s valid record, and tells ops, rather than retrying it for ever', async () => {
    // One item with a risk level no version knows and a newer version; one with no version at all.
    const newer = toMirrorItem(
      aCase('DA-201-0000001', { sourceUpdatedAt: '2026-03-29T05:00:00.000Z' }),
      Date.now(),
    );
    const { sourceUpdatedAt: _u, ...noVersion } = toMirrorItem(aCase('DA-201-0000002'), Date.now());
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: { ...newer, riskLevel: 'HIGH' } }));
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: noVersion }));
    const logs: unknown[] = [];
    const metrics: Array<[string, number]> = [];
    const { response, summary } = await ingestSqsBatch(
      {
        Records: [
          sqsRecord('m1', change('updated', aCase('DA-201-0000001', { stage: 'awaiting-referral' }))),
          sqsRecord('m2', change('updated', aCase('DA-201-0000002', { stage: 'awaiting-referral' }))),
          sqsRecord('m3', change('created', aCase('DA-201-0000003'))),
        ],
      },
      {
        mirror: new MirrorWriter(doc, tables.mirror),
        rejects: new DynamoRejectStore(doc, tables.rejects),
        state: { recordIngest: (atMs) => recordIngest(doc, tables.state, atMs) },
        ops: new SnsOpsNotifier(sns, topicArn),
        vocabulary: loadConfig().vocabulary,
        logger: { info: () => {}, warn: (...a) => void logs.push(a), error: (...a) => void logs.push(a) },
        metrics: { addMetric: (name, _unit, value) => void metrics.push([name, value]) },
      },
      Date.now(),
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(summary.applied).toMatchObject({ created: 1, replaced: 2 });
    expect(summary.replacedMalformed.sort()).toEqual(['DA-201-0000001', 'DA-201-0000002']);
    for (const ref of ['DA-201-0000001', 'DA-201-0000002']) {
      const { Item } = await doc.send(new GetCommand({ TableName: tables.mirror, Key: { caseRef: ref } }));
      expect(Item).toMatchObject({
        stage: 'awaiting-referral',
        riskLevel: 'high',
        sourceUpdatedAt: '2026-03-29T01:00:00.000Z',
      });
    }
    expect(metrics).toContainEqual(['ReplacedMalformedItems', 2]);
    expect(logs).toContainEqual([
      'mirror item could not be read as a case; replaced by the feed message',
      { messageId: 'm1', caseRef: 'DA-201-0000001' },
    ]);
    const opsMessages = await drainOpsQueue();
    expect(opsMessages.map((m) => m.Body)).toEqual([
      expect.stringMatching(
        /could not be read as a case.*\n.*records replaced them: cases DA-201-000000[12], DA-201-000000[12]\.$/,
      ),
    ]);
  });

  it('explains a failed condition from the item DynamoDB returns with it, without reading (moto)', async () => {
    // The ingest function may write the mirror but not read it: on AWS (and moto) the stored item
    // comes back with the condition failure, so no GetItem is needed.
    const client = (await import('#shared/local/embedded-dynamo.ts')).localDynamoClient(moto.endpoint);
    const motoTables = await createTables(client, 'moto');
    const motoDoc = DynamoDBDocumentClient.from(client);
    const sent: string[] = [];
    motoDoc.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    const writer = new MirrorWriter(motoDoc, motoTables.mirror);
    const newer = {
      record: aCase('DA-300-0000001', { sourceUpdatedAt: '2026-03-29T02:00:00.000Z' }),
      sourceSequence: 2,
    };
    const older = { record: aCase('DA-300-0000001'), sourceSequence: 9 };
    const sameVersionOtherContent = { ...newer, record: { ...newer.record, riskLevel: 'medium' as const } };

    expect(await writer.apply(newer, Date.now())).toBe('created');
    expect(await writer.apply(older, Date.now())).toBe('stale');
    expect(await writer.apply(newer, Date.now())).toBe('unchanged');
    expect(await writer.apply(sameVersionOtherContent, Date.now())).toBe('conflict');

    expect(sent).toEqual(Array(sent.length).fill('UpdateItemCommand'));
    expect(sent).toHaveLength(4);
    client.destroy();
  });

  it('keeps the last ingest time moving forward only', async () => {
    const later = Date.parse('2030-01-02T00:00:00Z');
    await recordIngest(doc, tables.state, later);
    await recordIngest(doc, tables.state, later - 3_600_000);
    expect(await lastIngest(doc, tables.state)).toBe(later);
  });
});

/** A local port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the ingest function when a dependency is unreachable', () => {
  /** Runs `act` with the function's environment, its logs captured as parsed JSON lines. */
  async function withEnvironment(endpoints: { dynamodb: string; ssm: string }, act: () => Promise<void>) {
    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoints.dynamodb);
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', moto.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', endpoints.ssm);
    // One attempt: the SDK's back-off would only make the test slower.
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      await act();
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      vi.unstubAllEnvs();
    }
    return output
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const environment = {
    MIRROR_TABLE: 'it-unreachable-mirror',
    FLOW_TABLE: 'it-unreachable-flow',
    STATE_TABLE: 'it-unreachable-state',
    REJECTS_TABLE: 'it-unreachable-rejects',
    CONFIG_PARAMETER: '/queuewatch/ingest-unreachable/config',
    DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
  };

  it('fails the whole batch when SSM cannot be read, naming it in the log, so SQS delivers it again', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    let failure: unknown;
    const logs = await withEnvironment({ dynamodb: dynamo.endpoint, ssm: dead }, async () => {
      const deps = awsIngestDeps({ ...environment, OPS_TOPIC_ARN: topicArn });
      failure = await deps().catch((error: unknown) => error);
    });

    expect(failure).toMatchObject({ name: 'DependencyError', dependency: 'ssm:config' });
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'cannot read the config in force; the whole batch goes back to SQS',
        dependency: 'ssm:config',
        error: expect.objectContaining({ name: 'GetParameterError' }),
      }),
    );
  });

  it('returns every message to SQS when DynamoDB cannot be reached, naming the mirror table', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    let result: Awaited<ReturnType<typeof ingestSqsBatch>> | undefined;
    const logs = await withEnvironment({ dynamodb: dead, ssm: moto.endpoint }, async () => {
      const deps = awsIngestDeps({ ...environment, OPS_TOPIC_ARN: topicArn });
      result = await ingestSqsBatch(
        {
          Records: [
            sqsRecord('u1', change('created', aCase('DA-400-0000001'))),
            sqsRecord('u2', change('created', aCase('DA-400-0000002'))),
          ],
        },
        await deps(),
        Date.now(),
      );
    });

    const failed = result?.response.batchItemFailures.map((f) => f.itemIdentifier);
    expect(failed?.sort()).toEqual(['u1', 'u2']);
    expect(result?.summary.retried.sort()).toEqual(['u1', 'u2']);
    const retried = logs.filter((l) => l.message === 'feed message failed for now; SQS will retry it');
    expect(retried.map((l) => [l.messageId, l.dependency]).sort()).toEqual([
      ['u1', 'dynamodb:mirror'],
      ['u2', 'dynamodb:mirror'],
    ]);
    expect(JSON.stringify(logs)).not.toMatch(PII);
  });
});
