// Flow in DynamoDB (the flow table). Writing: one item per transition, put only if absent, so a
// retried, replayed or re-imported transition is stored once. Reading: one small count item per
// district and day, built from that day's transition items the first time a day at least two
// days old is read, and rebuilt whenever a transition has arrived for it since: the signals read
// weeks of history as a few hundred small items.
//
// A late transition (for a day already counted) bumps that day's `marks` after it is stored; a
// count item is current only while `marks` equals the `sealedMarks` it was built at, and it is
// built with a condition on `marks`, so a transition landing while it is built is never lost.

import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { DAY_MS, epochDay } from '../domain/calendar.ts';
import {
  addToDay,
  type DayFlow,
  dayText,
  emptyDayFlow,
  isStoredInstant,
  londonDay,
  type Transition,
  transitionId,
  transitionSchema,
} from '../domain/flow.ts';
import * as z from '../domain/zod.ts';
import type { FlowRecorder } from '../ingest/ports.ts';
import type { DaysOptions, FlowDays, FlowMarkers, FlowReader } from '../signals/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';

/** Flow is kept this long: a year of same-weekday history, with room. */
export const FLOW_RETENTION_DAYS = 400;
/** Days this recent are read from their transitions every time (they may still be changing);
 * older days are read from their count items. */
export const OPEN_DAYS = 2;

export class FlowStoreError extends Error {
  override name = 'FlowStoreError';
}

const transitionPk = (district: string, day: number) => `t#${district}#${dayText(day)}`;
const dayPk = (district: string) => `d#${district}`;

const countItemSchema = z.object({
  sk: z.iso.date(),
  counts: z.optional(z.record(z.string(), z.int().check(z.minimum(0)))),
  hours: z.optional(z.array(z.int().check(z.minimum(0))).check(z.length(24))),
  last: z.optional(z.string()),
  marks: z.optional(z.int().check(z.minimum(0))),
  sealedMarks: z.optional(z.int().check(z.minimum(0))),
});

const isoDate = z.iso.date();

export interface FlowStoreOptions {
  /** Requests in flight (default 16). */
  concurrency?: number;
}

