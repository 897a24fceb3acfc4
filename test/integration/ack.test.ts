// Acknowledging through the deployed function's entry, against real local servers: links stored in
// DynamoDB (dynalite), alerts delivered through SNS to SQS (moto_server). The scan sends an
// escalation; the link is taken from the SMS as a phone would receive it; the function's handler is
// called as API Gateway calls it, GET twice then the button's POST; the next reminder then goes to
// the duty inspector of the same case and not to the supervisor who acknowledged.

import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenAckLinks } from '#shared/ack/links.ts';
import { type AckLinkRecord, AckLinkUnreadableError } from '#shared/ack/ports.ts';
import { respond } from '#shared/ack/respond.ts';
import { newToken, tokenHash } from '#shared/ack/token.ts';
import { DynamoAckLinkStore } from '#shared/adapters/ack-links.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { SnsPublisher } from '#shared/adapters/sns-publisher.ts';
import { loadConfig } from '#shared/config/load.ts';
import { filterPolicyFor, type Subscriber } from '#shared/delivery/subscriptions.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { fitsOneSegment } from '#shared/domain/notify.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  localDynamoClient,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { lossyClient } from '#test/support/lost-reply.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const config = loadConfig();
const T0 = Date.parse('2026-11-27T09:00:00Z'); // a Friday, 09:00 London
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE = 'https://ack.example.org';

const subscribers: Array<Subscriber & { name: string }> = [
  {
    name: 'supervisor-d01',
    protocol: 'sms',
    endpoint: '+447700900001',
    audience: 'district-supervisor',
    district: 'D01',
  },
  {
    name: 'inspector-d01',
    protocol: 'sms',
    endpoint: '+447700900002',
    audience: 'duty-inspector',
    district: 'D01',
  },
];

// High-risk domestic abuse, 50 hours without its risk assessment: an escalation to the district
// supervisor and the duty inspector (reminded every 4 hours), and the MARAC coordinator.
const entered = new Date(T0 - 50 * HOUR).toISOString();
const escalated: CaseRecord = {
  caseRef: 'DA-001-0000042',
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: entered,
  childrenInvolved: false,
  sourceUpdatedAt: entered,
};

let moto: Moto;
let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
});
afterAll(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

/** An HTTP API (payload format 2.0) request for the page, as API Gateway hands it to the function. */
function pageRequest(method: 'GET' | 'POST', token: string, body?: string) {
  return {
    version: '2.0',
    routeKey: `${method} /{token}`,
    rawPath: `/${token}`,
    rawQueryString: '',
    headers: {
      host: 'abc123.execute-api.eu-west-2.amazonaws.com',
      'user-agent': 'Mozilla/5.0 (synthetic test)',
      ...(body !== undefined
        ? { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }
        : {}),
    },
    pathParameters: { token },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-2.amazonaws.com',
      http: {
        method,
        path: `/${token}`,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'synthetic',
      },
      requestId: `req-${method}`,
      routeKey: `${method} /{token}`,
      stage: '$default',
      time: '27/Nov/2026:09:10:00 +0000',
      timeEpoch: T0 + 10 * MINUTE,
    },
    ...(body !== undefined ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : {}),
  };
}

