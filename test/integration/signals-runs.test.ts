// The signals when two runs meet, on real SDK clients (dynalite, SNS on moto_server delivering to
// SQS): two runs at once (a schedule delivered twice, a retry overlapping) send each signal once and
// record only what was sent; a state written by the release before versions, or damaged, is still
// claimed and sent for, never left to silence its series; a morning whose rates and shares were not
// judged and sent is made by the checks after its time, until one records it; a district's markers
// in the flow table that cannot be read are worked out from its flow, and ops told.

import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DynamoFlowStore } from '#shared/adapters/flow-store.ts';
import { MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import { DynamoSignalStates } from '#shared/adapters/signal-state.ts';
import { SnsPublisher } from '#shared/adapters/sns-publisher.ts';
import { filterPolicyFor } from '#shared/delivery/subscriptions.ts';
import { DAY_MS, epochDay, londonLocalToUtc } from '#shared/domain/calendar.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { createSignalsHandler } from '#shared/signals/handler.ts';
import type { SignalState } from '#shared/signals/ports.ts';
import { defaultConfig } from '#test/support/fixtures.ts';
import { NORMAL_DAY, synthesiseFlow } from '#test/support/flow-traffic.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const config = defaultConfig();
const START = epochDay('2026-08-03'); // a Monday
const LAST = START + 70;
const at = (day: number, hour: number) =>
  new Date(londonLocalToUtc(day * DAY_MS + hour * 3_600_000)).toISOString();

let moto: Moto;
let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

/** Flow in D01 and D02 stops at 09:00 on the last day; D03 flows on. A district supervisor's
 * queue for each of D01 and D02, and two signals handlers (two containers) on the same tables. */
async function setup(prefix: string, gate?: () => Promise<void>) {
  const aws = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${prefix}-alerts` }));
  const queues = new Map<string, string>();
  for (const district of ['D01', 'D02']) {
    const subscriber = {
      protocol: 'email' as const,
      endpoint: `${district}@example.org`,
      audience: 'district-supervisor',
      district,
    };
    queues.set(
      district,
      await subscribeQueue(
        sns,
        sqs,
        TopicArn as string,
        `${prefix}-${district}`,
        filterPolicyFor(subscriber, config.file),
      ),
    );
  }
  const tables = await createTables(dynamo.client, prefix);
  const doc = DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const flow = new DynamoFlowStore(doc, tables.flow);
  await synthesiseFlow(
    { record: (transitions, nowMs) => flow.recordHistory(transitions, nowMs) },
    {
      districts: ['D01', 'D02', 'D03'],
      fromDay: START,
      toDay: LAST,
      seed: 3,
      nowMs: londonLocalToUtc(START * DAY_MS),
      plan: (district, day) =>
        day === LAST && district !== 'D03' ? { ...NORMAL_DAY, stopAtHour: 9 } : NORMAL_DAY,
    },
  );
  /** Each container's states; `gate` holds each run after it has read them. */
  class Gated extends DynamoSignalStates {
    override async load(names: readonly string[]): Promise<Map<string, SignalState>> {
      const read = await super.load(names);
      await gate?.();
      return read;
    }
  }
  const ops = new MemoryOpsNotifier();
  const handler = () =>
    createSignalsHandler({
      config: async () => ({ config, source: 'default' }),
      flow,
      states: new Gated(doc, tables.state),
      publisher: new SnsPublisher(sns, TopicArn as string),
      audit: new DynamoAuditLog(doc, tables.audit),
      ops,
      signalsAt: '06:30',
    });
  const received = async (district: string) => drainQueue(sqs, queues.get(district) as string);
  const logged = async () => (await doc.send(new ScanCommand({ TableName: tables.audit }))).Items ?? [];
  const close = () => {
    sns.destroy();
    sqs.destroy();
  };
  return { doc, tables, ops, handler, received, logged, close };
}

/** Resolves once `n` callers are waiting. */
function barrier(n: number): () => Promise<void> {
  let waiting = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    waiting += 1;
    if (waiting >= n) open();
    return opened;
  };
}

describe('two signals runs', { timeout: 120_000 }, () => {
  it('at once (both read every state before either sends): each signal is sent and logged once', async () => {
    const t = await setup('sigruns-once', barrier(2));
    const [a, b] = [t.handler(), t.handler()];
    const results = await Promise.all([
      a({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'run-a' }),
      b({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'run-b' }),
    ]);
    const sent = results.flatMap((r) => r.sent.map((s) => `${s.event} ${s.signal} ${s.district}`)).sort();
    expect(sent).toEqual(['raised flow-stopped D01', 'raised flow-stopped D02']);
    expect(results.flatMap((r) => r.failed)).toEqual([]);
    expect(await t.received('D01')).toHaveLength(1);
    expect(await t.received('D02')).toHaveLength(1);
    expect(await t.logged()).toHaveLength(2);

    // What is stored is what the sending run recorded, unclaimed: a later run sends nothing.
    for (const district of ['D01', 'D02']) {
      const { Item } = await t.doc.send(
        new GetCommand({ TableName: t.tables.state, Key: { name: `signal#flow-stopped#${district}` } }),
      );
      expect(Item).toMatchObject({ raised: true, sentAt: at(LAST, 17) });
      expect(Item?.claim).toBeUndefined();
    }
    const later = await t.handler()({ mode: 'flow', at: at(LAST, 17.25) }, { awsRequestId: 'run-c' });
    expect(later.sent).toEqual([]);
    expect(await t.received('D01')).toEqual([]);
    t.close();
  });

  it('after a state written before versions, or damaged: each is still sent for, and written anew', async () => {
    const t = await setup('sigruns-legacy');
    // D01: raised and sent five hours ago by the release before versions (no version attribute).
    await t.doc.send(
      new PutCommand({
        TableName: t.tables.state,
        Item: {
          name: 'signal#flow-stopped#D01',
          raised: true,
          raisedAt: at(LAST, 12),
          sentAt: at(LAST, 12),
        },
      }),
    );
    // D02: damaged beyond reading, its version too.
    await t.doc.send(
      new PutCommand({
        TableName: t.tables.state,
        Item: { name: 'signal#flow-stopped#D02', raised: 'yes', version: 'seven' },
      }),
    );
    const result = await t.handler()({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'run-a' });
    expect(result.sent.map((s) => `${s.event} ${s.signal} ${s.district}`)).toEqual([
      'repeat flow-stopped D01',
      'raised flow-stopped D02',
    ]);
    expect(result.failed).toEqual([]);
    expect(await t.received('D01')).toHaveLength(1);
    expect(await t.received('D02')).toHaveLength(1);
    const again = await t.handler()({ mode: 'flow', at: at(LAST, 17.25) }, { awsRequestId: 'run-b' });
    expect(again.sent).toEqual([]);
    t.close();
  });

  it('a morning that did not complete is made by the checks after its time, until one records it in the state table', async () => {
    const t = await setup('sigruns-morning');
    const check = (hour: number) =>
      t.handler()({ mode: 'flow', at: at(LAST, hour) }, { awsRequestId: `check-${hour}` });
    // Before 06:30 the rates and shares are the morning's; from then on a check makes them, once.
    expect((await check(6.25)).mode).toBe('flow');
    expect((await check(6.5)).mode).toBe('all');
    const { Item } = await t.doc.send(
      new GetCommand({ TableName: t.tables.state, Key: { name: 'signals-daily-completed' } }),
    );
    expect(Item).toEqual({ name: 'signals-daily-completed', day: at(LAST, 12).slice(0, 10) });
    expect((await check(6.75)).mode).toBe('flow');
    // A record that cannot be read is not taken as done: the next check judges again.
    await t.doc.send(
      new PutCommand({ TableName: t.tables.state, Item: { name: 'signals-daily-completed', day: 7 } }),
    );
    expect((await check(7)).mode).toBe('all');
    expect((await check(7.25)).mode).toBe('flow');
    t.close();
  });

  it('with a district’s markers damaged: each judged from its flow as before, nothing raised falsely, ops told', async () => {
    const t = await setup('sigruns-markers');
    const { Item: real } = await t.doc.send(
      new GetCommand({ TableName: t.tables.flow, Key: { pk: 'last', sk: 'D01' } }),
    );
    const marker = (pk: string, sk: string, value: Record<string, unknown>) =>
      t.doc.send(new PutCommand({ TableName: t.tables.flow, Item: { pk, sk, ...value } }));
    // D03 flows on: its first day and latest transition unreadable. D01 stopped: its latest too.
    await marker('since', 'D03', { day: 'someday' });
    await marker('last', 'D03', { at: 'zz-not-an-instant' });
    await marker('last', 'D01', { at: 20261012 });
    const result = await t.handler()({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'run-a' });
    const status = (signal: string, district: string) =>
      result.statuses.find((s) => s.signal === signal && s.district === district);
    expect(status('flow-stopped', 'D03')?.state).toBe('normal');
    expect(status('referrals', 'D03')?.state).toBe('normal');
    expect(status('flow-stopped', 'D01')).toMatchObject({ state: 'raised', last: real?.at });
    expect(result.sent.map((s) => `${s.event} ${s.signal} ${s.district}`)).toEqual([
      'raised flow-stopped D01',
      'raised flow-stopped D02',
    ]);
    expect(result.invalidFlowItems).toBe(3);
    expect(t.ops.messages.map((m) => m.subject)).toEqual(['3 flow items could not be read']);
    const told = t.ops.messages[0]?.text ?? '';
    expect(told).toContain(
      `D03's first day of flow (flow table item pk "since", sk "D03") is not a date: the run took the first day with a transition it read instead.`,
    );
    expect(told).toContain(
      `D01's latest transition (flow table item pk "last", sk "D01") is not an instant: the run took the latest transition in its flow instead. The next transition recorded for the district replaces it.`,
    );
    expect(told).toContain(`D03's latest transition`);
    t.close();
  });
});
