// Acknowledgement links in DynamoDB: one item per token, keyed by the token's hash, with what it
// acknowledges (case lines stored compactly as tuples), removed by TTL a day after the link expires
// (until then a late press is refused as expired, not unknown, which tells ops more). Use is one
// conditional write, which records the press that made it (`usedBy`).

import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AckLinkRecord, type AckLinkStore, AckLinkUnreadableError } from '../ack/ports.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
import * as z from '../domain/zod.ts';
import type { CallOptions } from '../scan/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';

/** How long an item outlives its link. */
const KEEP_AFTER_EXPIRY_S = 86_400;

/** A level's section as stored: case lines as tuples (reference, category, risk, stage, age). */
interface StoredSection {
  count: number;
  lines: Array<[string, string, string, string, number]>;
}

/** The stored item's schema. Built on the first read: the scan writes links and never reads one,
 * so it does not build this as it starts. */
function storedLinkSchema() {
  const line = z.tuple([z.string(), z.string(), z.string(), z.string(), z.number()]);
  const section = z.object({ count: z.int().check(z.nonnegative()), lines: z.array(line) });
  const byLevel = <T extends z.ZodMiniType>(value: T) =>
    z.object({ warning: z.optional(value), breach: z.optional(value), escalation: z.optional(value) });
  const places = z.union([z.string(), z.array(z.string())]);
  return z.object({
    tokenHash: z.string(),
    audience: z.string(),
    audienceName: z.string(),
    place: z.string(),
    placeName: z.string(),
    district: places,
    localAuthority: places,
    channel: z.enum(['sms', 'email']),
    runId: z.string(),
    sentAtMs: z.number(),
    expiresAtMs: z.number(),
    sections: byLevel(section),
    pauseMs: byLevel(z.number()),
    remindedAt: z.optional(z.array(z.enum(LEVELS))),
    linkBase: z.string(),
    usedAtMs: z.optional(z.number()),
    usedBy: z.optional(z.string()),
  });
}
let storedLink: ReturnType<typeof storedLinkSchema> | undefined;

export class DynamoAckLinkStore implements AckLinkStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: AckLinkRecord): Promise<boolean> {
    const sections: Partial<Record<Level, StoredSection>> = {};
    for (const level of LEVELS) {
      const s = record.sections[level];
      if (s) {
        sections[level] = {
          count: s.count,
          lines: s.lines.map((l) => [l.caseRef, l.category, l.riskLevel, l.stage, l.ageMs]),
        };
      }
    }
    const { usedAtMs: _unused, ...fields } = record;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...fields,
            sections,
            expiresAt: Math.floor(record.expiresAtMs / 1000) + KEEP_AFTER_EXPIRY_S,
          },
          ConditionExpression: 'attribute_not_exists(tokenHash)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(tokenHash: string, options?: CallOptions): Promise<AckLinkRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { tokenHash }, ConsistentRead: true }),
      { abortSignal: options?.signal },
    );
    if (!Item) return undefined;
    storedLink ??= storedLinkSchema();
    const parsed = storedLink.safeParse(Item);
    if (!parsed.success) {
      throw new AckLinkUnreadableError(
        `stored link is not valid at ${parsed.error.issues.map((i) => i.path.join('.') || '(item)').join(', ')}`,
      );
    }
    const { sections, usedAtMs, usedBy: _press, ...rest } = parsed.data;
    const out: AckLinkRecord = { ...rest, sections: {} };
    for (const level of LEVELS) {
      const s = sections[level];
      if (s) {
        out.sections[level] = {
          count: s.count,
          lines: s.lines.map(([caseRef, category, riskLevel, stage, ageMs]) => ({
            caseRef,
            category,
            riskLevel,
            stage,
            ageMs,
          })),
        };
      }
    }
    if (usedAtMs !== undefined) out.usedAtMs = usedAtMs;
    return out;
  }

  async consume(tokenHash: string, nowMs: number, use: string, options?: CallOptions): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tokenHash },
          UpdateExpression: 'SET usedAtMs = :now, usedBy = :use',
          // A retry of this same write (its reply lost) finds the link used by this press: still ours.
          // A press whose use was given back (cancelled) cannot use the link after all, however late
          // its write arrives.
          ConditionExpression:
            'attribute_exists(tokenHash) AND (attribute_not_exists(usedAtMs) OR usedBy = :use) AND expiresAtMs > :now AND NOT contains(cancelledUses, :use)',
          ExpressionAttributeValues: { ':now': nowMs, ':use': use },
        }),
        { abortSignal: options?.signal },
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(tokenHash: string, use: string, options?: CallOptions): Promise<void> {
    // First the press is cancelled, so that its use, if still on its way, is refused when it arrives;
    // then its use is removed, if it has arrived.
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tokenHash },
          UpdateExpression: 'ADD cancelledUses :use',
          ConditionExpression: 'attribute_exists(tokenHash)',
          ExpressionAttributeValues: { ':use': new Set([use]) },
        }),
        { abortSignal: options?.signal },
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error; // no such link: nothing to give back
      });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { tokenHash },
          UpdateExpression: 'REMOVE usedAtMs, usedBy',
          ConditionExpression: 'usedBy = :use',
          ExpressionAttributeValues: { ':use': use },
        }),
        { abortSignal: options?.signal },
      );
    } catch (error) {
      // Already released: nothing to undo.
      if (!isConditionFailure(error)) throw error;
    }
  }
}
