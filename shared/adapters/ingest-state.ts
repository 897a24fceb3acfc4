// When the feed last delivered a change that was applied: one item (`ingest`) in the state table,
// so an alarm can tell a quiet feed from a quiet queue. Only ever moves forward in time.

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo-errors.ts';

export const INGEST_STATE_NAME = 'ingest';

/** Records a successful ingest at `atMs`, unless a later one is already recorded (concurrent
 * function instances finish out of order). */
export async function recordIngest(
  client: DynamoDBDocumentClient,
  tableName: string,
  atMs: number,
): Promise<void> {
  const at = new Date(atMs).toISOString();
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { name: INGEST_STATE_NAME },
        UpdateExpression: 'SET lastIngestAt = :at',
        ConditionExpression: 'attribute_not_exists(lastIngestAt) OR lastIngestAt < :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** The last successful ingest (ms since epoch), or undefined if none was ever recorded. */
export async function lastIngest(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<number | undefined> {
  const response = await client.send(
    new GetCommand({ TableName: tableName, Key: { name: INGEST_STATE_NAME }, ConsistentRead: true }),
  );
  const at = response.Item?.lastIngestAt;
  return typeof at === 'string' ? Date.parse(at) : undefined;
}
