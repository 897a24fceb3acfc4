// Reads the open cases from the mirror's sparse, sharded index, one shard at a time: cost follows
// the open cases, never the table's history (closed cases are not in the index), and shards read in
// parallel. A deployment still migrating from the first release reads its single-partition index
// instead (`legacy`), until the new one is backfilled (README: "Migrating to the sharded index").

import { type ConsumedCapacity, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { ALL_SHARDS, type ShardRef, shardsOf } from '../domain/shards.ts';
import type { OpenCaseSource } from '../scan/ports.ts';
import {
  LEGACY_OPEN_ATTRIBUTE,
  LEGACY_OPEN_INDEX_NAME,
  LEGACY_OPEN_VALUE,
  OPEN_SHARD_ATTRIBUTE,
  OPEN_SHARDS_INDEX_NAME,
} from './tables.ts';

export interface OpenCaseSourceOptions {
  /** Items per page (DynamoDB's limit applies too: 1 MB). */
  pageSize?: number;
  /** Read the first release's single-partition index (a mirror not yet migrated). */
  legacy?: boolean;
}

export class DynamoOpenCaseSource implements OpenCaseSource {
  /** Read capacity consumed and items read since the last reset(). */
  consumedCapacityUnits = 0;
  itemsRead = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: OpenCaseSourceOptions = {},
  ) {}

  reset(): void {
    this.consumedCapacityUnits = 0;
    this.itemsRead = 0;
  }

  shards(districts: readonly string[]): readonly ShardRef[] {
    return this.options.legacy ? [ALL_SHARDS] : shardsOf(districts);
  }

  async *pages(shard: ShardRef): AsyncIterable<readonly Record<string, unknown>[]> {
    const [indexName, attribute, value] =
      'district' in shard
        ? [OPEN_SHARDS_INDEX_NAME, OPEN_SHARD_ATTRIBUTE, shard.id]
        : [LEGACY_OPEN_INDEX_NAME, LEGACY_OPEN_ATTRIBUTE, LEGACY_OPEN_VALUE];
    const paginator = paginateQuery(
      { client: this.client, pageSize: this.options.pageSize ?? 1000 },
      {
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': attribute },
        ExpressionAttributeValues: { ':key': value },
        ReturnConsumedCapacity: 'TOTAL',
      },
    );
    for await (const page of paginator) {
      this.consumedCapacityUnits += capacityUnits(page.ConsumedCapacity);
      const items = page.Items ?? [];
      this.itemsRead += items.length;
      yield items;
    }
  }
}

/** The open cases of a mirror whose deployment step a command cannot know (the CLI's `status`,
 * `digest` and removal check): the first release's index while the table has it, since that one
 * holds every open case at every step of the migration (the feed writes both keys from its first
 * step on), and the index by district once it is gone. Reading the new index of a mirror not yet
 * backfilled would miss the cases it does not hold yet: a removal check that sees none would let
 * a config drop a district whose cases would then never alert. */
export async function mirrorOpenCases(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<DynamoOpenCaseSource> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const legacy = (Table?.GlobalSecondaryIndexes ?? []).some(
    (index) => index.IndexName === LEGACY_OPEN_INDEX_NAME,
  );
  return new DynamoOpenCaseSource(client, tableName, legacy ? { legacy: true } : {});
}

export function capacityUnits(consumed: ConsumedCapacity | undefined): number {
  return consumed?.CapacityUnits ?? 0;
}

/** Open cases held in memory (a file for `evaluate`, a test's list): one part, not sharded. */
export function memoryOpenCases(items: readonly Record<string, unknown>[]): OpenCaseSource {
  return {
    shards: () => [ALL_SHARDS],
    async *pages() {
      yield items;
    },
  };
}
