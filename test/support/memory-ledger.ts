// An in-memory alert ledger with the same conditional-write rules as the DynamoDB one, for fast
// unit tests of the scan's decisions. The real adapter is covered against dynalite.

import type { LedgerEntry, LedgerStore } from '#shared/scan/ports.ts';

export class MemoryLedger implements LedgerStore {
  readonly entries = new Map<string, LedgerEntry>();

  async loadAll(): Promise<LedgerEntry[]> {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }

  async put(entry: LedgerEntry, expectedVersion: number | undefined): Promise<boolean> {
    const key = `${entry.caseRef}|${entry.audience}`;
    const stored = this.entries.get(key);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion)
      return false;
    this.entries.set(key, { ...entry });
    return true;
  }

  async remove(key: { caseRef: string; audience: string }, expectedVersion: number): Promise<boolean> {
    const k = `${key.caseRef}|${key.audience}`;
    if (this.entries.get(k)?.version !== expectedVersion) return false;
    this.entries.delete(k);
    return true;
  }
}
