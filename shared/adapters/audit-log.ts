// The disclosure log (DPA 2018 s62) in DynamoDB: who was told what, when and why; never the text.
// Per day, one item per message sent, and one per case it gives an item of its own, so that both
// "what went out on this day" (the day's partition) and "who was told about this case" are
// queries, never a full read. A message outside a thread (an acknowledgement, a digest, one a
// stopped run may have sent) gives every case it lists an item. The scan's messages to a group
// form a thread (AuditThread): a case gets an item where the thread starts telling of it and where
// it ends, and "who was told about this case" reads the thread in between (the by-thread index)
// for the messages that list it. A reminder listing 300 waiting cases is then one item, not 301.
//
// Sort keys: a message `<sentAt>#<messageId>`; a case's item `<sentAt>#<messageId>#<caseRef>`,
// followed in a thread by `#<thread>` (and `#counted` when the message counted the case without
// naming it). The by-case index projects every key, so the reader learns a case's threads from
// its own items.

import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { LEVELS } from '../domain/levels.ts';
import { byCodeUnit } from '../domain/order.ts';
import * as z from '../domain/zod.ts';
import type { AuditEntry, AuditLog, CallOptions } from '../scan/ports.ts';
import { AUDIT_CASE_INDEX_NAME, AUDIT_THREAD_INDEX_NAME } from './tables.ts';

const dayOf = (sentAt: string) => sentAt.slice(0, 10);
const COUNTED = '#counted';

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Requests of per-case items in flight at once, for one message. */
    private readonly concurrency = 8,
  ) {}

  /** Items written (per-case and message items), for the bench. */
  itemsWritten = 0;

  /** Writes the message item and its per-case items, 25 to a request (a message with up to 24
   * items of its own is one request): a retried record writes the same keys, so nothing is
   * counted twice. */
  async record(entry: AuditEntry, options?: CallOptions): Promise<void> {
    const day = dayOf(entry.sentAt);
    const message = `${entry.sentAt}#${entry.messageId}`;
    const { thread, ...logged } = entry;
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
    const inThread = thread ? `#${thread.id}` : '';
    const perCase = [
      ...(thread ? thread.itemised : entry.caseRefs).map((caseRef) => ({
        caseRef,
        resolved: false,
        tail: '',
      })),
      ...(thread?.counted ?? []).map((caseRef) => ({ caseRef, resolved: false, tail: COUNTED })),
      ...entry.resolvedCaseRefs.map((caseRef) => ({ caseRef, resolved: true, tail: '' })),
    ];
    // One item per case and message (BatchWriteItem refuses a key twice in one request).
    const byKey = new Map(
      perCase.map(({ caseRef, resolved, tail }) => [
        caseRef,
        { ...common, sentAtMessage: `${message}#${caseRef}${inThread}${tail}`, caseRef, resolved },
      ]),
    );
    const items: Record<string, unknown>[] = [
      { ...logged, day, sentAtMessage: message, ...(thread ? { thread: thread.id } : {}) },
      ...byKey.values(),
    ];
    const limit = pLimit(this.concurrency);
    const batches: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25);
      batches.push(limit(() => this.writeBatch(batch, options?.signal)));
    }
    await Promise.all(batches);
    this.itemsWritten += items.length;
  }

  /** One BatchWriteItem, retrying what DynamoDB leaves unprocessed (throttling) with backoff. */
  private async writeBatch(items: readonly Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      signal?.throwIfAborted();
      if (attempt > 8) {
        throw Object.assign(new Error(`${requests.length} disclosure records left unprocessed`), {
          name: 'AuditWriteIncomplete',
        });
      }
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const response = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        { abortSignal: signal },
      );
      requests = (response.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }
}

/** The log's items as read back (extra attributes, such as the keys, are ignored). Built on the
 * first read: the functions only write the log, so none of them builds these as it starts. */
function readSchemas() {
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
  /** A message as the log holds it. */
  const loggedMessage = z.object({
    ...common,
    caseRefs: z.array(z.string()),
    resolvedCaseRefs: z.array(z.string()),
  });
  /** One case in one message: an alert line, a "resolved" line for a case that moved on, or (in a
   * thread) news the message counted without naming it. */
  const disclosure = z.object({
    ...common,
    caseRef: z.string(),
    resolved: z.boolean(),
    counted: z.optional(z.literal(true)),
  });
  return {
    loggedMessage,
    disclosure,
    caseItem: z.extend(z.omit(disclosure, { counted: true }), { sentAtMessage: z.string() }),
    threadMessage: z.extend(loggedMessage, { sentAtMessage: z.string() }),
  };
}
type ReadSchemas = ReturnType<typeof readSchemas>;
let built: ReadSchemas | undefined;
const schemas = (): ReadSchemas => {
  built ??= readSchemas();
  return built;
};

export type LoggedMessage = z.infer<ReadSchemas['loggedMessage']>;
export type Disclosure = z.infer<ReadSchemas['disclosure']>;
type CaseItem = z.infer<ReadSchemas['caseItem']>;

export interface AuditPage<T> {
  items: T[];
  /** Items that did not have the expected shape: counted, never guessed at. */
  unreadable: number;
}