const lambdaContext = {
  awsRequestId: 'ack-request',
  functionName: 'queuewatch-test-ack',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:queuewatch-test-ack',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/queuewatch-test-ack',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

describe('acknowledging through the deployed handler', () => {
  it('stops the next reminder for the audience that acknowledged, and not for another audience of the same case', async () => {
    const clientConfig = { endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient(clientConfig);
    const sqs = new SQSClient(clientConfig);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'queuewatch-ack-alerts' }));
    const queues = new Map<string, string>();
    for (const s of subscribers) {
      queues.set(
        s.name,
        await subscribeQueue(sns, sqs, TopicArn as string, `ack-${s.name}`, filterPolicyFor(s, config.file)),
      );
    }
    const tables = await createTables(dynamo.client, 'ack');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: toMirrorItem(escalated, T0) }));
    const scanAt = (nowMs: number) =>
      runScan({
        config,
        nowMs,
        runId: `run-${nowMs}`,
        source: new DynamoOpenCaseSource(doc, tables.mirror),
        ledger: new DynamoLedger(doc, tables.ledger),
        publisher: new SnsPublisher(sns, TopicArn as string),
        audit: new MemoryAuditLog(),
        links: new TokenAckLinks(new DynamoAckLinkStore(doc, tables.acklinks), {
          baseUrl: BASE,
          config: async () => config,
        }),
      });
    const received = async (name: string) =>
      (await drainQueue(sqs, queues.get(name) as string)).map((envelope) => String(envelope.Message));

    // The escalation reaches both phones, each with its own link.
    const first = await scanAt(T0);
    expect(first.failures).toEqual([]);
    const [supervisorSms] = await received('supervisor-d01');
    const [inspectorSms] = await received('inspector-d01');
    expect(supervisorSms).toMatch(/^QW D01 Northgate: 1 ESCALATION \(1 new\)\nDA-001-0000042 2d 2h new\n/);
    expect(fitsOneSegment(supervisorSms as string)).toBe(true);
    const token = supervisorSms?.match(/\nhttps:\/\/ack\.example\.org\/([0-9A-Za-z]{10})$/)?.[1] as string;
    expect(token).toBeDefined();
    expect(inspectorSms).not.toContain(token);

    // The deployed function's entry, configured as the stack configures it, its clock 10 minutes on.
    vi.stubEnv('ACK_LINKS_TABLE', tables.acklinks);
    vi.stubEnv('LEDGER_TABLE', tables.ledger);
    vi.stubEnv('AUDIT_TABLE', tables.audit);
    vi.stubEnv('CASE_SYSTEM_URL', config.file.linkBase);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_REGION', 'eu-west-2');
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
    const { handler } = await import('#functions/ack.ts');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0 + 10 * MINUTE);
    const opened = await handler(pageRequest('GET', token), lambdaContext);
    const openedAgain = await handler(pageRequest('GET', token), lambdaContext);
    const ledgerAfterOpening = await doc.send(new ScanCommand({ TableName: tables.ledger }));
    vi.setSystemTime(T0 + 12 * MINUTE);
    const pressed = await handler(pageRequest('POST', token, 'acknowledge=yes'), lambdaContext);
    const pressedAgain = await handler(pageRequest('POST', token, 'acknowledge=yes'), lambdaContext);
    vi.useRealTimers();

    for (const page of [opened, openedAgain]) {
      expect(page.statusCode).toBe(200);
      expect(page.headers['Cache-Control']).toBe('no-store');
      expect(page.body).toContain('<td>DA-001-0000042</td>');
      expect(page.body).toContain('<button type="submit" name="acknowledge" value="yes">');
    }
    expect(ledgerAfterOpening.Items?.filter((i) => String(i.group).startsWith('acks/'))).toEqual([]);
    expect(pressed.statusCode).toBe(200);
    expect(pressed.body).toContain('<h1>Acknowledged</h1>');
    expect(pressedAgain.statusCode).toBe(404);
    const link = await new DynamoAckLinkStore(doc, tables.acklinks).get(tokenHash(token));
    expect(link?.usedAtMs).toBe(T0 + 12 * MINUTE);
    const audit = await doc.send(new ScanCommand({ TableName: tables.audit }));
    // The message item (the per-case items beside it name one case each, for `audit --case`).
    const messages = (audit.Items ?? []).filter((i) => i.caseRef === undefined);
    expect(messages.map((i) => [i.kind, i.audience, i.caseRefs, i.reason])).toEqual([
      [
        'acknowledgement',
        'district-supervisor',
        ['DA-001-0000042'],
        'acknowledged by the SMS link of the message sent 2026-11-27T09:00:00.000Z',
      ],
    ]);

    // Four hours on, both audiences' escalation reminders fall due: only the inspector's goes.
    const reminders = await scanAt(T0 + 4 * HOUR);
    expect(reminders.failures).toEqual([]);
    expect(reminders.messages.map((m) => m.groups.join())).not.toContain('district-supervisor@D01');
    expect(await received('supervisor-d01')).toEqual([]);
    const inspectorReminders = await received('inspector-d01');
    expect(inspectorReminders).toHaveLength(1);
    expect(inspectorReminders[0]).toMatch(/^QW D01 Northgate: 1 ESCALATION\nDA-001-0000042 2d 6h\n/);

    sns.destroy();
    sqs.destroy();
  });
});

