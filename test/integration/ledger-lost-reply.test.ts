// A claim, a release or a case record whose write reached the ledger but whose reply was lost on the
// way back: the SDK client tries the same write again, and its condition (the version it expects)
// now fails against this run's own write. The run must take that write as its own, not as another
// run's: a claim read as lost leaves the group locked by this run's own claim until the lease runs
// out (alerts held back a run or more), a release read as lost is reported as a failure, and a case
// record read as lost leaves its group recorded as not told (a reminder five minutes after the
// message, and a failure reported for a message that was recorded).

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { loadConfig } from '#shared/config/load.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { groupStateId } from '#shared/scan/ledger-keys.ts';
import type { OutgoingMessage } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { aCase, iso } from '#test/support/fixtures.ts';
import { lossyClient } from '#test/support/lost-reply.ts';

let dynamo: EmbeddedDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.close();
});

describe('a ledger write whose reply is lost', () => {
  it("is this run's own claim, and its own release, when the client's retry finds them", async () => {
    const tables = await createTables(dynamo.client, 'lostreply');
    const claims = lossyClient(dynamo.endpoint, 'UpdateItemCommand');
    const releases = lossyClient(dynamo.endpoint, 'PutItemCommand');
    const doc = (client: DynamoDBClient) =>
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const key = { audience: 'district-supervisor', place: 'D01' };
    const claim = { runId: 'run-1', leaseUntil: 1_800_000_000_000 };

    claims.lose();
    const version = await new DynamoLedger(doc(claims.client), tables.ledger).claimGroup(
      key,
      undefined,
      claim,
    );
    releases.lose();
    const released =
      version === undefined
        ? false
        : await new DynamoLedger(doc(releases.client), tables.ledger).releaseGroup(
            { id: groupStateId(key.audience, key.place), ...key, version, lastSentAt: { breach: 1 } },
            version,
            1_900_000_000_000,
          );

    expect(claims.lost() && releases.lost()).toBe(true);
    expect(version).toBeDefined();
    expect(released).toBe(true);
    const { Item } = await doc(dynamo.client).send(
      new GetCommand({ TableName: tables.ledger, Key: { group: groupStateId(key.audience, key.place) } }),
    );
    expect(Item).toMatchObject({ version: (version ?? 0) + 1 });
    expect(Item?.claim).toBeUndefined();
  });

  it("is still another run's claim when another run wrote it", async () => {
    const tables = await createTables(dynamo.client, 'otherrun');
    const ledger = new DynamoLedger(
      DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } }),
      tables.ledger,
    );
    const key = { audience: 'district-supervisor', place: 'D01' };

    const first = await ledger.claimGroup(key, undefined, { runId: 'run-1', leaseUntil: 1_800_000_000_000 });
    const second = await ledger.claimGroup(key, undefined, { runId: 'run-2', leaseUntil: 1_800_000_000_000 });

    expect(first).toBeDefined();
    expect(second).toBeUndefined();
  });

  it("is this run's own case record, written or deleted, so the group is recorded as told: no reminder before its interval", async () => {
    const tables = await createTables(dynamo.client, 'lostshard');
    const HOUR = 3_600_000;
    const T0 = Date.parse('2026-11-27T09:00:00Z');
    const config = loadConfig();
    const doc = (client: DynamoDBClient) =>
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const seed = doc(dynamo.client);
    const open = async (caseRef: string, enteredMs: number) =>
      seed.send(
        new PutCommand({
          TableName: tables.mirror,
          Item: toMirrorItem(
            aCase({ caseRef, stageEnteredAt: iso(enteredMs), sourceUpdatedAt: iso(enteredMs) }),
            T0,
          ),
        }),
      );
    // Loses the reply to the next write (put or delete) of a D01 supervisor's case record, after it went in.
    const { client, lose, lostCount } = lossyClient(dynamo.endpoint, (command, input) => {
      // The low-level client's input: attribute values marshalled ({ S: ... }).
      const { Item, Key } = input as { Item?: { group?: { S?: string } }; Key?: { group?: { S?: string } } };
      const id = Item?.group?.S ?? Key?.group?.S ?? '';
      const write = command === 'PutItemCommand' || command === 'DeleteItemCommand';
      return write && id.startsWith('district-supervisor#D01#');
    });
    const sent: OutgoingMessage[] = [];
    const run = (nowMs: number) =>
      runScan({
        config,
        nowMs,
        runId: `run-${nowMs}`,
        source: new DynamoOpenCaseSource(seed, tables.mirror),
        ledger: new DynamoLedger(doc(client), tables.ledger),
        publisher: new CallbackPublisher((m) => sent.push(m)),
        audit: new MemoryAuditLog(),
        retry: { attempts: 3, baseDelayMs: 0 },
      });
    const toSupervisor = () => sent.filter((m) => m.groups.includes('district-supervisor@D01'));

    // A breach, told; 8 hours on (the supervisor's breach interval) a second case reaches breach,
    // and the reply to writing its record is lost.
    await open('DA-000-0000001', T0 - 25 * HOUR);
    await run(T0);
    await open('DA-000-0000002', T0 - 16 * HOUR);
    lose();
    const second = await run(T0 + 8 * HOUR);
    const after = toSupervisor().length;
    const third = await run(T0 + 8 * HOUR + 5 * 60_000);

    expect(lostCount()).toBe(1);
    expect(second.failures).toEqual([]);
    expect(after).toBe(2);
    // Recorded as told at T0 + 8 h: no breach reminder five minutes later.
    expect(third.messages.filter((m) => m.groups.includes('district-supervisor@D01'))).toEqual([]);

    // A delete whose reply is lost: both cases close, and the record's delete is retried.
    await seed.send(
      new PutCommand({
        TableName: tables.mirror,
        Item: toMirrorItem(
          aCase({ caseRef: 'DA-000-0000001', stage: 'closed', sourceUpdatedAt: iso(T0 + 9 * HOUR) }),
          T0 + 9 * HOUR,
        ),
      }),
    );
    await seed.send(
      new PutCommand({
        TableName: tables.mirror,
        Item: toMirrorItem(
          aCase({ caseRef: 'DA-000-0000002', stage: 'closed', sourceUpdatedAt: iso(T0 + 9 * HOUR) }),
          T0 + 9 * HOUR,
        ),
      }),
    );
    lose();
    const closing = await run(T0 + 13 * HOUR);
    expect(lostCount()).toBe(2);
    expect(closing.failures).toEqual([]);
    expect(toSupervisor().at(-1)?.email?.body).toMatch(/No longer waiting/);
  });
});
