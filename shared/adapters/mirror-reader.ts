// Reads the open cases from the mirror's sparse index, a page at a time: cost follows the open
// cases, never the table's history (closed cases are not in the index).

import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { OpenCaseSource } from '../scan/ports.ts';
import { OPEN_INDEX_ATTRIBUTE, OPEN_INDEX_NAME, OPEN_INDEX_VALUE } from './tables.ts';

export class DynamoOpenCaseSource implements OpenCaseSource {
  /** Read capacity the last pages() consumed, and the items it read. */
  consumedCapacityUnits = 0;
  itemsRead = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly pageSize = 1000,
  ) {}

  async *pages(): AsyncIterable<readonly Record<string, unknown>[]> {
    this.consumedCapacityUnits = 0;
    this.itemsRead = 0;
    const paginator = paginateQuery(
      { client: this.client, pageSize: this.pageSize },
      {
        TableName: this.tableName,
        IndexName: OPEN_INDEX_NAME,
        KeyConditionExpression: '#open = :open',
        ExpressionAttributeNames: { '#open': OPEN_INDEX_ATTRIBUTE },
        ExpressionAttributeValues: { ':open': OPEN_INDEX_VALUE },
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

export function capacityUnits(consumed: ConsumedCapacity | undefined): number {
  return consumed?.CapacityUnits ?? 0;
}
