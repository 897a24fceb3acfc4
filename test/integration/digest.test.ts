// The daily picture end to end on real local servers: the mirror, the alert ledger, the state table
// and the disclosure log on dynalite, delivery through SNS on moto_server to SQS queues subscribed
// with the stack's own filter policies. A director's inbox receives its local authority's digest and
// no other; the senior officer's the force's; a phone and an audience with no digest nothing. A case
// re-graded up is listed as breached since yesterday from what the DynamoDB ledger says was told.

import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DIGEST_HISTORY_NAME, DynamoDigestStore } from '#shared/adapters/digest-store.ts';
import { lastIngest, recordIngest } from '#shared/adapters/ingest-state.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { SnsPublisher } from '#shared/adapters/sns-publisher.ts';
import { DynamoStateStore } from '#shared/adapters/state-store.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import { describeSubscriptionHealth, subscriptionHealth } from '#shared/delivery/subscription-health.ts';
import { filterPolicyFor, type Subscriber } from '#shared/delivery/subscriptions.ts';
import { createDigestHandler } from '#shared/digest/handler.ts';
import { digestGroups } from '#shared/digest/picture.ts';
import { type DigestInput, gatherDigests, runDigest } from '#shared/digest/run-digest.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import type { OutgoingMessage, Publisher } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { awsDigestDeps } from '#shared/wiring/digest.ts';
import { runCli, shippedConfigJsonPath } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const config = loadConfig();
const NOW = Date.parse('2026-11-27T07:00:00Z');
const MINUTE = 60_000;

const subscribers: Array<Subscriber & { name: string }> = [
  {
    name: 'director-northgate',
    protocol: 'email',
    endpoint: 'dcs-northgate@example.org',
    audience: 'director-childrens-services',
    localAuthority: 'la-northgate',
    // Takes only escalation alerts; the daily picture still comes.
    levels: ['escalation'],
  },
  {
    name: 'director-eastmoor',
    protocol: 'email',
    endpoint: 'dcs-eastmoor@example.org',
    audience: 'director-childrens-services',
    localAuthority: 'la-eastmoor',
  },
  {
    name: 'director-northgate-phone',
    protocol: 'sms',
    endpoint: '+447700900002',
    audience: 'director-childrens-services',
    localAuthority: 'la-northgate',
  },
  { name: 'senior-officer', protocol: 'email', endpoint: 'senior@example.org', audience: 'senior-officer' },
  {
    name: 'supervisor-d01',
    protocol: 'email',
    endpoint: 'd01@example.org',
    audience: 'district-supervisor',
    district: 'D01',
  },
];

/** Hands each message to SNS, keeping a copy of what it said (SQS receives only the default body). */
class KeepingPublisher implements Publisher {
  readonly messages: OutgoingMessage[] = [];
  constructor(private readonly inner: Publisher) {}
  async publish(message: OutgoingMessage): Promise<string> {
    const id = await this.inner.publish(message);
    this.messages.push(message);
    return id;
  }
}

