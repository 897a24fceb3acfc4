// An in-memory alert ledger with the same conditional-write rules as the DynamoDB one: for
// `evaluate` (a preview that assumes nothing was sent before), unit tests and benchmarks.

import type { ShardRef } from '../domain/shards.ts';
import { ackId, groupStateId } from '../scan/ledger-keys.ts';
import type {
  AckStore,
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

const copyShard = (s: CaseShard): CaseShard => ({ ...s, cases: new Map(s.cases) });
const copyGroup = (g: GroupState): GroupState => ({ ...g, lastSentAt: { ...g.lastSentAt } });

export class MemoryLedger implements LedgerStore, AckStore {
  readonly shards = new Map<string, CaseShard>();
  readonly groups = new Map<string, GroupState>();
  readonly acks = new Map<string, GroupAck>();

  async loadGroups(keys: readonly GroupKey[]): Promise<GroupsSnapshot> {
    const snapshot: GroupsSnapshot = { groups: new Map(), acks: new Map(), unreadable: 0 };
    for (const { audience, place } of keys) {
      const group = this.groups.get(groupStateId(audience, place));
      if (group) snapshot.groups.set(group.id, copyGroup(group));
      const ack = this.acks.get(ackId(audience, place));
      if (ack) snapshot.acks.set(ackId(audience, place), { ...ack, until: { ...ack.until } });
    }
    return snapshot;
  }

  async loadCaseShards(shard: ShardRef, audiences: readonly string[]): Promise<CaseShardsSnapshot> {
    const wanted = new Set(audiences);
    const inShard = (s: CaseShard) =>
      !('district' in shard) || (s.district === shard.district && wanted.has(s.audience));
    return {
      shards: new Map([...this.shards].filter(([, s]) => inShard(s)).map(([id, s]) => [id, copyShard(s)])),
      unreadable: 0,
    };
  }

  async claimGroup(
    key: GroupKey,
    expectedVersion: number | undefined,
    claim: Claim,
  ): Promise<number | undefined> {
    const id = groupStateId(key.audience, key.place);
    const stored = this.groups.get(id);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion)
      return undefined;
    const version = (expectedVersion ?? 0) + 1;
    this.groups.set(id, {
      id,
      audience: key.audience,
      place: key.place,
      version,
      lastSentAt: { ...(stored?.lastSentAt ?? {}) },
      ...(stored?.lastMessageAt !== undefined ? { lastMessageAt: stored.lastMessageAt } : {}),
      ...(stored?.threadSince !== undefined ? { threadSince: stored.threadSince } : {}),
      claim,
    });
    return version;
  }

  async writeShard(shard: CaseShard, expectedVersion: number | undefined): Promise<boolean> {
    const stored = this.shards.get(shard.id);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion)
      return false;
    if (shard.cases.size === 0) this.shards.delete(shard.id);
    else this.shards.set(shard.id, { ...copyShard(shard), version: (expectedVersion ?? 0) + 1 });
    return true;
  }

  async releaseGroup(state: GroupState, claimedVersion: number): Promise<boolean> {
    const id = groupStateId(state.audience, state.place);
    if (this.groups.get(id)?.version !== claimedVersion) return false;
    const { claim: _released, ...rest } = copyGroup(state);
    this.groups.set(id, { ...rest, id, version: claimedVersion + 1 });
    return true;
  }

  async acknowledge(ack: GroupAck): Promise<void> {
    const id = ackId(ack.audience, ack.place);
    this.acks.set(id, mergeAcks(this.acks.get(id), ack));
  }

  /** Every case notified to an audience, across shards. */
  casesOf(audience: string): string[] {
    return [...this.shards.values()]
      .filter((s) => s.audience === audience)
      .flatMap((s) => [...s.cases.keys()]);
  }
}
