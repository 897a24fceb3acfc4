// The alert ledger in DynamoDB: case shards (the cases notified to an audience in a district, their
// level and episode), group states (when each level last went to an audience at a place, and a
// run's claim) and acknowledgements. Every write by a run is conditional on a version, so two runs
// can never both send for the same group.

import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { LEVELS, type Level } from '../domain/levels.ts';
import { LEDGER_SHARDS, type ShardRef } from '../domain/shards.ts';
import * as z from '../domain/zod.ts';
import { ackId, caseShardId, groupStateId } from '../scan/ledger-keys.ts';
import type {
  AckStore,
  CallOptions,
  CaseEntry,
  CaseShard,
  CaseShardsSnapshot,
  Claim,
  GroupAck,
  GroupKey,
  GroupState,
  GroupsSnapshot,
  LedgerStore,
} from '../scan/ports.ts';
import { mergeAcks } from '../scan/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import { nextVersion, versionCondition, versionOf } from './versions.ts';

// Stored compactly: a level as one letter, times as epoch milliseconds.
const LEVEL_CODE: Record<Level, 'w' | 'b' | 'e'> = { warning: 'w', breach: 'b', escalation: 'e' };
const CODE_LEVEL = Object.fromEntries(LEVELS.map((l) => [LEVEL_CODE[l], l])) as Record<string, Level>;

const storedCase = z.object({ l: z.enum(['w', 'b', 'e']), e: z.number(), n: z.number() });

/** A case shard's entries as one string, `<case>,<level code>,<episode ms>,<notified ms>` joined by
 * `;`: a single attribute to store and read, where a map of maps is four per case (the first
 * release's `cases`, still read). Case references hold neither separator. */
export function packEntries(cases: ReadonlyMap<string, CaseEntry>): string {
  const out: string[] = [];
  for (const [caseRef, c] of cases) {
    out.push(`${caseRef},${LEVEL_CODE[c.level]},${c.episodeMs},${c.notifiedAt}`);
  }
  return out.join(';');
}

/** The entries of a packed string, and how many of its parts could not be read as one (left out:
 * one damaged entry costs that case its state, not the cases beside it theirs). */
export function unpackEntries(packed: string): { cases: Map<string, CaseEntry>; unreadable: number } {
  const cases = new Map<string, CaseEntry>();
  let unreadable = 0;
  if (packed === '') return { cases, unreadable };
  for (const part of packed.split(';')) {
    const [caseRef, code, episode, notified, extra] = part.split(',');
    const level = CODE_LEVEL[code ?? ''];
    const e = Number(episode);
    const n = Number(notified);
    if (
      !caseRef ||
      !level ||
      extra !== undefined ||
      !Number.isFinite(e) ||
      !Number.isFinite(n) ||
      !episode ||
      !notified
    ) {
      unreadable += 1;
      continue;
    }
    cases.set(caseRef, { level, episodeMs: e, notifiedAt: n });
  }
  return { cases, unreadable };
}
const byLevel = z.object({
  w: z.optional(z.number()),
  b: z.optional(z.number()),
  e: z.optional(z.number()),
});
const storedShardKey = z.object({
  group: z.string(),
  audience: z.string(),
  district: z.string(),
  shard: z.int(),
  version: z.int(),
});
const storedShard = z.extend(storedShardKey, {
  packed: z.optional(z.string()),
  cases: z._default(z.record(z.string(), storedCase), {}),
});
const storedGroup = z.object({
  group: z.string().check(z.startsWith('groups/')),
  audience: z.string(),
  place: z.string(),
  version: z.int(),
  sent: z._default(byLevel, {}),
  lastMessageAt: z.optional(z.number()),
  threadSince: z.optional(z.number()),
  claim: z.optional(
    z.object({
      runId: z.string(),
      leaseUntil: z.number(),
      disclosing: z.optional(
        z.object({
          at: z.number(),
          caseRefs: z.array(z.string()),
          resolved: z.array(z.string()),
          levels: z.array(z.enum(LEVELS)),
        }),
      ),
    }),
  ),
});
const storedAck = z.object({
  group: z.string().check(z.startsWith('acks/')),
  audience: z.string(),
  place: z.string(),
  asOf: z.number(),
  at: z.number(),
  until: byLevel,
});

