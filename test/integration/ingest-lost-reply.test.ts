// A mirror write that went in but whose reply was lost on the way back: the SDK client tries the
// same UpdateItem again, and its condition (newer than stored) now fails against the write's own
// item. That write changed the case, so it must be counted as the change it was (created, updated,
// replaced): read as `unchanged`, it was left out of ChangedCases and the last ingest time, which
// the quiet-feed alarm relies on, and a replaced malformed item was never reported to ops.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastIngest, recordIngest } from '#shared/adapters/ingest-state.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { MirrorWriter } from '#shared/adapters/mirror-writer.ts';
import type { TableId } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import type { IngestDeps } from '#shared/ingest/ingest-batch.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';
import { aCase as baseCase, sqsRecord } from '#test/support/fixtures.ts';
import { lossyClient } from '#test/support/lost-reply.ts';

let dynamo: EmbeddedDynamo;
let tables: Record<TableId, string>;
let doc: DynamoDBDocumentClient;

const docOf = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const aCase = (caseRef: string, overrides: Partial<CaseRecord> = {}): CaseRecord =>
  baseCase({ caseRef, sourceUpdatedAt: '2026-03-29T01:00:00.000Z', ...overrides });

const message = (changeType: string, c: CaseRecord) => JSON.stringify({ changeType, case: c });

beforeAll(async () => {
  dynamo = await startDynalite();
  tables = await createTables(dynamo.client, 'lostmirror');
  doc = docOf(dynamo.client);
});
afterAll(async () => {
  await dynamo?.close();
});

/** One batch through the use case, the mirror written through `client`. */
async function ingest(client: DynamoDBClient, records: Array<[id: string, body: string]>, nowMs: number) {
  const metrics = new Map<string, number>();
  const opsReports: string[] = [];
  const deps: IngestDeps = {
    mirror: new MirrorWriter(docOf(client), tables.mirror),
    rejects: { record: async () => {} },
    state: { recordIngest: (atMs) => recordIngest(doc, tables.state, atMs) },
    ops: { notify: async (subject) => void opsReports.push(subject) },
    vocabulary: loadConfig().vocabulary,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: { addMetric: (name, _unit, value) => void metrics.set(name, value) },
  };
  const result = await ingestSqsBatch(
    { Records: records.map(([id, body]) => sqsRecord(id, body)) },
    deps,
    nowMs,
  );
  return { ...result, metrics, opsReports };
}

describe('a mirror write whose reply is lost', () => {
  it('is counted as the change it made: created, then updated, in ChangedCases and the last ingest time', async () => {
    const lossy = lossyClient(dynamo.endpoint, 'UpdateItemCommand', true);
    const first = Date.parse('2026-03-29T06:00:00Z');
    const created = await ingest(lossy.client, [['c1', message('created', aCase('DA-400-0000001'))]], first);

    expect(lossy.lost()).toBe(true);
    expect(created.response.batchItemFailures).toEqual([]);
    expect(created.summary.applied).toMatchObject({ created: 1, unchanged: 0 });
    expect(created.metrics.get('ChangedCases')).toBe(1);
    expect(await lastIngest(doc, tables.state)).toBe(first);

    lossy.lose();
    const later = first + 60_000;
    const moved = aCase('DA-400-0000001', {
      stage: 'awaiting-referral',
      stageEnteredAt: '2026-03-29T02:00:00.000Z',
      sourceUpdatedAt: '2026-03-29T02:00:00.000Z',
    });
    const updated = await ingest(lossy.client, [['c2', message('stage-changed', moved)]], later);

    expect(updated.summary.applied).toMatchObject({ updated: 1, unchanged: 0 });
    expect(updated.metrics.get('ChangedCases')).toBe(1);
    expect(await lastIngest(doc, tables.state)).toBe(later);
    lossy.client.destroy();
  });

  it('is still a replaced malformed item, reported to ops, when the replacing write’s reply is lost', async () => {
    const { sourceUpdatedAt: _u, ...noVersion } = toMirrorItem(aCase('DA-400-0000002'), Date.now());
    await doc.send(new PutCommand({ TableName: tables.mirror, Item: noVersion }));
    const lossy = lossyClient(dynamo.endpoint, 'UpdateItemCommand');
    // The first UpdateItem (newer than stored) fails its condition on the malformed item; the
    // second, the replacement, goes in and its reply is lost.
    let updates = 0;
    lossy.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && ++updates === 2) lossy.lose();
        return next(args);
      },
      { step: 'initialize', name: 'loseTheReplacement' },
    );

    const result = await ingest(
      lossy.client,
      [['r1', message('updated', aCase('DA-400-0000002', { stage: 'awaiting-referral' }))]],
      Date.parse('2026-03-29T07:00:00Z'),
    );

    expect(lossy.lost()).toBe(true);
    expect(result.summary.applied).toMatchObject({ replaced: 1, unchanged: 0 });
    expect(result.summary.replacedMalformed).toEqual(['DA-400-0000002']);
    expect(result.metrics.get('ChangedCases')).toBe(1);
    expect(result.opsReports).toEqual(['1 malformed mirror item replaced']);
    lossy.client.destroy();
  });

  it('is not confused with a repeat: the same message twice in one batch is one change', async () => {
    const twice = message('created', aCase('DA-400-0000003'));
    const result = await ingest(
      dynamo.client,
      [
        ['d1', twice],
        ['d2', twice],
      ],
      Date.parse('2026-03-29T08:00:00Z'),
    );

    expect(result.summary.applied).toMatchObject({ created: 1, unchanged: 1 });
    expect(result.metrics.get('ChangedCases')).toBe(1);
  });
});
