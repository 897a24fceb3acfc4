// The disclosure log (DPA 2018 s62) in DynamoDB: who was told what, when and why; never the text.
// Per day, one item per message sent and one per case that message disclosed, so that both "what
// went out on this day" (the day's partition) and "who was told about this case" (the sparse
// by-case index, on the per-case items only) are one query, never a full read.

import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import * as z from 'zod';
import { LEVELS } from '../domain/levels.ts';
import type { AuditEntry, AuditLog } from '../scan/ports.ts';
import { AUDIT_CASE_INDEX_NAME } from './tables.ts';

const dayOf = (sentAt: string) => sentAt.slice(0, 10);

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Requests of per-case items in flight at once, for one message. */
    private readonly concurrency = 8,
  ) {}

  /** Writes the per-case items, then the message item: a retried record writes the same keys, so
   * nothing is counted twice. */
  async record(entry: AuditEntry): Promise<void> {
    const day = dayOf(entry.sentAt);
    const message = `${entry.sentAt}#${entry.messageId}`;
    const common = {
      day,
      sentAt: entry.sentAt,
      messageId: entry.messageId,
      runId: entry.runId,
      kind: entry.kind,
      audience: entry.audience,
      district: entry.district,
      localAuthority: entry.localAuthority,
      level: entry.level,
      reason: entry.reason,
    };
    const perCase = [
      ...entry.caseRefs.map((caseRef) => ({ caseRef, resolved: false })),
      ...entry.resolvedCaseRefs.map((caseRef) => ({ caseRef, resolved: true })),
    ];
    // One item per case and message (BatchWriteItem refuses a key twice in one request).
    const byKey = new Map(
      perCase.map(({ caseRef, resolved }) => [
        caseRef,
        { ...common, sentAtMessage: `${message}#${caseRef}`, caseRef, resolved },
      ]),
    );
    const items = [...byKey.values()];
    // 25 to a request: a message listing hundreds of cases is a few requests, not hundreds.
    const limit = pLimit(this.concurrency);
    const batches: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25);
      batches.push(limit(() => this.writeBatch(batch)));
    }
    await Promise.all(batches);
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...entry, day, sentAtMessage: message } }),
    );
  }

  /** One BatchWriteItem, retrying what DynamoDB leaves unprocessed (throttling) with backoff. */
  private async writeBatch(items: readonly Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 8) {
        throw Object.assign(new Error(`${requests.length} disclosure records left unprocessed`), {
          name: 'AuditWriteIncomplete',
        });
      }
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const response = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (response.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }
}

const oneOrMany = z.union([z.string(), z.array(z.string())]);
const level = z.enum(LEVELS);
const common = {
  sentAt: z.string(),
  messageId: z.string(),
  runId: z.string(),
  kind: z.string(),
  audience: oneOrMany,
  district: oneOrMany,
  localAuthority: oneOrMany,
  level: z.union([level, z.array(level)]),
  reason: z.string(),
};

/** A message as the log holds it (extra attributes, such as the keys, are ignored). */
export const loggedMessageSchema = z.object({
  ...common,
  caseRefs: z.array(z.string()),
  resolvedCaseRefs: z.array(z.string()),
});
export type LoggedMessage = z.infer<typeof loggedMessageSchema>;

/** One case in one message: an alert line, or a "resolved" line for a case that moved on. */
export const disclosureSchema = z.object({ ...common, caseRef: z.string(), resolved: z.boolean() });
export type Disclosure = z.infer<typeof disclosureSchema>;

export interface AuditPage<T> {
  items: T[];
  /** Items that did not have the expected shape: counted, never guessed at. */
  unreadable: number;
}

function parseAll<T>(schema: z.ZodType<T>, items: readonly Record<string, unknown>[]): AuditPage<T> {
  const out: AuditPage<T> = { items: [], unreadable: 0 };
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (parsed.success) out.items.push(parsed.data);
    else out.unreadable += 1;
  }
  return out;
}

/** Reads the disclosure log back, for `queuewatch audit`. */
export class DynamoAuditReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The messages sent on a day (UTC), in the order they were sent. */
  async messagesOn(day: string): Promise<AuditPage<LoggedMessage>> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#day = :day',
        // The day's per-case items are read too (DynamoDB filters after reading) but not returned.
        FilterExpression: 'attribute_not_exists(caseRef)',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: { ':day': day },
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    return parseAll(loggedMessageSchema, items);
  }

  /** Every disclosure of a case, oldest first. */
  async disclosuresOf(caseRef: string): Promise<AuditPage<Disclosure>> {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        IndexName: AUDIT_CASE_INDEX_NAME,
        KeyConditionExpression: 'caseRef = :caseRef',
        ExpressionAttributeValues: { ':caseRef': caseRef },
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    const read = parseAll(disclosureSchema, items);
    // The index orders by sentAt only: within one run, by audience, so the answer reads the same.
    const audience = (d: Disclosure) => (typeof d.audience === 'string' ? d.audience : d.audience.join(','));
    read.items.sort(
      (a, b) =>
        a.sentAt.localeCompare(b.sentAt) ||
        audience(a).localeCompare(audience(b)) ||
        a.messageId.localeCompare(b.messageId),
    );
    return read;
  }
}