function parseAll<T>(schema: z.ZodMiniType<T>, items: readonly Record<string, unknown>[]): AuditPage<T> {
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
    return parseAll(schemas().loggedMessage, items);
  }

  /** Every disclosure of a case, oldest first: its own items, and the messages of each thread
   * that list it between where the thread starts telling of it and where it ends. */
  async disclosuresOf(caseRef: string): Promise<AuditPage<Disclosure>> {
    const own = parseAll(
      schemas().caseItem,
      await this.queryAll({
        IndexName: AUDIT_CASE_INDEX_NAME,
        KeyConditionExpression: 'caseRef = :caseRef',
        ExpressionAttributeValues: { ':caseRef': caseRef },
      }),
    );
    const found = new Map<string, Disclosure>();
    const add = (messageKey: string, disclosure: Disclosure) => {
      const key = `${messageKey}#${disclosure.resolved}`;
      if (!found.has(key) || found.get(key)?.counted) found.set(key, disclosure);
    };
    const spans = new Map<string, CaseItem[]>();
    let unreadable = own.unreadable;
    for (const item of own.items) {
      const { sentAtMessage, ...disclosure } = item;
      const key = itemKey(sentAtMessage, caseRef);
      if (!key) {
        unreadable += 1;
        continue;
      }
      add(key.message, { ...disclosure, ...(key.counted ? { counted: true as const } : {}) });
      if (key.thread) spans.set(key.thread, [...(spans.get(key.thread) ?? []), item]);
    }
    for (const [thread, items] of spans) {
      for (const span of threadSpans(items, caseRef)) {
        const messages = parseAll(
          schemas().threadMessage,
          await this.queryAll({
            IndexName: AUDIT_THREAD_INDEX_NAME,
            KeyConditionExpression:
              span.to === undefined
                ? 'thread = :thread AND sentAtMessage >= :from'
                : 'thread = :thread AND sentAtMessage BETWEEN :from AND :to',
            FilterExpression: 'contains(caseRefs, :caseRef) OR contains(resolvedCaseRefs, :caseRef)',
            ExpressionAttributeValues: {
              ':thread': thread,
              ':from': span.from,
              ':caseRef': caseRef,
              ...(span.to === undefined ? {} : { ':to': span.to }),
            },
          }),
        );
        unreadable += messages.unreadable;
        for (const { sentAtMessage, caseRefs, resolvedCaseRefs, ...message } of messages.items) {
          if (caseRefs.includes(caseRef)) add(sentAtMessage, { ...message, caseRef, resolved: false });
          if (resolvedCaseRefs.includes(caseRef)) add(sentAtMessage, { ...message, caseRef, resolved: true });
        }
      }
    }
    // The index orders by sentAt only: within one run, by audience, so the answer reads the same.
    const audience = (d: Disclosure) => (typeof d.audience === 'string' ? d.audience : d.audience.join(','));
    const items = [...found.values()].sort(
      (a, b) =>
        byCodeUnit(a.sentAt, b.sentAt) ||
        byCodeUnit(audience(a), audience(b)) ||
        byCodeUnit(a.messageId, b.messageId) ||
        Number(a.resolved) - Number(b.resolved),
    );
    return { items, unreadable };
  }

  private async queryAll(query: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateQuery(
      { client: this.client },
      { TableName: this.tableName, ...query },
    )) {
      items.push(...(page.Items ?? []));
    }
    return items;
  }
}

/** What a case's item key says: its message's key, and (in a thread) the thread and whether the
 * message only counted the case. Undefined if the key is not one of this case's. */
export function itemKey(
  sentAtMessage: string,
  caseRef: string,
): { message: string; thread?: string; counted: boolean } | undefined {
  const at = sentAtMessage.lastIndexOf(`#${caseRef}`);
  const rest = at < 0 ? undefined : sentAtMessage.slice(at + caseRef.length + 1);
  if (rest === undefined || (rest !== '' && !rest.startsWith('#'))) return undefined;
  const message = sentAtMessage.slice(0, at);
  if (rest === '') return { message, counted: false };
  const counted = rest.endsWith(COUNTED);
  const thread = rest.slice(1, counted ? -COUNTED.length : undefined);
  return thread ? { message, thread, counted } : undefined;
}

/** The stretches of one thread that can list a case: from an item that starts telling of it to
 * the next item of its resolved line (inclusive), or to now. Message keys. */
export function threadSpans(
  items: readonly CaseItem[],
  caseRef: string,
): Array<{ from: string; to?: string }> {
  const spans: Array<{ from: string; to?: string }> = [];
  let from: string | undefined;
  for (const item of [...items].sort((a, b) => byCodeUnit(a.sentAtMessage, b.sentAtMessage))) {
    const message = itemKey(item.sentAtMessage, caseRef)?.message;
    if (message === undefined) continue;
    if (!item.resolved) from ??= message;
    else if (from !== undefined) {
      spans.push({ from, to: message });
      from = undefined;
    }
  }
  if (from !== undefined) spans.push({ from });
  return spans;
}
