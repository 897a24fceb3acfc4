// Delivery through real SNS (moto_server): SQS queues subscribed per audience with the same filter
// policies the stack creates, proving each audience receives exactly its messages.

import { readFileSync } from 'node:fs';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { SnsPublisher, snsSubject } from '#shared/adapters/sns-publisher.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { DEFAULT_CONFIG_PATH, parseConfig } from '#shared/config/load.ts';
import { prefix, topicName } from '#shared/delivery/names.ts';
import { filterPolicyFor, type Subscriber } from '#shared/delivery/subscriptions.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { fitsOneSegment } from '#shared/domain/notify.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const NOW = Date.parse('2026-11-27T09:00:00Z');
const HOUR = 3_600_000;
// The default config with a small SMS cap, so overflow and the summary are exercised too.
const config = parseConfig(
  readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace('maxPerRun: 20', 'maxPerRun: 3'),
  'test config',
);

const subscribers: Array<Subscriber & { name: string }> = [
  {
    name: 'supervisor-d01-sms',
    protocol: 'sms',
    endpoint: '+447700900001',
    audience: 'district-supervisor',
    district: 'D01',
  },
  {
    name: 'supervisor-d01-email',
    protocol: 'email',
    endpoint: 'd01@example.org',
    audience: 'district-supervisor',
    district: 'D01',
  },
  {
    name: 'supervisor-d02-email',
    protocol: 'email',
    endpoint: 'd02@example.org',
    audience: 'district-supervisor',
    district: 'D02',
  },
  {
    name: 'director-northgate',
    protocol: 'email',
    endpoint: 'dcs@example.org',
    audience: 'director-childrens-services',
    localAuthority: 'la-northgate',
  },
  {
    name: 'marac-eastmoor',
    protocol: 'email',
    endpoint: 'marac@example.org',
    audience: 'marac-coordinator',
    localAuthority: 'la-eastmoor',
  },
  { name: 'triage', protocol: 'email', endpoint: 'triage@example.org', audience: 'triage-supervisor' },
];

const cases: CaseRecord[] = [
  // D01 (Northgate): a child case escalated, high-risk domestic abuse, a standard one for triage.
  ['CP-000-0000001', 'child-protection', 'high', 'D01', 40, true],
  ['DA-000-0000002', 'domestic-abuse', 'high', 'D01', 30, false],
  ['DA-000-0000003', 'domestic-abuse', 'standard', 'D01', 80, false],
  // D02 (Eastmoor): high-risk domestic abuse (MARAC), medium.
  ['DA-000-0000004', 'domestic-abuse', 'high', 'D02', 50, false],
  ['DA-000-0000005', 'domestic-abuse', 'medium', 'D02', 30, true],
  // D03: nobody subscribed here in this test, so nothing of it may arrive.
  ['DA-000-0000006', 'domestic-abuse', 'high', 'D03', 50, false],
].map(([caseRef, category, riskLevel, district, hours, childrenInvolved]) => ({
  caseRef: caseRef as string,
  category: category as string,
  riskLevel: riskLevel as CaseRecord['riskLevel'],
  district: district as string,
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: new Date(NOW - (hours as number) * HOUR).toISOString(),
  childrenInvolved: childrenInvolved as boolean,
  sourceUpdatedAt: new Date(NOW - (hours as number) * HOUR).toISOString(),
}));

let moto: Moto;
let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