const encodeLevels = (values: Partial<Record<Level, number>>) => {
  const out: Partial<Record<'w' | 'b' | 'e', number>> = {};
  for (const level of LEVELS) {
    const value = values[level];
    if (value !== undefined) out[LEVEL_CODE[level]] = value;
  }
  return out;
};
const decodeLevels = (values: z.infer<typeof byLevel>) => {
  const out: Partial<Record<Level, number>> = {};
  for (const level of LEVELS) {
    const value = values[LEVEL_CODE[level]];
    if (value !== undefined) out[level] = value;
  }
  return out;
};

/** A group record's audience and place, from its id (`groups/<audience>/<place>`). */
function groupKeyOf(id: string): GroupKey | undefined {
  const [kind, audience, place, extra] = id.split('/');
  return kind === 'groups' && audience && place && extra === undefined ? { audience, place } : undefined;
}

/** A case record's audience, district and shard, from its id (`<audience>#<district>#<shard>`). */
function caseShardKeyOf(id: string): { audience: string; district: string; shard: number } | undefined {
  const [audience, district, shard, extra] = id.split('#');
  const n = Number(shard);
  return audience && district && shard && extra === undefined && Number.isInteger(n) && n >= 0
    ? { audience, district, shard: n }
    : undefined;
}

/** How long an acknowledgement is kept after its last pause ends: it still says someone owns the
 * cases it covers (the daily digest counts them acknowledged for as long as they wait), so as long
 * as the ledger keeps the cases' own records (30 days from their last change). One item per group. */
const ACK_KEPT_S = 30 * 86_400;

export class DynamoLedger implements LedgerStore, AckStore {
  /** Full reads of the table so far. */
  fullReads = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Reads one stored record into whichever part of a snapshot it belongs to. */
  private take(
    item: Record<string, unknown>,
    into: { groups?: GroupsSnapshot; cases?: CaseShardsSnapshot },
  ): void {
    const id = typeof item.group === 'string' ? item.group : '';
    const unreadable = () => {
      if (into.groups) into.groups.unreadable += 1;
      else if (into.cases) into.cases.unreadable += 1;
    };
    if (id.startsWith('groups/') || id.startsWith('acks/')) {
      if (!into.groups) return;
      if (id.startsWith('groups/')) {
        const parsed = storedGroup.safeParse(item);
        if (!parsed.success) {
          // Taken as never sent, under the key its id gives and the version it holds: its reminders
          // then count from when its cases were told (the case records), and its next message
          // writes the record anew. Left out, its claims would all fail and the group never be
          // told again.
          unreadable();
          const key = groupKeyOf(id);
          if (key) into.groups.groups.set(id, { id, ...key, version: versionOf(item), lastSentAt: {} });
          return;
        }
        const { group, sent, lastMessageAt, threadSince, claim, ...rest } = parsed.data;
        into.groups.groups.set(group, {
          id: group,
          ...rest,
          lastSentAt: decodeLevels(sent),
          ...(lastMessageAt !== undefined ? { lastMessageAt } : {}),
          ...(threadSince !== undefined ? { threadSince } : {}),
          ...(claim ? { claim } : {}),
        });
      } else {
        const parsed = storedAck.safeParse(item);
        if (!parsed.success) {
          unreadable();
          return;
        }
        const { group, until, ...rest } = parsed.data;
        into.groups.acks.set(group, { ...rest, until: decodeLevels(until) });
      }
      return;
    }
    if (!into.cases) return;
    const cases = into.cases;
    // A record whose cases cannot be read, counted, and taken as empty under the key its id gives
    // and the version it holds (DAMAGED_VERSION when that is not a number), so the next message to
    // its group writes it anew and its cases are news once, not at every run.
    const damaged = () => {
      unreadable();
      const key = caseShardKeyOf(id);
      if (key) cases.shards.set(id, { id, ...key, version: versionOf(item), cases: new Map() });
    };
    const parsed = storedShard.safeParse(item);
    if (!parsed.success) {
      damaged();
      return;
    }
    const { group, cases: firstRelease, packed, ...rest } = parsed.data;
    let map: Map<string, CaseEntry>;
    if (packed !== undefined) {
      // Some entries damaged: counted like a damaged record, and the rest kept, so those cases keep
      // their state (not news again) and their resolved lines when they leave.
      const unpacked = unpackEntries(packed);
      if (unpacked.unreadable > 0) unreadable();
      map = unpacked.cases;
    } else {
      map = new Map();
      for (const [caseRef, c] of Object.entries(firstRelease)) {
        map.set(caseRef, {
          level: CODE_LEVEL[c.l] as Level,
          episodeMs: c.e,
          notifiedAt: c.n,
        });
      }
    }
    cases.shards.set(group, { id: group, ...rest, cases: map });
  }