describe('the link table (dynalite)', () => {
  const record = (hash: string): AckLinkRecord => ({
    tokenHash: hash,
    audience: 'district-supervisor',
    audienceName: 'On-call public protection supervisor for the district',
    place: 'D01',
    placeName: 'D01 Northgate',
    district: 'D01',
    localAuthority: 'la-northgate',
    channel: 'email',
    runId: 'run-1',
    sentAtMs: T0,
    expiresAtMs: T0 + 24 * HOUR,
    sections: {
      escalation: {
        count: 2,
        lines: [
          {
            caseRef: 'DA-001-0000042',
            category: 'domestic-abuse',
            riskLevel: 'high',
            stage: 'awaiting-risk-assessment',
            ageMs: 50 * HOUR,
          },
        ],
      },
    },
    pauseMs: { escalation: 4 * HOUR },
    linkBase: 'https://qw.example.police.uk/q',
  });

  it('stores a link once, reads it back whole, and uses it up exactly once before it expires', async () => {
    const tables = await createTables(dynamo.client, 'links');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoAckLinkStore(doc, tables.acklinks);
    const hash = tokenHash(newToken());
    const stale = tokenHash(newToken());

    expect(await store.put(record(hash))).toBe(true);
    expect(await store.put({ ...record(hash), audience: 'duty-inspector' })).toBe(false);
    expect(await store.put(record(stale))).toBe(true);
    const stored = await doc.send(new ScanCommand({ TableName: tables.acklinks }));

    expect(await store.get(hash)).toEqual(record(hash));
    expect(await store.get(tokenHash(newToken()))).toBeUndefined();
    expect(stored.Items?.find((i) => i.tokenHash === hash)?.expiresAt).toBe((T0 + 24 * HOUR) / 1000 + 86_400);
    expect(await store.consume(stale, T0 + 24 * HOUR, 'press-1')).toBe(false); // expired
    expect(await store.consume(tokenHash(newToken()), T0, 'press-1')).toBe(false); // unknown
    expect(await store.consume(hash, T0 + MINUTE, 'press-1')).toBe(true);
    expect(await store.consume(hash, T0 + 2 * MINUTE, 'press-2')).toBe(false); // used by another press
    expect((await store.get(hash))?.usedAtMs).toBe(T0 + MINUTE);
  });

  it("takes a retried write of the same press (its reply lost on the way) as that press's own use", async () => {
    const tables = await createTables(dynamo.client, 'lostreply');
    // The first UpdateItem reaches the table, but its reply is lost: the SDK retries the same write.
    const { client, lost } = lossyClient(dynamo.endpoint, 'UpdateItemCommand', true);
    const store = new DynamoAckLinkStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tables.acklinks,
    );
    const hash = tokenHash(newToken());
    await store.put(record(hash));

    expect(await store.consume(hash, T0 + MINUTE, 'press-1')).toBe(true);
    expect(lost()).toBe(true);
    expect(await store.consume(hash, T0 + MINUTE, 'press-2')).toBe(false);
  });

  it('gives a link back only for the use it was asked to undo', async () => {
    const tables = await createTables(dynamo.client, 'release');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoAckLinkStore(doc, tables.acklinks);
    const hash = tokenHash(newToken());
    await store.put(record(hash));
    await store.consume(hash, T0 + MINUTE, 'press-1');

    await store.release(hash, 'press-2'); // not this use: nothing happens
    const stillUsed = (await store.get(hash))?.usedAtMs;
    await store.release(hash, 'press-1');

    expect(stillUsed).toBe(T0 + MINUTE);
    expect((await store.get(hash))?.usedAtMs).toBeUndefined();
    expect(await store.consume(hash, T0 + 3 * MINUTE, 'press-3')).toBe(true);
  });

  it('refuses a use that arrives after the press was given back, however late it arrives', async () => {
    const tables = await createTables(dynamo.client, 'cancelled');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoAckLinkStore(doc, tables.acklinks);
    const hash = tokenHash(newToken());
    await store.put(record(hash));

    // The press timed out and was given back before its use reached the table.
    await store.release(hash, 'press-1');
    const late = await store.consume(hash, T0 + MINUTE, 'press-1');

    expect(late).toBe(false);
    expect((await store.get(hash))?.usedAtMs).toBeUndefined();
    // The person's next press uses it as usual.
    expect(await store.consume(hash, T0 + 2 * MINUTE, 'press-2')).toBe(true);
  });

  it('starts no write once the press has been answered: a write still waiting to go is never sent', async () => {
    const tables = await createTables(dynamo.client, 'answered');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    // The ledger's client holds its first write back until the test lets it go: as a slow reply to
    // the read before it, or a function frozen after answering, would leave it to go later.
    const held = localDynamoClient(dynamo.endpoint);
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let heldWrite: Promise<unknown> | undefined;
    held.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName !== 'PutItemCommand' || heldWrite) return next(args);
        heldWrite = gate.then(() => next(args));
        return heldWrite as ReturnType<typeof next>;
      },
      { step: 'initialize' },
    );
    const ledger = DynamoDBDocumentClient.from(held, { marshallOptions: { removeUndefinedValues: true } });
    const token = newToken();
    const links = new DynamoAckLinkStore(doc, tables.acklinks);
    await links.put(record(tokenHash(token)));
    await links.get(tokenHash(token)); // the connection made, so the press's own calls are quick

    const answered = await respond(
      { method: 'POST', token, body: 'acknowledge=yes' },
      {
        links,
        acks: new DynamoLedger(ledger, tables.ledger),
        audit: new MemoryAuditLog(),
        budget: { ackMs: 250, afterMs: 500, hardMs: 1_000 },
      },
      T0 + MINUTE,
    );
    letGo();
    await heldWrite?.catch(() => undefined);
    const stored = await doc.send(new ScanCommand({ TableName: tables.ledger }));

    expect(answered.outcome).toMatchObject({ kind: 'failed', error: 'DeadlineExceeded', released: true });
    expect(answered.page.body).toContain('may or may not have been recorded');
    expect(heldWrite).toBeDefined();
    expect(stored.Items ?? []).toEqual([]);
  });

  it('refuses to read an item that is not a valid link, naming the field and not its value', async () => {
    const tables = await createTables(dynamo.client, 'damaged');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const hash = tokenHash(newToken());
    await doc.send(
      new PutCommand({
        TableName: tables.acklinks,
        Item: { ...record(hash), channel: 'SYNTHETIC-PERSON-Alpha', sections: {} },
      }),
    );

    const read = new DynamoAckLinkStore(doc, tables.acklinks).get(hash);

    await expect(read).rejects.toThrow(AckLinkUnreadableError);
    await expect(read).rejects.toThrow(/at channel$/);
  });
});
