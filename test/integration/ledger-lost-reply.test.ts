// A claim or a release whose write reached the ledger but whose reply was lost on the way back: the
// SDK client tries the same write again, and its condition (the version it expects) now fails
// against this run's own write. The run must take that write as its own, not as another run's:
// a claim read as lost leaves the group locked by this run's own claim until the lease runs out
// (alerts held back a run or more), and a release read as lost is reported as a failure.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { groupStateId } from '#shared/scan/ledger-keys.ts';
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
});