  /** Strongly consistent reads of these keys, 100 at a time, retrying what DynamoDB left over. */
  private async getAll(ids: readonly string[], each: (item: Record<string, unknown>) => void): Promise<void> {
    for (let start = 0; start < ids.length; start += 100) {
      let keys: Array<Record<string, unknown>> = ids.slice(start, start + 100).map((group) => ({ group }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
        if (attempt > 8)
          throw Object.assign(new Error('ledger reads left unprocessed'), { name: 'LedgerReadIncomplete' });
        const response = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) each(item);
        keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
  }

  async loadGroups(keys: readonly GroupKey[]): Promise<GroupsSnapshot> {
    const groups: GroupsSnapshot = { groups: new Map(), acks: new Map(), unreadable: 0 };
    const ids = keys.flatMap((k) => [groupStateId(k.audience, k.place), ackId(k.audience, k.place)]);
    await this.getAll(ids, (item) => this.take(item, { groups }));
    return groups;
  }

  async loadCaseShards(shard: ShardRef, audiences: readonly string[]): Promise<CaseShardsSnapshot> {
    const cases: CaseShardsSnapshot = { shards: new Map(), unreadable: 0 };
    if ('district' in shard) {
      const ids = audiences.flatMap((audience) =>
        Array.from({ length: LEDGER_SHARDS }, (_, h) => caseShardId(audience, shard.district, h)),
      );
      await this.getAll(ids, (item) => this.take(item, { cases }));
      return cases;
    }
    // Everything: for a source that is not sharded (the legacy index), or a ledger small enough
    // that one pass costs less than a read per district.
    this.fullReads += 1;
    for await (const page of paginateScan(
      { client: this.client },
      { TableName: this.tableName, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) this.take(item, { cases });
    }
    return cases;
  }

  async claimGroup(
    key: GroupKey,
    expectedVersion: number | undefined,
    claim: Claim,
  ): Promise<number | undefined> {
    const version = nextVersion(expectedVersion);
    const condition = versionCondition(expectedVersion, 'group');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { group: groupStateId(key.audience, key.place) },
          UpdateExpression: 'SET #claim = :claim, #version = :version, audience = :audience, place = :place',
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: {
            ...condition.ExpressionAttributeNames,
            '#claim': 'claim',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':claim': claim,
            ':version': version,
            ':audience': key.audience,
            ':place': key.place,
          },
        }),
      );
      return version;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Refused: by another run's write, or by this one's own, made by an attempt whose reply was
      // lost and then retried by the client. Its own claim is this run's to use.
      const stored = await this.storedGroup(key);
      const own = stored?.claim as Partial<Claim> | undefined;
      return stored?.version === version && own?.runId === claim.runId && own?.leaseUntil === claim.leaseUntil
        ? version
        : undefined;
    }
  }

  /** A group's record as stored now (strongly consistent), to tell a write of this run's from
   * another's after a refused condition. */
  private async storedGroup(key: GroupKey): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { group: groupStateId(key.audience, key.place) },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  async writeShard(
    shard: CaseShard,
    expectedVersion: number | undefined,
    expiresAtMs: number,
  ): Promise<boolean> {
    const id = caseShardId(shard.audience, shard.district, shard.shard);
    const condition = versionCondition(expectedVersion, 'group');
    const packed = packEntries(shard.cases);
    try {
      if (shard.cases.size === 0) {
        if (expectedVersion === undefined) return true;
        await this.client.send(
          new DeleteCommand({ TableName: this.tableName, Key: { group: id }, ...condition }),
        );
        return true;
      }
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            group: id,
            audience: shard.audience,
            district: shard.district,
            shard: shard.shard,
            version: nextVersion(expectedVersion),
            packed,
            expiresAt: Math.floor(expiresAtMs / 1000),
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Refused: by another run's write, or by this run's own, made by an attempt whose reply was
      // lost and then retried by the client. Its own write (the record gone, or at the version and
      // with the entries it wrote) is this run's, and the group is recorded as told.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { group: id }, ConsistentRead: true }),
      );
      return shard.cases.size === 0
        ? Item === undefined
        : Item?.version === nextVersion(expectedVersion) && Item.packed === packed;
    }
  }

  async releaseGroup(state: GroupState, claimedVersion: number, expiresAtMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            group: groupStateId(state.audience, state.place),
            audience: state.audience,
            place: state.place,
            version: claimedVersion + 1,
            sent: encodeLevels(state.lastSentAt),
            ...(state.lastMessageAt !== undefined ? { lastMessageAt: state.lastMessageAt } : {}),
            ...(state.threadSince !== undefined ? { threadSince: state.threadSince } : {}),
            expiresAt: Math.floor(expiresAtMs / 1000),
          },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': claimedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // This run's own release, retried after a lost reply, finds the version it wrote and no claim.
      const stored = await this.storedGroup(state);
      return stored?.version === claimedVersion + 1 && stored.claim === undefined;
    }
  }

  /** Adds an acknowledgement to the stored one for its audience and place (per level, the later
   * pause wins): read, merge, then write conditional on what was read, again if another write came
   * in between. */
  async acknowledge(ack: GroupAck, options?: CallOptions): Promise<void> {
    const key = { group: ackId(ack.audience, ack.place) };
    const abortSignal = options?.signal;
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
        { abortSignal },
      );
      const parsed = response.Item ? storedAck.safeParse(response.Item) : undefined;
      const stored = parsed?.success
        ? {
            audience: parsed.data.audience,
            place: parsed.data.place,
            asOf: parsed.data.asOf,
            at: parsed.data.at,
            until: decodeLevels(parsed.data.until),
          }
        : undefined;
      const merged = mergeAcks(stored, ack);
      const until = Math.max(...Object.values(merged.until), merged.at);
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...key,
              audience: merged.audience,
              place: merged.place,
              asOf: merged.asOf,
              at: merged.at,
              until: encodeLevels(merged.until),
              expiresAt: Math.floor(until / 1000) + ACK_KEPT_S,
            },
            ...(stored
              ? {
                  ConditionExpression: '#at = :at AND asOf = :asOf',
                  ExpressionAttributeNames: { '#at': 'at' },
                  ExpressionAttributeValues: { ':at': stored.at, ':asOf': stored.asOf },
                }
              : response.Item
                ? {} // an unreadable item: replaced
                : {
                    ConditionExpression: 'attribute_not_exists(#group)',
                    ExpressionAttributeNames: { '#group': 'group' },
                  }),
          }),
          { abortSignal },
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw Object.assign(new Error('acknowledgement kept changing under the write'), {
      name: 'AckWriteConflict',
    });
  }
}
