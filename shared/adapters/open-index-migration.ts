// Moving a mirror from the first release's open-cases index (one partition, `openQueue = open`) to
// the index by district (`openShard`): every open item the old index holds gets its `openShard`,
// unless a newer write already gave it one (the feed writes both while a deployment migrates).
// Then the two indexes are compared case by case, not by counts (cases open and close while it
// runs): complete only when every case still open in the old index is in the new one. Only then is
// the backfill recorded in the state table, and only then does a scan deployed with
// `openCasesIndex: migrating` read the new index (mirror-reader.ts); until then it reads the old.

import { type DynamoDBDocumentClient, GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { openShardKey, shardsOf } from '../domain/shards.ts';
import type { StateStore } from '../scan/ports.ts';
import { errorName } from '../scan/retry.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import { OPEN_INDEX_BACKFILLED } from './mirror-reader.ts';
import {
  LEGACY_OPEN_ATTRIBUTE,
  LEGACY_OPEN_INDEX_NAME,
  LEGACY_OPEN_VALUE,
  OPEN_SHARD_ATTRIBUTE,
  OPEN_SHARDS_INDEX_NAME,
} from './tables.ts';

/** Cases listed by reference in a report (the rest counted). */
const LISTED = 20;

export interface MigrationReport {
  /** Open items in the old index (its last read, after the backfill). */
  legacyOpen: number;
  /** Given their `openShard` now, and already having one (written since, or an earlier pass). */
  backfilled: number;
  alreadyDone: number;
  /** Open items in the index by district (the config's districts), after the backfill. */
  shardedOpen: number;
  /** Whether every case still open in the old index is in the new one. */
  complete: boolean;
  /** Open cases in the old index whose district the config does not have, by district: the index
   * by district is read for the config's districts only, so these keep it from completing. */
  unknownDistricts: Record<string, number>;
  /** Open cases that cannot be given a district key (no district, or not a name): by reference,
   * with what is wrong (never the value). They keep it from completing; the rest go on. */
  malformed: Array<{ caseRef: string; reason: string }>;
  malformedCount: number;
  /** Open cases of known districts still missing from the new index after the backfill (a write
   * that did not take), the first few by reference. Run again. */
  missing: string[];
  missingCount: number;
}

/** Why an item's district cannot be its key, if it cannot. */
function districtProblem(district: unknown): string | undefined {
  if (district === undefined) return 'it has no district';
  if (typeof district !== 'string')
    return `its district is not a name (a ${Array.isArray(district) ? 'list' : typeof district})`;
  if (district.trim() === '') return 'its district is empty';
  return undefined;
}

export async function backfillOpenShards(
  doc: DynamoDBDocumentClient,
  tableName: string,
  districts: readonly string[],
  options: { concurrency?: number; onProgress?: (done: number) => void | Promise<void> } = {},
): Promise<MigrationReport> {
  const limit = pLimit(options.concurrency ?? 16);
  const report: MigrationReport = {
    legacyOpen: 0,
    backfilled: 0,
    alreadyDone: 0,
    shardedOpen: 0,
    complete: false,
    unknownDistricts: {},
    malformed: [],
    malformedCount: 0,
    missing: [],
    missingCount: 0,
  };
  const known = new Set(districts);
  const malformed = new Map<string, string>();
  let looked = 0;
  for await (const items of legacyPages(doc, tableName)) {
    await Promise.all(
      items.map((item) =>
        limit(async () => {
          const caseRef = String(item.caseRef);
          const problem = districtProblem(item.district);
          if (problem) {
            malformed.set(caseRef, problem);
            return;
          }
          try {
            // Only while still open, in the same district, and not yet given one.
            await doc.send(
              new UpdateCommand({
                TableName: tableName,
                Key: { caseRef },
                UpdateExpression: 'SET #shard = :shard',
                ConditionExpression:
                  'attribute_exists(#open) AND attribute_not_exists(#shard) AND district = :district',
                ExpressionAttributeNames: { '#shard': OPEN_SHARD_ATTRIBUTE, '#open': LEGACY_OPEN_ATTRIBUTE },
                ExpressionAttributeValues: {
                  ':shard': openShardKey(String(item.district)),
                  ':district': item.district,
                },
              }),
            );
            report.backfilled += 1;
          } catch (error) {
            if (isConditionFailure(error)) report.alreadyDone += 1;
            // The item itself cannot take the write; the service refusing every write is thrown.
            else if (errorName(error) === 'ValidationException') {
              malformed.set(caseRef, 'DynamoDB refused its district key (ValidationException)');
            } else throw error;
          }
        }),
      ),
    );
    looked += items.length;
    await options.onProgress?.(looked);
  }

  // The comparison: every case open in the old index now, against the new index now.
  const sharded = new Set<string>();
  for (const shard of shardsOf(districts)) {
    if (!('district' in shard)) continue;
    for await (const page of paginateQuery(
      { client: doc, pageSize: 1000 },
      {
        TableName: tableName,
        IndexName: OPEN_SHARDS_INDEX_NAME,
        KeyConditionExpression: '#shard = :shard',
        ExpressionAttributeNames: { '#shard': OPEN_SHARD_ATTRIBUTE },
        ExpressionAttributeValues: { ':shard': shard.id },
        ProjectionExpression: 'caseRef',
      },
    )) {
      for (const item of page.Items ?? []) sharded.add(String(item.caseRef));
    }
  }
  report.shardedOpen = sharded.size;
  const absent: Array<{ caseRef: string; district: unknown }> = [];
  for await (const items of legacyPages(doc, tableName)) {
    report.legacyOpen += items.length;
    for (const item of items) {
      const caseRef = String(item.caseRef);
      if (!sharded.has(caseRef)) absent.push({ caseRef, district: item.district });
    }
  }
  // The indexes lag the table a little: each case missing is looked up in the table itself.
  await Promise.all(
    absent.map(({ caseRef }) =>
      limit(async () => {
        const { Item } = await doc.send(
          new GetCommand({ TableName: tableName, Key: { caseRef }, ConsistentRead: true }),
        );
        if (!Item || Item[LEGACY_OPEN_ATTRIBUTE] === undefined) return; // closed since
        const problem = malformed.get(caseRef) ?? districtProblem(Item.district);
        if (problem) {
          report.malformedCount += 1;
          if (report.malformed.length < LISTED) report.malformed.push({ caseRef, reason: problem });
          return;
        }
        const district = String(Item.district);
        if (!known.has(district)) {
          report.unknownDistricts[district] = (report.unknownDistricts[district] ?? 0) + 1;
        } else if (Item[OPEN_SHARD_ATTRIBUTE] !== openShardKey(district)) {
          report.missingCount += 1;
          if (report.missing.length < LISTED) report.missing.push(caseRef);
        }
      }),
    ),
  );
  report.malformed.sort((a, b) => (a.caseRef < b.caseRef ? -1 : a.caseRef > b.caseRef ? 1 : 0));
  report.missing.sort();
  report.complete =
    report.malformedCount === 0 &&
    report.missingCount === 0 &&
    Object.keys(report.unknownDistricts).length === 0;
  return report;
}

/** The old index's open items, page by page. */
function legacyPages(
  doc: DynamoDBDocumentClient,
  tableName: string,
): AsyncIterable<Record<string, unknown>[]> {
  const pages = paginateQuery(
    { client: doc, pageSize: 1000 },
    {
      TableName: tableName,
      IndexName: LEGACY_OPEN_INDEX_NAME,
      KeyConditionExpression: '#open = :open',
      ExpressionAttributeNames: { '#open': LEGACY_OPEN_ATTRIBUTE },
      ExpressionAttributeValues: { ':open': LEGACY_OPEN_VALUE },
    },
  );
  return (async function* () {
    for await (const page of pages) yield page.Items ?? [];
  })();
}

/** Records a complete backfill, for the scan to switch on. */
export async function recordBackfilled(
  state: StateStore,
  report: MigrationReport,
  nowMs: number,
): Promise<void> {
  if (!report.complete) throw new Error('an incomplete backfill is never recorded');
  await state.put(OPEN_INDEX_BACKFILLED, {
    at: new Date(nowMs).toISOString(),
    openCases: report.shardedOpen,
  });
}
