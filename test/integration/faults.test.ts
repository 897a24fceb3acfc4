// The scan under fault: the real handler with the real AWS adapters against dynalite and moto_server,
// with SDK middleware failing, delaying or throttling the calls to each dependency (one at a time
// and in pairs), a run killed at each stage, two runs at once, and clocks apart. For each, a faulted
// run and then two healed runs (a minute later, and after the claims' lease), counting the (case,
// audience) news delivered against a run without faults: none may be lost, and duplicates only
// where a run died between publishing and recording. The figures are printed as a table.

import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFileJson } from '#shared/config/load.ts';
import { storedConfigValue } from '#shared/config/stored.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import { createScanHandler } from '#shared/scan/handler.ts';
import type { OutgoingMessage } from '#shared/scan/ports.ts';
import { awsScanDeps } from '#shared/wiring/scan.ts';
import { FaultInjector, type FaultPlan, type Target } from '#test/support/faults.ts';
import { shippedConfigJsonPath } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const MINUTE = 60_000;
/** The faulted run, then a healed one a minute later, then one after the claims' 5-minute lease. */
const RUN_TIMES = [T0, T0 + MINUTE, T0 + 6 * MINUTE];
const TARGETS: Target[] = ['publish', 'audit', 'ledger', 'state', 'ssm', 'ops'];
const PARAMETER = '/queuewatch/faults/config';

interface Scenario {
  name: string;
  plan?: FaultPlan;
  /** Two containers run the faulted run at once, with these clock offsets. */
  concurrent?: [number, number];
  /** A kill between publishing and recording may send some news twice: allowed here only. */
  mayDuplicate?: boolean;
}

interface Outcome {
  scenario: string;
  sent: number;
  news: Map<string, number>;
  lost: number;
  duplicated: number;
  unlogged: number;
  opsTold: number;
}

let moto: Moto;
let dynamo: EmbeddedDynamo;
let alertTopicArn: string;
let opsTopicArn: string;
let seq = 0;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
  const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
  const sns = new SNSClient(clientConfig);
  const ssm = new SSMClient(clientConfig);
  alertTopicArn = (await sns.send(new CreateTopicCommand({ Name: 'faults-alerts' }))).TopicArn as string;
  opsTopicArn = (await sns.send(new CreateTopicCommand({ Name: 'faults-ops' }))).TopicArn as string;
  await ssm.send(
    new PutParameterCommand({
      Name: PARAMETER,
      Value: storedConfigValue(configFileJson()),
      Type: 'String',
      Overwrite: true,
    }),
  );
  sns.destroy();
  ssm.destroy();
}, 120_000);
afterAll(async () => {
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

/** The (case, audience@place) pairs a message brings as news: the lines its email marks NEW. */
function newsIn(message: OutgoingMessage): string[] {
  if (message.kind === 'summary') return [];
  const refs = [...(message.email?.body ?? '').matchAll(/^ {2}(\S+) .* {2}NEW {2}/gm)].map(
    (m) => m[1] as string,
  );
  return refs.flatMap((ref) => message.groups.map((group) => `${ref}|${group}`));
}

async function runScenario(scenario: Scenario, expected?: ReadonlySet<string>): Promise<Outcome> {
  seq += 1;
  const tables = await createTables(dynamo.client, `f${seq}`);
  const names = {
    mirror: tables.mirror,
    ledger: tables.ledger,
    audit: tables.audit,
    state: tables.state,
  };
  const seedDoc = DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  await seedMirror(
    seedDoc,
    names.mirror,
    generateQueue({ open: 40, seed: 4, nowMs: T0, districts: ['D01', 'D02', 'D03'] }),
    T0,
  );
  const env = {
    MIRROR_TABLE: names.mirror,
    LEDGER_TABLE: names.ledger,
    AUDIT_TABLE: names.audit,
    STATE_TABLE: names.state,
    ALERT_TOPIC_ARN: alertTopicArn,
    OPS_TOPIC_ARN: opsTopicArn,
    CONFIG_PARAMETER: PARAMETER,
    DEFAULT_CONFIG_FILE: shippedConfigJsonPath(),
  };
  const injector = new FaultInjector();
  const sent: Array<{ message: OutgoingMessage; messageId: string }> = [];
  let opsTold = 0;
  const clients: Array<{ destroy(): void }> = [];
  /** A Lambda container: its own clients and adapters (and memory), the shared injector. */
  const container = (offsetMs = 0) => {
    const dynamodb = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'eu-west-2',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    });
    const motoConfig = {
      endpoint: moto.endpoint,
      region: 'eu-west-2',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    };
    const sns = new SNSClient(motoConfig);
    const ssm = new SSMClient(motoConfig);
    clients.push(dynamodb, sns, ssm);
    injector.attachDynamo(dynamodb, names);
    injector.attachSns(sns, alertTopicArn);
    injector.attachSsm(ssm);
    const deps = awsScanDeps(env, { dynamodb, sns, ssm });
    const publisher = deps.publisher;
    deps.publisher = {
      publish: async (message) => {
        const messageId = await publisher.publish(message);
        sent.push({ message, messageId });
        return messageId;
      },
    };
    const ops = deps.ops;
    deps.ops = {
      notify: async (subject, text) => {
        await ops.notify(subject, text);
        opsTold += 1;
      },
    };
    let now = 0;
    const handler = createScanHandler(deps, {
      clock: () => now + offsetMs,
      retry: { attempts: 2, baseDelayMs: 5 },
    });
    return (at: number) => {
      now = at;
      // A failed step raises after the run settles (the Errors alarm); that is expected here.
      return handler({}, { awsRequestId: `run-${at}-${offsetMs}-${Math.random()}` }).catch(() => undefined);
    };
  };

  // The faulted run.
  injector.plan = scenario.plan ?? {};
  let run = container();
  if (scenario.concurrent) {
    const other = container(scenario.concurrent[1]);
    const first = container(scenario.concurrent[0]);
    await Promise.all([first(RUN_TIMES[0] as number), other(RUN_TIMES[0] as number)]);
    run = first;
  } else if (scenario.plan?.kill) {
    // The killed run never finishes: it is left hanging, as a dead container's would be.
    void run(RUN_TIMES[0] as number);
    await Promise.race([injector.whenKilled, new Promise((r) => setTimeout(r, 30_000))]);
    expect(injector.killed, `${scenario.name}: the kill point was reached`).toBe(true);
    run = container(); // the next run is a new container
  } else {
    await run(RUN_TIMES[0] as number);
  }

  // Healed: the outage is over.
  injector.heal();
  for (const at of RUN_TIMES.slice(1)) await run(at);

  const news = new Map<string, number>();
  for (const { message } of sent)
    for (const pair of newsIn(message)) news.set(pair, (news.get(pair) ?? 0) + 1);
  const logged = new Set<string>();
  for (let key: Record<string, unknown> | undefined, first = true; first || key; first = false) {
    const page = await dynamo.client.send(
      new ScanCommand({ TableName: names.audit, ...(key ? { ExclusiveStartKey: key as never } : {}) }),
    );
    for (const item of page.Items ?? []) if (item.messageId?.S) logged.add(item.messageId.S);
    key = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  }
  for (const c of clients) c.destroy();
  return {
    scenario: scenario.name,
    sent: sent.length,
    news,
    lost: expected ? [...expected].filter((pair) => !news.has(pair)).length : 0,
    duplicated: [...news.values()].filter((n) => n > 1).length,
    // Logged as sent, or (for a run that died before confirming) as possibly sent by its group.
    unlogged: sent.filter(
      (s) =>
        !logged.has(s.messageId) &&
        !s.message.groups.every((g) =>
          [...logged].some((id) => id.startsWith('unconfirmed-') && id.endsWith(`-${g}`)),
        ),
    ).length,
    opsTold,
  };
}

