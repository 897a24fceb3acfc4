// The ordering property against DynamoDB itself (dynalite): the conditional PutItem of the mirror
// writer, with changes arriving reordered, repeated, interleaved and all at once, ends where
// applying them in source order ends. Fewer runs than the in-memory version: each is real I/O.

import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { MirrorWriter } from '#shared/adapters/mirror-writer.ts';
import type { VersionedRecord } from '#shared/ingest/change.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { scenarioArb } from '#test/support/ingest-arbitraries.ts';
import { openIndexRefs } from '#test/support/open-index.ts';

const NOW = Date.parse('2026-03-29T06:00:00Z');

let dynamo: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = (await createTables(dynamo.client, 'prop')).mirror;
  doc = DynamoDBDocumentClient.from(dynamo.client);
});

afterAll(async () => {
  await dynamo?.close();
});

/** The case as stored, without the write's bookkeeping: when it was written, and the stage of the
 * version it replaced (flow's record of the transition, which depends on arrival order). */
const withoutWriteTime = (item: Record<string, unknown> | undefined) => {
  if (!item) return item;
  const { mirroredAt: _, priorStage: __, ...rest } = item;
  return rest;
};

describe('the mirror writer on DynamoDB', () => {
  it('ends in the in-order state for any reordering, repetition and interleaving, even all at once', async () => {
    const writer = new MirrorWriter(doc, table);
    const expectedOpen = new Set<string>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer().chain(() => scenarioArb(`R${String(run++).padStart(4, '0')}`)),
        async ({ streams, arrivals }) => {
          const expected = new MemoryMirror();
          for (const stream of streams) for (const c of stream) await expected.apply(c, NOW);

          const outcomes = await Promise.all(arrivals.map((c) => writer.apply(c, NOW)));

          expect(outcomes.filter((o) => o === 'created')).toHaveLength(streams.length);
          expect(outcomes).not.toContain('conflict');
          for (const stream of streams) {
            const ref = (stream[0] as VersionedRecord).record.caseRef;
            const { Item } = await doc.send(
              new GetCommand({ TableName: table, Key: { caseRef: ref }, ConsistentRead: true }),
            );
            expect(withoutWriteTime(Item)).toEqual(withoutWriteTime({ ...expected.items.get(ref) }));
            if (expected.items.get(ref)?.openShard) expectedOpen.add(ref);
          }
        },
      ),
      { numRuns: 20, endOnFailure: true },
    );

    // The open-cases index agrees with the items: exactly the cases whose newest change is open.
    expect(await openIndexRefs(doc, table)).toEqual([...expectedOpen].sort());
  });
});