describe('SNS delivery', () => {
  it('delivers each message to exactly the audiences its filter policies select', async () => {
    const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient(clientConfig);
    const sqs = new SQSClient(clientConfig);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'queuewatch-test-alerts' }));
    const queues = new Map<string, string>();
    for (const subscriber of subscribers) {
      const policy = filterPolicyFor(subscriber, config.file);
      const queueUrl = await subscribeQueue(sns, sqs, TopicArn as string, subscriber.name, policy);
      queues.set(subscriber.name, queueUrl);
    }
    const tables = await createTables(dynamo.client, 'delivery');
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    for (const c of cases)
      await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(c, NOW) }));

    const result = await runScan({
      config,
      nowMs: NOW,
      runId: 'delivery-run',
      source: new DynamoOpenCaseSource(doc, tables.mirror),
      ledger: new DynamoLedger(doc, tables.ledger),
      publisher: new SnsPublisher(sns, TopicArn as string),
      audit: new MemoryAuditLog(),
    });

    // What each subscriber should get, worked out from the messages the run sent: its audience at
    // its place (by the audience's scope), by the channel it uses.
    const placeOf = (s: Subscriber) => {
      const scope = config.file.audiences[s.audience]?.scope;
      return scope === 'district' ? s.district : scope === 'local-authority' ? s.localAuthority : 'force';
    };
    const expected = (s: Subscriber) =>
      result.messages
        .filter((m) => {
          const kindOk = s.protocol === 'sms' ? m.kind !== 'email-only' : m.kind !== 'summary';
          return m.groups.includes(`${s.audience}@${placeOf(s)}`) && kindOk;
        })
        .map((m) => m.messageId)
        .sort();

    expect(result.failures).toEqual([]);
    expect(result.messages.some((m) => m.kind === 'email-only')).toBe(true);
    expect(result.messages.some((m) => m.kind === 'summary')).toBe(true);
    for (const subscriber of subscribers) {
      const received = await drainQueue(sqs, queues.get(subscriber.name) as string);
      const ids = received.map((r) => r.MessageId as string).sort();
      expect(ids.length, `${subscriber.name} receives something`).toBeGreaterThan(0);
      expect(ids, subscriber.name).toEqual(expected(subscriber));
      // One SMS a run at most: its alert, or the summary that its alert went by email.
      if (subscriber.protocol === 'sms') expect(ids.length, subscriber.name).toBe(1);
      for (const envelope of received) {
        expect(envelope.Message).not.toMatch(/SYNTHETIC|name|address/i);
        if (subscriber.protocol === 'sms') expect(fitsOneSegment(String(envelope.Message))).toBe(true);
      }
    }
    sns.destroy();
    sqs.destroy();
  });

  it('logs a message SNS took but whose reply was lost as possibly sent, and sends it again next run', async () => {
    const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient({ ...clientConfig, maxAttempts: 2 });
    const sqs = new SQSClient(clientConfig);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'queuewatch-test-lost-replies' }));
    const queueUrl = await subscribeQueue(sns, sqs, TopicArn as string, 'lost-replies-d01-supervisor', {
      audience: ['district-supervisor'],
      district: ['D01'],
    });
    // Every reply to a publish to the D01 supervisor is lost after moto_server took the message (a
    // dropped connection): the client tries again, and gives up.
    let lost = 0;
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        const input = args.input as { MessageAttributes?: Record<string, { StringValue?: string }> };
        if (
          context.commandName === 'PublishCommand' &&
          input.MessageAttributes?.group?.StringValue === '["district-supervisor@D01"]'
        ) {
          lost += 1;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
        }
        return output;
      },
      { step: 'deserialize', name: 'lostReply' },
    );
    const tables = await createTables(dynamo.client, 'lostreplies');
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    for (const c of cases)
      await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(c, NOW) }));
    const audit = new MemoryAuditLog();
    const input = {
      config,
      source: new DynamoOpenCaseSource(doc, tables.mirror),
      ledger: new DynamoLedger(doc, tables.ledger),
      publisher: new SnsPublisher(sns, TopicArn as string),
      audit,
    };

    const result = await runScan({ ...input, nowMs: NOW, runId: 'lost-reply-run' });

    expect(lost).toBe(2);
    const arrived = await drainQueue(sqs, queueUrl);
    expect(arrived).toHaveLength(2);
    expect(result.failures.map((f) => [f.stage, f.group])).toEqual([['publish', 'district-supervisor@D01']]);
    // It went out (twice, as the client tried twice): the disclosure log says it may have.
    const logged = audit.entries.filter((e) => e.audience === 'district-supervisor' && e.district === 'D01');
    expect(logged).toEqual([
      expect.objectContaining({
        messageId: 'unconfirmed-lost-reply-run-district-supervisor@D01',
        caseRefs: expect.arrayContaining(['CP-000-0000001', 'DA-000-0000002']),
        reason: expect.stringMatching(/^possibly sent/),
      }),
    ]);
    // Not recorded as sent: the next run sends it (at least once, never silently none).
    sns.middlewareStack.remove('lostReply');
    const next = await runScan({ ...input, nowMs: NOW + 60_000, runId: 'next-run' });
    expect(next.messages.filter((m) => m.groups.includes('district-supervisor@D01'))).toHaveLength(1);
    sns.destroy();
    sqs.destroy();
  });

  it("keeps two forces apart: a subscriber of one never receives the other's alerts", async () => {
    const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient(clientConfig);
    const sqs = new SQSClient(clientConfig);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    // Two forces whose admin configs both number their districts D01 to D10: the same group
    // (district-supervisor@D01) in both, so only the topics keep them apart, as the stacks do.
    const forces = ['north', 'south'] as const;
    const supervisor: Subscriber = {
      protocol: 'email',
      endpoint: 'd01@example.org',
      audience: 'district-supervisor',
      district: 'D01',
    };
    const deployed = new Map<
      string,
      { topicArn: string; queueUrl: string; tables: Record<TableId, string> }
    >();
    for (const force of forces) {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: topicName(force, 'alerts') }));
      const queueUrl = await subscribeQueue(
        sns,
        sqs,
        TopicArn as string,
        `${force}-supervisor-d01`,
        filterPolicyFor(supervisor, config.file),
      );
      const tables = await createTables(dynamo.client, prefix(force));
      deployed.set(force, { topicArn: TopicArn as string, queueUrl, tables });
    }
    const caseOf = { north: 'DA-000-0000101', south: 'DA-000-0000201' };

    const sent = new Map<string, string[]>();
    for (const force of forces) {
      const { topicArn, tables } = deployed.get(force) as {
        topicArn: string;
        tables: Record<TableId, string>;
      };
      const record = { ...(cases[1] as CaseRecord), caseRef: caseOf[force] };
      await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(record, NOW) }));
      const result = await runScan({
        config,
        nowMs: NOW,
        runId: `${force}-run`,
        source: new DynamoOpenCaseSource(doc, tables.mirror),
        ledger: new DynamoLedger(doc, tables.ledger),
        publisher: new SnsPublisher(sns, topicArn),
        audit: new MemoryAuditLog(),
      });
      expect(result.failures).toEqual([]);
      const forSupervisor = result.messages.filter(
        (m) => m.groups.includes('district-supervisor@D01') && m.kind !== 'summary',
      );
      sent.set(force, forSupervisor.map((m) => m.messageId).sort());
    }

    for (const [force, other] of [
      ['north', 'south'],
      ['south', 'north'],
    ] as const) {
      const received = await drainQueue(sqs, deployed.get(force)?.queueUrl as string);
      expect(sent.get(force)?.length, `${force} sent its supervisor something`).toBeGreaterThan(0);
      expect(received.map((r) => r.MessageId as string).sort(), force).toEqual(sent.get(force));
      for (const envelope of received) {
        expect(envelope.TopicArn).toBe(deployed.get(force)?.topicArn);
        expect(String(envelope.Message)).toContain(caseOf[force]);
        expect(String(envelope.Message)).not.toContain(caseOf[other]);
      }
    }
    sns.destroy();
    sqs.destroy();
  });

  it('keeps SNS subjects ASCII and under 100 characters', () => {
    expect(snsSubject(`[queuewatch] BREACH: 3 cases in D01 Ŵrexham ${'x'.repeat(120)}`)).toMatch(
      /^[\x20-\x7e]{1,99}$/,
    );
    expect(snsSubject('[queuewatch] WARNING: 1 case in D01 Ŵrexham')).toBe(
      '[queuewatch] WARNING: 1 case in D01 Wrexham',
    );
  });
});