const pairs = TARGETS.flatMap((a, i) => TARGETS.slice(i + 1).map((b) => [a, b] as const));
const scenarios: Scenario[] = [
  ...TARGETS.map((t) => ({ name: `${t} failing`, plan: { fail: [t] } })),
  ...pairs.map(([a, b]) => ({ name: `${a} and ${b} failing`, plan: { fail: [a, b] } })),
  {
    name: 'every call delayed 20 ms',
    plan: { delayMs: Object.fromEntries(TARGETS.map((t) => [t, 20])) as Partial<Record<Target, number>> },
  },
  {
    name: 'every third call throttled',
    plan: {
      throttleEvery: Object.fromEntries(TARGETS.map((t) => [t, 3])) as Partial<Record<Target, number>>,
    },
  },
  {
    name: 'killed reading the ledger',
    plan: { kill: { target: 'ledger', command: 'BatchGetItemCommand', nth: 1 } },
  },
  { name: 'killed claiming', plan: { kill: { target: 'ledger', command: 'UpdateItemCommand', nth: 3 } } },
  { name: 'killed before publishing', plan: { kill: { target: 'publish', nth: 1 } } },
  { name: 'killed publishing', plan: { kill: { target: 'publish', nth: 4 } }, mayDuplicate: true },
  {
    name: 'killed after publishing, before the log',
    plan: { kill: { target: 'audit', nth: 1 } },
    mayDuplicate: true,
  },
  {
    name: 'killed recording',
    plan: { kill: { target: 'ledger', command: 'PutItemCommand', nth: 2 } },
    mayDuplicate: true,
  },
  { name: 'two runs at once', concurrent: [0, 0] },
  { name: 'two runs at once, clocks 2 minutes apart', concurrent: [-2 * MINUTE, 2 * MINUTE] },
];

describe('the scan under fault', () => {
  it('loses no alert under any fault, and sends one twice only when killed between publishing and recording', async () => {
    const reference = await runScenario({ name: 'no faults' });
    const expected = new Set(reference.news.keys());
    expect(expected.size).toBeGreaterThan(20);
    expect(reference.duplicated).toBe(0);

    const outcomes: Array<Outcome & { mayDuplicate: boolean }> = [{ ...reference, mayDuplicate: false }];
    for (const scenario of scenarios) {
      outcomes.push({
        ...(await runScenario(scenario, expected)),
        mayDuplicate: scenario.mayDuplicate ?? false,
      });
    }

    const table = [
      '| scenario | messages sent | (case, audience) news | lost | sent twice | sent, not in the disclosure log | ops told |',
      '|---|---|---|---|---|---|---|',
      ...outcomes.map(
        (o) =>
          `| ${o.scenario} | ${o.sent} | ${o.news.size} | ${o.lost} | ${o.duplicated} | ${o.unlogged} | ${o.opsTold} |`,
      ),
    ].join('\n');
    process.stdout.write(`\nthe scan under fault (${expected.size} (case, audience) news due):\n${table}\n`);

    for (const o of outcomes) {
      expect(o.lost, `${o.scenario}: lost`).toBe(0);
      if (!o.mayDuplicate) expect(o.duplicated, `${o.scenario}: sent twice`).toBe(0);
      expect(o.unlogged, `${o.scenario}: sent but not in the disclosure log`).toBe(0);
    }
  }, 600_000);
});
