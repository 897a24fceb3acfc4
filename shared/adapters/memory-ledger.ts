// An in-memory alert ledger with the same conditional-write rules as the DynamoDB one: for fast
// unit tests of the scan's decisions and the benchmark's share-of-our-code figure.

import type { LedgerShard, LedgerStore } from '../scan/ports.ts';

export class MemoryLedger implements LedgerStore {
  readonly shards = new Map<string, LedgerShard>();

  async loadAll(): Promise<LedgerShard[]> {
    return [...this.shards.values()].map((s) => ({ ...s, cases: new Map(s.cases) }));
  }

  async claim(
    key: Pick<LedgerShard, 'group' | 'audience' | 'district' | 'shard'>,
    expectedVersion: number | undefined,
    claim: { runId: string; leaseUntil: number },
  ): Promise<number | undefined> {
    const stored = this.shards.get(key.group);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion)
      return undefined;
    const version = (expectedVersion ?? 0) + 1;
    this.shards.set(key.group, { ...key, version, cases: new Map(stored?.cases ?? []), claim });
    return version;
  }

  async complete(shard: LedgerShard, claimedVersion: number): Promise<boolean> {
    if (this.shards.get(shard.group)?.version !== claimedVersion) return false;
    if (shard.cases.size === 0) this.shards.delete(shard.group);
    else {
      const { claim: _released, ...rest } = shard;
      this.shards.set(shard.group, { ...rest, version: claimedVersion + 1, cases: new Map(shard.cases) });
    }
    return true;
  }

  /** Every case notified to an audience, across shards. */
  casesOf(audience: string): string[] {
    return [...this.shards.values()]
      .filter((s) => s.audience === audience)
      .flatMap((s) => [...s.cases.keys()]);
  }
}