let moto: Moto;
let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let sns: SNSClient;
let sqs: SQSClient;
let tables: Record<TableId, string>;
let topicArn: string;
const queues = new Map<string, string>();

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
  sns = new SNSClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'queuewatch-digest-alerts' })))
    .TopicArn as string;
  for (const subscriber of subscribers) {
    queues.set(
      subscriber.name,
      await subscribeQueue(sns, sqs, topicArn, subscriber.name, filterPolicyFor(subscriber, config.file)),
    );
  }
  tables = await createTables(dynamo.client, 'digest');
  await seedMirror(
    doc,
    tables.mirror,
    generateQueue({
      open: 400,
      closed: 600,
      seed: 12,
      nowMs: NOW,
      districts: Object.keys(config.file.districts),
    }),
    NOW,
  );
  await recordIngest(doc, tables.state, NOW - 5 * MINUTE);
  // One scan run before, so the ledger holds the alerts it sent (to an in-memory sink: only the
  // digest goes through SNS here).
  const ledger = new DynamoLedger(doc, tables.ledger);
  await runScan({
    config,
    nowMs: NOW - 30 * MINUTE,
    runId: 'scan-before',
    source: new DynamoOpenCaseSource(doc, tables.mirror),
    ledger,
    publisher: new CallbackPublisher(),
    audit: new MemoryAuditLog(),
  });
  await ledger.acknowledge({
    audience: 'district-supervisor',
    place: 'D01',
    asOf: NOW - 30 * MINUTE,
    at: NOW - 20 * MINUTE,
    until: {
      warning: NOW + 8 * 60 * MINUTE,
      breach: NOW + 8 * 60 * MINUTE,
      escalation: NOW + 8 * 60 * MINUTE,
    },
  });
});
afterAll(async () => {
  sns?.destroy();
  sqs?.destroy();
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

function digestInput(publisher: Publisher, nowMs: number, runId: string): DigestInput {
  return {
    config,
    nowMs,
    runId,
    source: new DynamoOpenCaseSource(doc, tables.mirror),
    ledger: new DynamoLedger(doc, tables.ledger),
    feed: { lastIngestAt: () => lastIngest(doc, tables.state) },
    store: new DynamoDigestStore(doc, tables.state),
    publisher,
    audit: new DynamoAuditLog(doc, tables.audit),
  };
}

describe('the daily digest through DynamoDB and SNS', () => {
  it('reaches each director with their own local authority’s picture and the senior officer with the force’s', async () => {
    const publisher = new KeepingPublisher(new SnsPublisher(sns, topicArn));

    const result = await runDigest(digestInput(publisher, NOW, 'digest-1'));

    expect(result.failures).toEqual([]);
    expect(result.sent).toHaveLength(digestGroups(config).length);
    const received = new Map<string, Array<Record<string, unknown>>>();
    for (const [name, url] of queues) received.set(name, await drainQueue(sqs, url));
    const groupOf = (envelope: Record<string, unknown>) =>
      JSON.parse(
        ((envelope.MessageAttributes as Record<string, { Value: string }>).group as { Value: string }).Value,
      );

    const northgate = received.get('director-northgate') ?? [];
    expect(northgate).toHaveLength(1);
    expect(northgate[0]?.Subject).toMatch(
      /^\[queuewatch\] Daily picture for Northgate City Council, Fri 27 Nov 2026: /,
    );
    expect(groupOf(northgate[0] as Record<string, unknown>)).toEqual([
      'director-childrens-services@la-northgate',
    ]);

    const eastmoor = received.get('director-eastmoor') ?? [];
    expect(eastmoor).toHaveLength(1);
    expect(eastmoor[0]?.Subject).toMatch(/Daily picture for Eastmoor Borough Council/);
    expect(groupOf(eastmoor[0] as Record<string, unknown>)).toEqual([
      'director-childrens-services@la-eastmoor',
    ]);

    const senior = received.get('senior-officer') ?? [];
    expect(senior).toHaveLength(1);
    expect(senior[0]?.Subject).toMatch(new RegExp(`Daily picture for ${config.file.force}`));

    expect(received.get('director-northgate-phone')).toEqual([]);
    expect(received.get('supervisor-d01')).toEqual([]);

    // What the Northgate director read: only D01, and the alerts the supervisor acknowledged counted apart.
    const body = publisher.messages.find((m) => m.groups[0] === 'director-childrens-services@la-northgate')
      ?.email?.body;
    expect(body).toContain('OPEN CASES BY DISTRICT');
    expect(body).toMatch(/\n {2}D01 Northgate: \d+ open/);
    expect(body).not.toMatch(/\n {2}D02 Eastmoor: /);
    expect(body).not.toContain('district-supervisor, D01 Northgate:');
    expect(body).toMatch(/\n {2}\d+ more alerts? (is|are) acknowledged/);
    expect(body).toContain('Last case change received 5m ago (27 Nov 2026, 06:55 London time).');
  });

  it('records each digest as sent, keeps today’s counts, and logs one disclosure per digest', async () => {
    const state = new DynamoStateStore(doc, tables.state);
    const groups = digestGroups(config).map((g) => `${g.audience}@${g.place}`);

    for (const group of groups) {
      const mark = await state.get(`digest/${group}`);
      expect(mark, group).toMatchObject({ day: '2026-11-27', sentAt: NOW });
      expect(mark?.leaseUntil).toBeUndefined();
      expect(mark?.disclosing).toBeUndefined();
    }
    const history = (await state.get(DIGEST_HISTORY_NAME)) as {
      days: Record<string, Record<string, { open: number }>>;
    };
    expect(Object.keys(history.days)).toEqual(['2026-11-27']);
    expect(Object.values(history.days['2026-11-27'] ?? {}).reduce((n, d) => n + d.open, 0)).toBe(400);

    const audit = await doc.send(
      new QueryCommand({
        TableName: tables.audit,
        KeyConditionExpression: '#day = :day',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': '2026-11-27' },
      }),
    );
    // One message item per digest (the per-case items beside them name one case each).
    const digests = (audit.Items ?? []).filter((i) => i.kind === 'digest' && i.caseRef === undefined);
    expect(
      digests
        .map((d) =>
          d.audience === 'senior-officer' ? 'senior-officer@force' : `${d.audience}@${d.localAuthority[0]}`,
        )
        .sort(),
    ).toEqual([...groups].sort());
    for (const entry of digests) expect(JSON.stringify(entry)).not.toMatch(/Daily picture|WARNING/);
  });

  it('sends nothing more that day, however often it runs', async () => {
    const publisher = new KeepingPublisher(new SnsPublisher(sns, topicArn));

    const later = await runDigest(digestInput(publisher, NOW + 15 * MINUTE, 'digest-2'));

    expect(later.sent).toEqual([]);
    expect(later.alreadySent).toHaveLength(digestGroups(config).length);
    for (const url of queues.values()) expect(await drainQueue(sqs, url)).toEqual([]);
  });

  it('shows the same picture with queuewatch digest --endpoint, reading the tables and writing nothing', async () => {
    const state = new DynamoStateStore(doc, tables.state);
    const historyBefore = await state.get(DIGEST_HISTORY_NAME);

    const result = await runCli([
      'digest',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'digest',
      '--at',
      '2026-11-28T07:00:00Z',
      '--to',
      'director-childrens-services@la-northgate',
      '--json',
    ]);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      day: string;
      read: { open: number };
      digests: Array<{ group: string; subject: string; body: string }>;
    };
    expect(report.day).toBe('2026-11-28');
    expect(report.read.open).toBe(400);
    expect(report.digests.map((d) => d.group)).toEqual(['director-childrens-services@la-northgate']);
    expect(report.digests[0]?.subject).toMatch(
      /^\[queuewatch\] Daily picture for Northgate City Council, Sat 28 Nov 2026: /,
    );
    expect(report.digests[0]?.body).toContain('FEED FROM THE CASE SYSTEM');
    expect(await state.get(DIGEST_HISTORY_NAME)).toEqual(historyBefore);
    expect(await state.get('digest/director-childrens-services@la-northgate')).toMatchObject({
      day: '2026-11-27',
    });
  });

  it('says which tables are missing, as the other table commands do (exit 4, not an internal error)', async () => {
    const result = await runCli([
      'digest',
      '--endpoint',
      dynamo.endpoint,
      '--prefix',
      'nope',
      '--to',
      'senior-officer',
    ]);

    expect(result.status).toBe(4);
    expect(result.stderr).toBe(
      `queuewatch: DynamoDB at ${dynamo.endpoint} has no table nope-mirror, nope-ledger or nope-state: create the tables with \`npx queuewatch import FILE --endpoint URL --create-tables\`, or name another with --prefix\n`,
    );
  });

  it('runs as the deployed function does, wired from its environment, the next morning', async () => {
    const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const ssm = new SSMClient(clientConfig);
    const env = {
      MIRROR_TABLE: tables.mirror,
      LEDGER_TABLE: tables.ledger,
      AUDIT_TABLE: tables.audit,
      STATE_TABLE: tables.state,
      ALERT_TOPIC_ARN: topicArn,
      OPS_TOPIC_ARN: topicArn,
      // Nothing pushed: the shipped config is in force.
      CONFIG_PARAMETER: '/queuewatch/it/config',
      DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
      FEED_SILENCE_HOURS: '6',
    };
    const handler = createDigestHandler(awsDigestDeps(env, { dynamodb: dynamo.client, sns, ssm }), {
      clock: () => NOW + 24 * 60 * MINUTE,
    });

    const result = await handler(undefined, { awsRequestId: 'fn-next-day' });

    expect(result.day).toBe('2026-11-28');
    expect(result.failures).toEqual([]);
    expect(result.sent).toHaveLength(digestGroups(config).length);
    const northgate = await drainQueue(sqs, queues.get('director-northgate') as string);
    expect(northgate.map((e) => e.Subject)).toEqual([
      expect.stringMatching(/^\[queuewatch\] Daily picture for Northgate City Council, Sat 28 Nov 2026: /),
    ]);
    expect(await drainQueue(sqs, queues.get('director-northgate-phone') as string)).toEqual([]);
    const history = await new DynamoStateStore(doc, tables.state).get(DIGEST_HISTORY_NAME);
    expect(Object.keys(history?.days ?? {})).toEqual(['2026-11-27', '2026-11-28']);
    ssm.destroy();
  });
});

describe('an acknowledgement in the ledger', () => {
  it('is kept for as long as the cases it covers may wait, not a day after its pause ends', async () => {
    const { Items = [] } = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    const ack = Items.find((i) => i.audience === 'district-supervisor' && i.place === 'D01' && 'until' in i);

    // Its pauses end 8 hours after NOW; the table's TTL must leave it there long after (the digest
    // counts its cases acknowledged while they wait, and the ledger keeps theirs for 30 days).
    expect(ack?.expiresAt).toBeGreaterThanOrEqual(Math.floor((NOW + 8 * 60 * MINUTE) / 1000) + 30 * 86_400);
  });
});

describe('breached since yesterday, from the alert ledger in DynamoDB', () => {
  it('lists a case re-graded up past escalation at the scan that first told of it', async () => {
    const own = await createTables(dynamo.client, 'regrade');
    const ledger = new DynamoLedger(doc, own.ledger);
    const source = new DynamoOpenCaseSource(doc, own.mirror);
    const entered = NOW - 80 * 60 * MINUTE;
    const record = (riskLevel: 'medium' | 'high', updatedAt: number) => ({
      caseRef: 'DA-001-0000301',
      category: 'domestic-abuse',
      riskLevel,
      district: 'D01',
      stage: 'awaiting-risk-assessment' as const,
      stageEnteredAt: new Date(entered).toISOString(),
      childrenInvolved: false,
      sourceUpdatedAt: new Date(updatedAt).toISOString(),
    });
    const scanAt = (nowMs: number) =>
      runScan({
        config,
        nowMs,
        runId: `scan-${nowMs}`,
        source,
        ledger,
        publisher: new CallbackPublisher(),
        audit: new MemoryAuditLog(),
      });
    // Medium risk at 07:00 yesterday (a warning); re-graded to high at 05:50, escalated by the 06:00 scan.
    await seedMirror(doc, own.mirror, [record('medium', entered)], NOW - 24 * 60 * MINUTE);
    await scanAt(NOW - 24 * 60 * MINUTE);
    await seedMirror(doc, own.mirror, [record('high', NOW - 70 * MINUTE)], NOW - 70 * MINUTE);
    await scanAt(NOW - 60 * MINUTE);

    const gathered = await gatherDigests({
      config,
      nowMs: NOW,
      day: '2026-11-27',
      source,
      ledger,
      feed: { lastIngestAt: async () => NOW - 70 * MINUTE },
      history: {},
      groups: digestGroups(config).filter((g) => g.audience === 'senior-officer'),
    });
    const [digest] = gathered.digests;

    expect(digest?.picture.breached.lines.map((l) => [l.caseRef, l.reaches, l.atMs, l.firstAlerted])).toEqual(
      [['DA-001-0000301', 'escalation', NOW - 60 * MINUTE, true]],
    );
    expect(digest?.rendered.body).toMatch(/ {2}DA-001-0000301 .*first alerted at escalation 1h ago\n/);
  });
});

describe('the subscription check on SNS', () => {
  it('counts, from the topics as SNS holds them, a phone opted out of SMS and an inbox unsubscribed since', async () => {
    const topic = async (name: string) =>
      (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn as string;
    const [alert, ops] = await Promise.all([topic('queuewatch-subs-alerts'), topic('queuewatch-subs-ops')]);
    const subscribe = (TopicArn: string, Protocol: string, Endpoint: string) =>
      sns.send(new SubscribeCommand({ TopicArn, Protocol, Endpoint, ReturnSubscriptionArn: true }));
    await subscribe(alert, 'sms', '+447700900123');
    // moto_server says any number ending in 99 opted out of SMS (a drama number, like the rest).
    await subscribe(alert, 'sms', '+447700900199');
    await subscribe(alert, 'email', 'd01-supervisors@example.org');
    const leaving = await subscribe(alert, 'email', 'd02-supervisors@example.org');
    await subscribe(ops, 'email', 'duty@example.org');
    // As a mail gateway opening the unsubscribe link would.
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: leaving.SubscriptionArn }));
    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: alert }));
    expect(listed.Subscriptions).toHaveLength(3);
    const ssm = new SSMClient({
      endpoint: moto.endpoint,
      region: 'eu-west-2',
      credentials: LOCAL_CREDENTIALS,
    });
    // Wired from the environment, as the deployed function is.
    const deps = awsDigestDeps(
      {
        MIRROR_TABLE: tables.mirror,
        LEDGER_TABLE: tables.ledger,
        AUDIT_TABLE: tables.audit,
        STATE_TABLE: tables.state,
        ALERT_TOPIC_ARN: alert,
        OPS_TOPIC_ARN: ops,
        CONFIG_PARAMETER: '/queuewatch/it/config',
        DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
        EXPECTED_SUBSCRIPTIONS: JSON.stringify({ alert: { sms: 2, email: 2 }, ops: { email: 1 } }),
      },
      { dynamodb: dynamo.client, sns, ssm },
    );
    const check = deps.subscriptions;
    if (!check) throw new Error('EXPECTED_SUBSCRIPTIONS should turn the check on');

    const health = subscriptionHealth(check.expected, {
      alert: await check.directory.list('alert'),
      ops: await check.directory.list('ops'),
    });

    expect(health.notReceiving).toBe(2);
    expect(health.counts).toEqual([
      { topic: 'alert', protocol: 'sms', expected: 2, receiving: 1, pending: 0, optedOut: 1, missing: 0 },
      { topic: 'alert', protocol: 'email', expected: 2, receiving: 1, pending: 0, optedOut: 0, missing: 1 },
      { topic: 'ops', protocol: 'email', expected: 1, receiving: 1, pending: 0, optedOut: 0, missing: 0 },
    ]);
    // Counts and kinds only: no endpoint leaves the check.
    expect(JSON.stringify([health, describeSubscriptionHealth(health)])).not.toMatch(/@example|\+44/);
    ssm.destroy();
  });

  it('refuses an EXPECTED_SUBSCRIPTIONS that is not the counts, naming the variable', () => {
    const env = {
      MIRROR_TABLE: 'm',
      LEDGER_TABLE: 'l',
      AUDIT_TABLE: 'a',
      STATE_TABLE: 's',
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:a',
      OPS_TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:o',
      CONFIG_PARAMETER: '/queuewatch/it/config',
      DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
    };
    for (const value of ['{"alert":{"sms":1}}', 'three']) {
      expect(() => awsDigestDeps({ ...env, EXPECTED_SUBSCRIPTIONS: value })).toThrow(
        /^environment variable EXPECTED_SUBSCRIPTIONS must be JSON like/,
      );
    }
    expect(awsDigestDeps(env).subscriptions).toBeUndefined();
  });
});
