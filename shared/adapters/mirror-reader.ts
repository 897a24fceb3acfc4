// Reads the open cases from the mirror's sparse, sharded index, one shard at a time: cost follows
// the open cases, never the table's history (closed cases are not in the index), and shards read in
// parallel. A deployment still migrating from the first release reads its single-partition index
// instead (`legacy`), and one switching over (`migrating`) until the backfill is recorded complete
// (README: "Migrating to the sharded index").

import { type ConsumedCapacity, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { ALL_SHARDS, type ShardRef, shardsOf } from '../domain/shards.ts';
import type { OpenCaseSource, StateStore } from '../scan/ports.ts';
import { errorName } from '../scan/retry.ts';
import {
  LEGACY_OPEN_ATTRIBUTE,
  LEGACY_OPEN_INDEX_NAME,
  LEGACY_OPEN_VALUE,
  OPEN_SHARD_ATTRIBUTE,
  OPEN_SHARDS_INDEX_NAME,
} from './tables.ts';

/** The state-table record `queuewatch migrate open-index` writes when the index by district holds
 * every open case (open-index-migration.ts); a scan deployed with `openCasesIndex: migrating`
 * reads the new index only once it is there. */
export const OPEN_INDEX_BACKFILLED = 'open-index-backfilled';

/** Whether the state table says the backfill is complete. */
export async function isBackfilled(state: StateStore): Promise<boolean> {
  return (await state.get(OPEN_INDEX_BACKFILLED)) !== undefined;
}

export interface OpenCaseSourceOptions {
  /** Items per page (DynamoDB's limit applies too: 1 MB). */
  pageSize?: number;
  /** Read the first release's single-partition index (a mirror not yet migrated). */
  legacy?: boolean;
  /** A deployment migrating (`openCasesIndex: migrating`): read the index by district only once
   * `backfilled` says `queuewatch migrate open-index` found it holds every open case; the first
   * release's index until then (or while that cannot be read). */
  migrating?: { backfilled: () => Promise<boolean> };
}

export class DynamoOpenCaseSource implements OpenCaseSource {
  /** Read capacity consumed and items read since the last reset(). */
  consumedCapacityUnits = 0;
  itemsRead = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: OpenCaseSourceOptions = {},
  ) {
    // A migrating source reads the old index until prepare() has found the backfill complete.
    this.legacy = options.legacy === true || options.migrating !== undefined;
  }

  /** Whether this run reads the first release's index. */
  private legacy: boolean;

  reset(): void {
    this.consumedCapacityUnits = 0;
    this.itemsRead = 0;
  }

  async prepare(): Promise<{ note?: string }> {
    const { migrating } = this.options;
    if (!migrating) return {};
    let backfilled: boolean;
    try {
      backfilled = await migrating.backfilled();
    } catch (error) {
      this.legacy = true;
      return {
        note: `whether the backfill is complete could not be read (${errorName(error)}): this run read the old open-cases index, which holds every open case`,
      };
    }
    this.legacy = !backfilled;
    return backfilled
      ? {}
      : {
          note: '"openCasesIndex": "migrating" is deployed, but `queuewatch migrate open-index` has not yet found that the index by district holds every open case: the scan reads the old open-cases index, which holds them all, until it does. Run it (README: "Migrating to the sharded index", step 2); the scan switches at its next run after it completes',
        };
  }

  shards(districts: readonly string[]): readonly ShardRef[] {
    return this.legacy ? [ALL_SHARDS] : shardsOf(districts);
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

/** The reader's options for the deployed OPEN_CASES_INDEX (`legacy`, `migrating`, else the index by
 * district): a migrating deployment asks the state table whether the backfill is complete. */
export function openIndexOptions(index: string | undefined, state: StateStore): OpenCaseSourceOptions {
  if (index === 'legacy') return { legacy: true };
  if (index === 'migrating') return { migrating: { backfilled: () => isBackfilled(state) } };
  return {};
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
