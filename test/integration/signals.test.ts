// The signals end to end on real SDK clients: past flow loaded into dynalite, a live feed through
// the ingest use case (and then replayed whole, which must count nothing twice), the signals
// handler each morning, and SNS on moto_server delivering to SQS queues subscribed with the stack's
// filter policies: each audience receives exactly its signals, in one SMS segment, logged as a
// disclosure.

import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DynamoFlowStore } from '#shared/adapters/flow-store.ts';
import { MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import { MirrorWriter } from '#shared/adapters/mirror-writer.ts';
import { DynamoSignalStates } from '#shared/adapters/signal-state.ts';
import { SnsPublisher } from '#shared/adapters/sns-publisher.ts';
import { filterPolicyFor, type Subscriber } from '#shared/delivery/subscriptions.ts';
import { DAY_MS, epochDay, londonLocalToUtc } from '#shared/domain/calendar.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { fitsOneSegment } from '#shared/domain/notify.ts';
import { createRandom } from '#shared/domain/silence/random.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { createSignalsHandler } from '#shared/signals/handler.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';
import { defaultConfig, sqsRecord } from '#test/support/fixtures.ts';
import { NORMAL_DAY, synthesiseFlow } from '#test/support/flow-traffic.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const config = defaultConfig();
const START = epochDay('2026-08-03'); // a Monday
const GO_LIVE = START + 63;
const LIVE_DAYS = 14;
const at = (day: number, hour: number) => londonLocalToUtc(day * DAY_MS + hour * 3_600_000);

const subscribers: Array<Subscriber & { name: string }> = [
  {
    name: 'sup-d07-sms',
    protocol: 'sms',
    endpoint: '+447700900007',
    audience: 'district-supervisor',
    district: 'D07',
  },
  {
    name: 'sup-d01-email',
    protocol: 'email',
    endpoint: 'd01@example.org',
    audience: 'district-supervisor',
    district: 'D01',
  },
  {
    name: 'dcs-millbrook',
    protocol: 'email',
    endpoint: 'dcs-millbrook@example.org',
    audience: 'director-childrens-services',
    localAuthority: 'la-millbrook',
    levels: ['escalation'],
  },
  {
    name: 'dcs-northgate',
    protocol: 'email',
    endpoint: 'dcs-northgate@example.org',
    audience: 'director-childrens-services',
    localAuthority: 'la-northgate',
  },
  { name: 'ops', protocol: 'email', endpoint: 'ops@example.org', audience: 'ops' },
];

let moto: Moto;
let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

/** The live feed for D07 after go-live: child cases created, then referred (28%) or closed. */
function liveFeed(days: number): Array<{ day: number; body: string }> {
  const random = createRandom(77);
  const out: Array<{ day: number; body: string }> = [];
  let n = 0;
  for (let day = GO_LIVE; day < GO_LIVE + days; day++) {
    for (let i = random.poisson(6); i > 0; i--) {
      n += 1;
      const opened = at(day, 9 + random.uniform() * 4);
      const moved = opened + 3_600_000 * (1 + random.uniform() * 3);
      const base: CaseRecord = {
        caseRef: `CP-707-${String(n).padStart(7, '0')}`,
        category: 'child-protection',
        riskLevel: 'medium',
        district: 'D07',
        stage: 'awaiting-risk-assessment',
        stageEnteredAt: new Date(opened).toISOString(),
        childrenInvolved: true,
        sourceUpdatedAt: new Date(opened).toISOString(),
      };
      const referred = random.uniform() < 0.28;
      const after: CaseRecord = {
        ...base,
        stage: referred ? 'referred' : 'closed',
        stageEnteredAt: new Date(moved).toISOString(),
        sourceUpdatedAt: new Date(moved).toISOString(),
      };
      out.push({ day, body: JSON.stringify({ changeType: 'created', case: base }) });
      out.push({
        day,
        body: JSON.stringify({ changeType: referred ? 'stage-changed' : 'closed', case: after }),
      });
    }
  }
  return out;
}

describe('the signals, end to end', () => {
  it('raise falling child referrals to exactly the audiences routed, counting a replayed feed once', async () => {
    const aws = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient(aws);
    const sqs = new SQSClient(aws);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'queuewatch-signals-alerts' }));
    const queues = new Map<string, string>();
    for (const s of subscribers) {
      queues.set(
        s.name,
        await subscribeQueue(sns, sqs, TopicArn as string, `sig-${s.name}`, filterPolicyFor(s, config.file)),
      );
    }
    const tables = await createTables(dynamo.client, 'signals');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const flow = new DynamoFlowStore(doc, tables.flow);

    // Nine weeks of past flow for D01 and D07, loaded as history; and the rest of their flow after
    // go-live (everything but D07's child cases, which come through the feed below).
    await synthesiseFlow(
      { record: (transitions, nowMs) => flow.recordHistory(transitions, nowMs) },
      {
        districts: ['D01', 'D07'],
        fromDay: START,
        toDay: GO_LIVE + LIVE_DAYS - 1,
        seed: 9,
        nowMs: at(GO_LIVE, 6),
        plan: (district, day) =>
          district === 'D07' && day >= GO_LIVE ? { ...NORMAL_DAY, childCases: 0 } : NORMAL_DAY,
      },
    );

    // The live feed through the ingest use case, a day at a time, judged each morning.
    const writer = new MirrorWriter(doc, tables.mirror, flow);
    const deps = {
      mirror: writer,
      rejects: { record: async () => {} },
      state: { recordIngest: async () => {} },
      ops: new MemoryOpsNotifier(),
      vocabulary: config.vocabulary,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      metrics: { addMetric: () => {} },
    };
    const handler = createSignalsHandler({
      config: async () => ({ config, source: 'default' }),
      flow,
      states: new DynamoSignalStates(doc, tables.state),
      publisher: new SnsPublisher(sns, TopicArn as string),
      audit: new DynamoAuditLog(doc, tables.audit),
      ops: new MemoryOpsNotifier(),
      signalsAt: '06:30',
    });
    const feed = liveFeed(LIVE_DAYS);
    const sent: string[] = [];
    let message = 0;
    for (let day = GO_LIVE; day < GO_LIVE + LIVE_DAYS; day++) {
      const result = await handler(
        { mode: 'daily', at: new Date(at(day, 7)).toISOString() },
        { awsRequestId: `d${day}` },
      );
      for (const s of result.sent) sent.push(`${day - GO_LIVE} ${s.event} ${s.signal} ${s.district}`);
      const today = feed.filter((m) => m.day === day);
      await ingestSqsBatch(
        { Records: today.map((m) => sqsRecord(`live-${message++}`, m.body)) },
        deps,
        at(day, 23),
      );
    }
    const raised = sent.filter((s) => s.includes(' raised '));
    expect(raised.map((s) => s.split(' ').slice(1).join(' '))).toEqual(['raised child-referrals D07']);
    const raisedOn = Number(raised[0]?.split(' ')[0]);
    expect(raisedOn).toBeLessThanOrEqual(10);
    // Repeated each following morning while it stays low.
    const last = LIVE_DAYS - 1;
    expect(sent.filter((s) => s.includes(' repeat child-referrals D07'))).toHaveLength(last - raisedOn);

    // The whole live feed delivered again, in reverse, with new message ids: counts unchanged.
    const dayCounts = async () =>
      JSON.stringify((await flow.days('D07', GO_LIVE, GO_LIVE + last, at(GO_LIVE + LIVE_DAYS, 7))).days);
    const before = await dayCounts();
    await ingestSqsBatch(
      { Records: [...feed].reverse().map((m, i) => sqsRecord(`replay-${i}`, m.body)) },
      deps,
      at(GO_LIVE + LIVE_DAYS, 1),
    );
    expect(await dayCounts()).toEqual(before);

    // Each subscriber received exactly what its filter policy selects.
    const received = new Map<string, Array<Record<string, unknown>>>();
    for (const s of subscribers) received.set(s.name, await drainQueue(sqs, queues.get(s.name) as string));
    const messagesSent = 1 + (last - raisedOn);
    expect(received.get('sup-d07-sms')).toHaveLength(messagesSent);
    expect(received.get('dcs-millbrook')).toHaveLength(messagesSent);
    expect(received.get('sup-d01-email')).toEqual([]);
    expect(received.get('dcs-northgate')).toEqual([]);
    expect(received.get('ops')).toEqual([]);
    for (const envelope of received.get('sup-d07-sms') ?? []) {
      const text = String(envelope.Message);
      expect(text).toMatch(/D07 Millbrook: child referrals \d+ of \d+ \(\d+%\) in 7 days, normal \d+%/);
      expect(fitsOneSegment(text)).toBe(true);
      expect(text).not.toMatch(/CP-707-/);
    }

    // Every message is in the disclosure log: to whom, why, which district; no case.
    const logged: Array<Record<string, unknown>> = [];
    for (let day = GO_LIVE; day < GO_LIVE + LIVE_DAYS; day++) {
      const { Items = [] } = await doc.send(
        new QueryCommand({
          TableName: tables.audit,
          KeyConditionExpression: '#day = :day',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': new Date(at(day, 7)).toISOString().slice(0, 10) },
        }),
      );
      logged.push(...Items);
    }
    expect(logged).toHaveLength(messagesSent);
    for (const entry of logged) {
      expect(entry).toMatchObject({
        district: 'D07',
        localAuthority: 'la-millbrook',
        level: 'escalation',
        caseRefs: [],
        audience: ['district-supervisor', 'director-childrens-services', 'mash-manager'],
      });
      expect(String(entry.reason)).toMatch(/^signal child-referrals (raised|still raised) in D07$/);
    }
    sns.destroy();
    sqs.destroy();
    // Weeks of mornings through real servers: about 20 s alone, three times that on a busy machine.
  }, 180_000);
});
