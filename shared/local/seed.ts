// Loads records straight into a local mirror table (batched, retrying unprocessed items): for the
// local run, tests and benchmarks. The feed and `queuewatch import` go through the ingest path.

import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { toMirrorItem } from '../adapters/mirror-item.ts';
import { type CaseRecord, caseFields } from '../domain/case.ts';

export interface SeedOptions {
  concurrency?: number;
  /** The item written for a record (default: as the ingest path writes it); a test of a mirror
   * written another way (the first release's) gives its own. */
  item?: (record: CaseRecord, nowMs: number) => Record<string, unknown>;
}

export async function seedMirror(
  doc: DynamoDBDocumentClient,
  tableName: string,
  records: Iterable<CaseRecord>,
  nowMs: number,
  { concurrency = 8, item = (record, now) => ({ ...toMirrorItem(record, now) }) }: SeedOptions = {},
): Promise<number> {
  const limit = pLimit(concurrency);
  const pending: Promise<void>[] = [];
  let batch: Record<string, unknown>[] = [];
  let count = 0;
  const flush = (items: Record<string, unknown>[]) =>
    limit(async () => {
      let requests = items.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
        const response = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (response.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        if (attempt > 10)
          throw new Error(`seedMirror: ${requests.length} items still unprocessed after retries`);
      }
    });
  for (const record of records) {
    // Only schema fields go in, whatever else the record carries.
    batch.push(item(caseFields(record), nowMs));
    count += 1;
    if (batch.length === 25) {
      pending.push(flush(batch));
      batch = [];
      if (pending.length >= concurrency * 4) await Promise.all(pending.splice(0));
    }
  }
  if (batch.length > 0) pending.push(flush(batch));
  await Promise.all(pending);
  return count;
}
