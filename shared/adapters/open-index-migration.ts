// Moving a mirror from the first release's open-cases index (one partition, `openQueue = open`) to
// the index by district (`openShard`): every open item the old index holds gets its `openShard`,
// unless a newer write already gave it one (the feed writes both while a deployment migrates), and
// then both indexes are counted, so an engineer knows when the old one can go.

import {
  type DynamoDBDocumentClient,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { openShardKey, shardsOf } from '../domain/shards.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import {
  LEGACY_OPEN_ATTRIBUTE,
  LEGACY_OPEN_INDEX_NAME,
  LEGACY_OPEN_VALUE,
  OPEN_SHARD_ATTRIBUTE,
  OPEN_SHARDS_INDEX_NAME,
} from './tables.ts';

export interface MigrationReport {
  /** Open items in the old index. */
  legacyOpen: number;
  /** Given their `openShard` now, and already having one (written since, or an earlier pass). */
  backfilled: number;
  alreadyDone: number;
  /** Open items in the index by district, counted after the backfill. */
  shardedOpen: number;
  /** Whether both indexes hold the same number of open cases. */
  complete: boolean;
  /** Open cases in the old index whose district the config does not have, by district: the index
   * by district is counted for the config's districts only, so these keep it from completing. */
  unknownDistricts: Record<string, number>;
}

export async function backfillOpenShards(
  doc: DynamoDBDocumentClient,
  tableName: string,
  districts: readonly string[],
  options: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<MigrationReport> {
  const limit = pLimit(options.concurrency ?? 16);
  const report: MigrationReport = {
    legacyOpen: 0,
    backfilled: 0,
    alreadyDone: 0,
    shardedOpen: 0,
    complete: false,
    unknownDistricts: {},
  };
  const known = new Set(districts);
  for await (const page of paginateQuery(
    { client: doc, pageSize: 1000 },
    {
      TableName: tableName,
      IndexName: LEGACY_OPEN_INDEX_NAME,
      KeyConditionExpression: '#open = :open',
      ExpressionAttributeNames: { '#open': LEGACY_OPEN_ATTRIBUTE },
      ExpressionAttributeValues: { ':open': LEGACY_OPEN_VALUE },
    },
  )) {
    const items = page.Items ?? [];
    report.legacyOpen += items.length;
    for (const item of items) {
      const district = String(item.district);
      if (!known.has(district)) {
        report.unknownDistricts[district] = (report.unknownDistricts[district] ?? 0) + 1;
      }
    }
    await Promise.all(
      items.map((item) =>
        limit(async () => {
          try {
            // Only while still open, in the same district, and not yet given one.
            await doc.send(
              new UpdateCommand({
                TableName: tableName,
                Key: { caseRef: item.caseRef },
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
            if (!isConditionFailure(error)) throw error;
            report.alreadyDone += 1;
          }
        }),
      ),
    );
    options.onProgress?.(report.legacyOpen);
  }
  for (const shard of shardsOf(districts)) {
    if (!('district' in shard)) continue;
    let key: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: OPEN_SHARDS_INDEX_NAME,
          KeyConditionExpression: '#shard = :shard',
          ExpressionAttributeNames: { '#shard': OPEN_SHARD_ATTRIBUTE },
          ExpressionAttributeValues: { ':shard': shard.id },
          Select: 'COUNT',
          ...(key ? { ExclusiveStartKey: key } : {}),
        }),
      );
      report.shardedOpen += page.Count ?? 0;
      key = page.LastEvaluatedKey;
    } while (key);
  }
  report.complete = report.shardedOpen === report.legacyOpen;
  return report;
}
