// The alert ledger in DynamoDB: per case and audience, the level last notified and when. Every
// write is conditional on the version read, so concurrent runs cannot both claim a case.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { LEVELS } from '../config/schema.ts';
import type { LedgerEntry, LedgerStore } from '../scan/ports.ts';

const entrySchema = z.object({
  caseRef: z.string(),
  audience: z.string(),
  district: z.string(),
  level: z.enum(LEVELS),
  episode: z.string(),
  notifiedAt: z.number().optional(),
  state: z.enum(['pending', 'sent']),
  runId: z.string(),
  leaseUntil: z.number(),
  version: z.number().int(),
  messageId: z.string().optional(),
});

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoLedger implements LedgerStore {
  /** Items the last loadAll() could not read as entries (left alone, counted for ops). */
  unreadable = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The ledger holds only alerting and recently resolved cases (TTL and deletes keep it so),
   * so reading it whole costs in proportion to what is alerting, not to history. */
  async loadAll(): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    this.unreadable = 0;
    for await (const page of paginateScan(
      { client: this.client },
      { TableName: this.tableName, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) {
        const parsed = entrySchema.safeParse(item);
        if (parsed.success) {
          const { messageId, notifiedAt, ...rest } = parsed.data;
          entries.push({
            ...rest,
            ...(messageId !== undefined ? { messageId } : {}),
            ...(notifiedAt !== undefined ? { notifiedAt } : {}),
          });
        } else this.unreadable += 1;
      }
    }
    return entries;
  }

  async put(entry: LedgerEntry, expectedVersion: number | undefined, expiresAtMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...entry, expiresAt: Math.floor(expiresAtMs / 1000) },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(caseRef)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async remove(key: { caseRef: string; audience: string }, expectedVersion: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { caseRef: key.caseRef, audience: key.audience },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
