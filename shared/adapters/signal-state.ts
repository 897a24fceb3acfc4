// Signal state in the state table: one small item per series (`signal#<id>#<district or *>`),
// read together with one BatchGetItem a run. A malformed item reads as "not raised" (the next
// raise announces itself again), never as an error that stops the signals. A run claims a series
// with a write conditional on the version it read before sending for it, and releases it with its
// new state conditional on the claim (as the scan's alert ledger does), so two runs at once never
// both send for one series. Reads are strongly consistent and never cached: a copy kept by a warm
// container would miss another container's writes. Beside them, one item records the last London
// day whose daily judgement (rates and shares) completed.

import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod.ts';
import type { SignalClaim, SignalState, SignalStateStore } from '../signals/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import { nextVersion, versionCondition, versionOf } from './versions.ts';

const PREFIX = 'signal#';
/** The record of the last London day whose daily judgement completed (outside PREFIX: no series). */
const DAILY_COMPLETED = 'signals-daily-completed';
const dailySchema = z.object({ day: z.iso.date() });

const stateSchema = z.object({
  raised: z.boolean(),
  raisedAt: z.optional(z.string()),
  sentAt: z.optional(z.string()),
  clearedAt: z.optional(z.string()),
  claim: z.optional(z.object({ runId: z.string(), leaseUntil: z.number() })),
});

/** What a record stores of a state (its version and claim are written by the store). */
const attributes = ({ raised, raisedAt, sentAt, clearedAt }: SignalState) => ({
  raised,
  ...(raisedAt !== undefined ? { raisedAt } : {}),
  ...(sentAt !== undefined ? { sentAt } : {}),
  ...(clearedAt !== undefined ? { clearedAt } : {}),
});

export class DynamoSignalStates implements SignalStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(names: readonly string[]): Promise<Map<string, SignalState>> {
    const out = new Map<string, SignalState>();
    for (let i = 0; i < names.length; i += 100) {
      let keys: Array<Record<string, unknown>> = names
        .slice(i, i + 100)
        .map((n) => ({ name: `${PREFIX}${n}` }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`${keys.length} signal states still unread after retries`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const response = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) {
          const parsed = stateSchema.safeParse(item);
          const name = String(item.name).slice(PREFIX.length);
          // Unreadable: not raised, at the version it holds, so it can still be claimed and written.
          out.set(name, { ...(parsed.success ? parsed.data : { raised: false }), version: versionOf(item) });
        }
        keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return out;
  }

  async claim(name: string, read: SignalState, claim: SignalClaim): Promise<number | undefined> {
    const version = nextVersion(read.version);
    const condition = versionCondition(read.version, 'name');
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...attributes(read), name: `${PREFIX}${name}`, version, claim },
          ...condition,
        }),
      );
      return version;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Refused: by another run's write, or by this run's own, made by an attempt whose reply was
      // lost and then retried. Its own claim is this run's to use.
      const item = await this.stored(name);
      const own = item?.claim as Partial<SignalClaim> | undefined;
      return item?.version === version && own?.runId === claim.runId && own?.leaseUntil === claim.leaseUntil
        ? version
        : undefined;
    }
  }

  async release(name: string, state: SignalState, claimedVersion: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...attributes(state), name: `${PREFIX}${name}`, version: claimedVersion + 1 },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': claimedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // This run's own release, retried after a lost reply, finds the version it wrote and no claim.
      const item = await this.stored(name);
      return item?.version === claimedVersion + 1 && item.claim === undefined;
    }
  }

  async dailyCompleted(): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { name: DAILY_COMPLETED }, ConsistentRead: true }),
    );
    const parsed = dailySchema.safeParse(Item);
    return parsed.success ? parsed.data.day : undefined;
  }

  async completeDaily(day: string): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { name: DAILY_COMPLETED, day } }),
    );
  }

  /** A series' record as stored now (strongly consistent). */
  private async stored(name: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { name: `${PREFIX}${name}` }, ConsistentRead: true }),
    );
    return Item;
  }
}

export class MemorySignalStates implements SignalStateStore {
  readonly states = new Map<string, SignalState>();

  async load(names: readonly string[]): Promise<Map<string, SignalState>> {
    return new Map(
      names.flatMap((n) => {
        const state = this.states.get(n);
        return state ? [[n, { ...state }]] : [];
      }),
    );
  }

  async claim(name: string, read: SignalState, claim: SignalClaim): Promise<number | undefined> {
    if (this.states.get(name)?.version !== read.version) return undefined;
    const version = nextVersion(read.version);
    this.states.set(name, { ...attributes(read), version, claim });
    return version;
  }

  async release(name: string, state: SignalState, claimedVersion: number): Promise<boolean> {
    if (this.states.get(name)?.version !== claimedVersion) return false;
    this.states.set(name, { ...attributes(state), version: claimedVersion + 1 });
    return true;
  }

  /** The last London day whose daily judgement completed. */
  dailyDay: string | undefined;

  async dailyCompleted(): Promise<string | undefined> {
    return this.dailyDay;
  }

  async completeDaily(day: string): Promise<void> {
    this.dailyDay = day;
  }

  /** Stores a state as it is, unclaimed (to set one up). */
  async save(name: string, state: SignalState): Promise<void> {
    this.states.set(name, { ...attributes(state), version: nextVersion(this.states.get(name)?.version) });
  }
}
