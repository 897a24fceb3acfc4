// An in-memory alert ledger with the same conditional-write rules as the DynamoDB one: for
// `evaluate` (a preview that assumes nothing was sent before), unit tests and benchmarks.

import { ackId, groupStateId } from '../scan/ledger-keys.ts';
import type {
  AckStore,
  CaseShard,
  Claim,
  GroupAck,
  GroupKey,
  GroupState,
  LedgerSnapshot,
  LedgerStore,
} from '../scan/ports.ts';
import { mergeAcks } from '../scan/ports.ts';

const copyShard = (s: CaseShard): CaseShard => ({ ...s, cases: new Map(s.cases) });
const copyGroup = (g: GroupState): GroupState => ({ ...g, lastSentAt: { ...g.lastSentAt } });

export class MemoryLedger implements LedgerStore, AckStore {
  readonly shards = new Map<string, CaseShard>();
  readonly groups = new Map<string, GroupState>();
  readonly acks = new Map<string, GroupAck>();

  async load(): Promise<LedgerSnapshot> {
    return {
      shards: new Map([...this.shards].map(([id, s]) => [id, copyShard(s)])),
      groups: new Map([...this.groups].map(([id, g]) => [id, copyGroup(g)])),
      acks: new Map([...this.acks].map(([id, a]) => [id, { ...a, until: { ...a.until } }])),
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
