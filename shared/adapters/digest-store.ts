// The daily picture's records in the state table: one item per digest group (`digest/<audience>@
// <place>`, overwritten each day, so the table holds one per group however long it runs) saying
// which day's digest it was claimed or sent for, and one item (`digest-history`) with the last
// fortnight's counts per district for the trend. Every change to a group's item is conditional, so
// two runs can never both send one day's digest.

import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { historySchema } from '../digest/history.ts';
import type { DigestClaim, DigestHistory, DigestMark, DigestStore } from '../digest/ports.ts';
import * as z from '../domain/zod.ts';
import { isConditionFailure } from './dynamo-errors.ts';

export const DIGEST_MARK_PREFIX = 'digest/';
export const DIGEST_HISTORY_NAME = 'digest-history';

const markName = (group: string) => `${DIGEST_MARK_PREFIX}${group}`;

const storedMark = z.object({
  day: z.iso.date(),
  sentAt: z.optional(z.number()),
  messageId: z.optional(z.string()),
  runId: z.optional(z.string()),
  leaseUntil: z.optional(z.number()),
  disclosing: z.optional(z.object({ at: z.number(), caseRefs: z.array(z.string()) })),
});

const storedHistory = z.object({ days: historySchema });

/** A stored mark as the port gives it, optional fields present only when stored. */
function markOf(item: z.infer<typeof storedMark>): DigestMark {
  return {
    day: item.day,
    ...(item.sentAt !== undefined ? { sentAt: item.sentAt } : {}),
    ...(item.messageId !== undefined ? { messageId: item.messageId } : {}),
    ...(item.runId !== undefined ? { runId: item.runId } : {}),
    ...(item.leaseUntil !== undefined ? { leaseUntil: item.leaseUntil } : {}),
    ...(item.disclosing !== undefined ? { disclosing: item.disclosing } : {}),
  };
}

export class DynamoDigestStore implements DigestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async marks(groups: readonly string[]): Promise<Map<string, DigestMark>> {
    // A dozen groups or so (audiences times places): one GetItem each keeps the grant to GetItem.
    const found = await Promise.all(
      groups.map(async (group) => {
        const response = await this.client.send(
          new GetCommand({ TableName: this.tableName, Key: { name: markName(group) }, ConsistentRead: true }),
        );
        const parsed = storedMark.safeParse(response.Item);
        // An unreadable record is treated as none: the claim's condition still decides.
        return parsed.success ? ([group, markOf(parsed.data)] as const) : undefined;
      }),
    );
    return new Map(found.filter((f) => f !== undefined));
  }

  async claim(group: string, day: string, claim: DigestClaim, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { name: markName(group) },
          UpdateExpression:
            'SET #day = :day, runId = :run, leaseUntil = :lease, disclosing = :disclosing REMOVE sentAt, messageId',
          // A new day; or this day, not sent, and no live claim.
          ConditionExpression:
            'attribute_not_exists(#day) OR #day < :day OR (#day = :day AND attribute_not_exists(sentAt) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now))',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: {
            ':day': day,
            ':run': claim.runId,
            ':lease': claim.leaseUntil,
            ':disclosing': claim.disclosing,
            ':now': nowMs,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async sent(group: string, day: string, runId: string, messageId: string, atMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { name: markName(group) },
          UpdateExpression: 'SET sentAt = :at, messageId = :id REMOVE leaseUntil, disclosing',
          ConditionExpression: '#day = :day AND runId = :run',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': day, ':run': runId, ':at': atMs, ':id': messageId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(group: string, day: string, runId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { name: markName(group) },
          UpdateExpression: 'REMOVE leaseUntil, disclosing',
          ConditionExpression: '#day = :day AND runId = :run AND attribute_not_exists(sentAt)',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': day, ':run': runId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async history(): Promise<{ days: DigestHistory; unreadable: boolean }> {
    const response = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { name: DIGEST_HISTORY_NAME }, ConsistentRead: true }),
    );
    if (response.Item === undefined) return { days: {}, unreadable: false };
    const parsed = storedHistory.safeParse(response.Item);
    return parsed.success ? { days: parsed.data.days, unreadable: false } : { days: {}, unreadable: true };
  }

  async saveHistory(days: DigestHistory): Promise<void> {
    // Only the digest function writes it, one run at a time in practice (a run every 15 minutes,
    // each done in seconds); two overlapping runs would write the same day's first snapshot.
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { name: DIGEST_HISTORY_NAME, days } }),
    );
  }
}

/** The same rules in memory: for the CLI's preview, unit tests and the local run. */
export class MemoryDigestStore implements DigestStore {
  readonly marksByGroup = new Map<string, DigestMark>();
  days: DigestHistory = {};

  async marks(groups: readonly string[]): Promise<Map<string, DigestMark>> {
    return new Map(
      groups.flatMap((g) => {
        const mark = this.marksByGroup.get(g);
        return mark ? [[g, structuredClone(mark)] as const] : [];
      }),
    );
  }

  async claim(group: string, day: string, claim: DigestClaim, nowMs: number): Promise<boolean> {
    const mark = this.marksByGroup.get(group);
    const free =
      mark === undefined ||
      mark.day < day ||
      (mark.day === day &&
        mark.sentAt === undefined &&
        (mark.leaseUntil === undefined || mark.leaseUntil < nowMs));
    if (!free) return false;
    this.marksByGroup.set(group, { day, ...structuredClone(claim) });
    return true;
  }

  async sent(group: string, day: string, runId: string, messageId: string, atMs: number): Promise<boolean> {
    const mark = this.marksByGroup.get(group);
    if (mark?.day !== day || mark.runId !== runId) return false;
    this.marksByGroup.set(group, { day, runId, sentAt: atMs, messageId });
    return true;
  }

  async release(group: string, day: string, runId: string): Promise<void> {
    const mark = this.marksByGroup.get(group);
    if (mark?.day === day && mark.runId === runId && mark.sentAt === undefined)
      this.marksByGroup.set(group, { day, runId });
  }

  async history(): Promise<{ days: DigestHistory; unreadable: boolean }> {
    return { days: structuredClone(this.days), unreadable: false };
  }

  async saveHistory(days: DigestHistory): Promise<void> {
    this.days = structuredClone(days);
  }
}