export class DynamoFlowStore implements FlowRecorder, FlowReader {
  /** Per district, a day on or before which `since` is known to be stored: saves a write per
   * transition in a warm container. */
  private readonly sinceAtMost = new Map<string, number>();
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: FlowStoreOptions = {},
  ) {
    this.limit = pLimit(options.concurrency ?? 16);
  }

  // ---- writing ----

  /** Stores each transition once. Order matters for a crash: the transition first, then the
   * marks of a past day, so a retry that finds the transition stored still marks its day. */
  async record(transitions: readonly Transition[], nowMs: number): Promise<void> {
    await Promise.all(transitions.map((t) => this.limit(() => this.recordOne(t, nowMs))));
  }

  private async recordOne(t: Transition, nowMs: number): Promise<void> {
    const atMs = Date.parse(t.at);
    const day = londonDay(atMs);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: transitionItem(t, day, nowMs),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (day < londonDay(nowMs)) await this.mark(t.district, day);
    await this.advanceLast(t.district, t.at);
    await this.lowerSince(t.district, day);
  }

  /**
   * Stores past transitions in bulk (a history import): batch puts, which overwrite an item with
   * the same id (the same transition), then marks every day touched and moves `last` and `since`.
   * Safe to re-run; meant for history, so it does not check each item first.
   */
  async recordHistory(transitions: readonly Transition[], nowMs: number): Promise<void> {
    const items = transitions.map((t) => transitionItem(t, londonDay(Date.parse(t.at)), nowMs));
    const batches: Array<Promise<void>> = [];
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25);
      batches.push(this.limit(() => this.writeBatch(batch)));
    }
    await Promise.all(batches);
    const today = londonDay(nowMs);
    const days = new Map<string, { district: string; day: number }>();
    const last = new Map<string, string>();
    const since = new Map<string, number>();
    for (const t of transitions) {
      const day = londonDay(Date.parse(t.at));
      if (day < today) days.set(`${t.district}#${day}`, { district: t.district, day });
      if ((last.get(t.district) ?? '') < t.at) last.set(t.district, t.at);
      since.set(t.district, Math.min(since.get(t.district) ?? day, day));
    }
    await Promise.all([
      ...[...days.values()].map(({ district, day }) => this.limit(() => this.mark(district, day))),
      ...[...last].map(([district, at]) => this.limit(() => this.advanceLast(district, at))),
      ...[...since].map(([district, day]) => this.limit(() => this.lowerSince(district, day))),
    ]);
  }

  private async writeBatch(items: Array<Record<string, unknown>>): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 10)
        throw new FlowStoreError(`${requests.length} flow writes still unprocessed after retries`);
      if (attempt > 0)
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, 50 * 2 ** attempt)));
      const response = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (response.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }

  /** A transition has arrived for a day that may already be counted: its count item is stale. */
  private async mark(district: string, day: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: dayPk(district), sk: dayText(day) },
        UpdateExpression: 'ADD marks :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':one': 1, ':expires': expiresAt((day + 1) * DAY_MS) },
      }),
    );
  }

  /** Moves a district's latest transition to `at` if it is later. A stored marker that is not an
   * instant (damaged, written by hand) is replaced, whatever it compares as: left, it could stand
   * "later" than every transition for good, and the signals would work the district's latest out
   * from its flow at every check. */
  private async advanceLast(district: string, at: string): Promise<void> {
    const key = { pk: 'last', sk: district };
    const setIf = (condition: string, values: Record<string, unknown>) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #at = :at',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at, ...values },
        }),
      );
    try {
      await setIf('attribute_not_exists(#at) OR #at < :at', {});
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Refused: a later transition is stored (the usual reason), or a marker that is no instant.
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const stored: unknown = Item?.at;
    if (stored === undefined || isStoredInstant(stored)) return;
    try {
      // Replaced only while it is still the marker read (a writer meanwhile wrote an instant).
      await setIf(
        typeof stored === 'string' ? '#at = :seen' : 'NOT attribute_type(#at, :string)',
        typeof stored === 'string' ? { ':seen': stored } : { ':string': 'S' },
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Changed meanwhile to an instant: moved as usual.
      await this.advanceLast(district, at);
    }
  }

  private async lowerSince(district: string, day: number): Promise<void> {
    const known = this.sinceAtMost.get(district);
    if (known !== undefined && known <= day) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'since', sk: district },
          UpdateExpression: 'SET #day = :day',
          ConditionExpression: 'attribute_not_exists(#day) OR #day > :day',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': dayText(day) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    this.sinceAtMost.set(district, Math.min(known ?? day, day));
  }

  // ---- reading ----

  /** The first day of flow history of each district; a marker that is not a date is unreadable. */
  async since(): Promise<FlowMarkers<number>> {
    return this.markers('since', (item) => {
      const day = isoDate.safeParse(item.day);
      return day.success ? epochDay(day.data) : undefined;
    });
  }

  /** The latest transition (instant) of each district; a marker that is not an instant as stored is
   * unreadable (the next transition recorded replaces it). */
  async lastTransitions(): Promise<FlowMarkers<string>> {
    return this.markers('last', (item) => (isStoredInstant(item.at) ? item.at : undefined));
  }

  private async markers<T>(
    pk: string,
    read: (item: Record<string, unknown>) => T | undefined,
  ): Promise<FlowMarkers<T>> {
    const markers: FlowMarkers<T> = { values: new Map(), unreadable: [] };
    for (const item of await this.queryAll({ pk })) {
      const district = String(item.sk);
      const value = read(item);
      if (value === undefined) markers.unreadable.push(district);
      else markers.values.set(district, value);
    }
    return markers;
  }

  /** A district's flow for each day from `fromDay` to `toDay`. Days at least OPEN_DAYS old are
   * read from their count items, built (or rebuilt) from their transitions when missing or stale;
   * newer days straight from their transitions. `seal: false` (a display: `flow show`, `signals
   * status`) reads the same but writes no count item, so it needs no write access. */
  async days(
    district: string,
    fromDay: number,
    toDay: number,
    nowMs: number,
    options: DaysOptions = {},
  ): Promise<FlowDays> {
    const settledUntil = londonDay(nowMs) - OPEN_DAYS;
    const stored = new Map<number, z.infer<typeof countItemSchema>>();
    if (fromDay <= Math.min(toDay, settledUntil)) {
      const items = await this.queryAll({
        pk: dayPk(district),
        from: dayText(fromDay),
        to: dayText(Math.min(toDay, settledUntil)),
      });
      for (const item of items) {
        const parsed = countItemSchema.safeParse(item);
        if (parsed.success) stored.set(epochDay(parsed.data.sk), parsed.data);
      }
    }
    let invalid = 0;
    const days = await Promise.all(
      Array.from({ length: Math.max(0, toDay - fromDay + 1) }, (_, i) => fromDay + i).map((day) =>
        this.limit(async (): Promise<DayFlow> => {
          const item = stored.get(day);
          const marks = item?.marks ?? 0;
          if (day <= settledUntil && item?.sealedMarks === marks && item.counts && item.hours) {
            return {
              day,
              counts: item.counts,
              hours: item.hours,
              ...(item.last ? { last: item.last } : {}),
            };
          }
          const read = await this.readTransitions(district, day, options.until);
          invalid += read.invalid;
          if (day <= settledUntil && options.seal !== false)
            await this.seal(district, day, read.flow, marks, item?.marks !== undefined);
          return read.flow;
        }),
      ),
    );
    return { days, invalid };
  }

  /** A day's flow from its transition items (those up to `until`, ms, if given). */
  async readTransitions(
    district: string,
    day: number,
    until?: number,
  ): Promise<{ flow: DayFlow; invalid: number }> {
    const flow = emptyDayFlow(day);
    let invalid = 0;
    const transitions: Transition[] = [];
    for (const item of await this.queryAll({ pk: transitionPk(district, day) })) {
      const parsed = transitionSchema.safeParse(item);
      if (!parsed.success || parsed.data.district !== district) invalid += 1;
      else if (until === undefined || Date.parse(parsed.data.at) <= until) transitions.push(parsed.data);
    }
    return { flow: addToDay(flow, transitions), invalid };
  }

  /** Writes a day's count item, unless a transition was marked meanwhile (then the next read
   * builds it again). */
  private async seal(district: string, day: number, flow: DayFlow, marks: number, marked: boolean) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: dayPk(district), sk: dayText(day) },
          UpdateExpression: `SET counts = :counts, hours = :hours, sealedMarks = :marks, expiresAt = :expires${flow.last ? ', #last = :last' : ''}`,
          ConditionExpression: marked ? 'marks = :marks' : 'attribute_not_exists(marks)',
          ...(flow.last ? { ExpressionAttributeNames: { '#last': 'last' } } : {}),
          ExpressionAttributeValues: {
            ':counts': flow.counts,
            ':hours': flow.hours,
            ':marks': marks,
            ':expires': expiresAt((day + 1) * DAY_MS),
            ...(flow.last ? { ':last': flow.last } : {}),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async queryAll(key: {
    pk: string;
    from?: string;
    to?: string;
  }): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: key.from !== undefined ? 'pk = :pk AND sk BETWEEN :from AND :to' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': key.pk,
          ...(key.from !== undefined ? { ':from': key.from, ':to': key.to } : {}),
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await this.client.send(new QueryCommand(input));
      out.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

const expiresAt = (fromMs: number) => Math.floor(fromMs / 1000) + FLOW_RETENTION_DAYS * 86_400;

function transitionItem(t: Transition, day: number, nowMs: number): Record<string, unknown> {
  return {
    pk: transitionPk(t.district, day),
    sk: transitionId(t),
    caseRef: t.caseRef,
    district: t.district,
    category: t.category,
    riskLevel: t.riskLevel,
    childrenInvolved: t.childrenInvolved,
    from: t.from,
    to: t.to,
    at: t.at,
    recordedAt: new Date(nowMs).toISOString(),
    expiresAt: expiresAt(Math.max(Date.parse(t.at), nowMs)),
  };
}
