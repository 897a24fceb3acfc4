// Acknowledgement links in memory, with the same conditional rules as the DynamoDB store: for unit
// tests and in-process runs.

import type { AckLinkRecord, AckLinkStore } from '../ack/ports.ts';

const copy = (r: AckLinkRecord): AckLinkRecord => structuredClone(r);

export class MemoryAckLinkStore implements AckLinkStore {
  readonly links = new Map<string, AckLinkRecord>();
  /** Which press used each used link, and the presses whose use was given back. */
  private readonly usedBy = new Map<string, string>();
  private readonly cancelled = new Set<string>();

  async put(record: AckLinkRecord): Promise<boolean> {
    if (this.links.has(record.tokenHash)) return false;
    const { usedAtMs: _unused, ...fresh } = copy(record);
    this.links.set(record.tokenHash, fresh);
    return true;
  }

  async get(tokenHash: string): Promise<AckLinkRecord | undefined> {
    const stored = this.links.get(tokenHash);
    return stored ? copy(stored) : undefined;
  }

  async consume(tokenHash: string, nowMs: number, use: string): Promise<boolean> {
    const stored = this.links.get(tokenHash);
    if (!stored || stored.expiresAtMs <= nowMs || this.cancelled.has(use)) return false;
    if (stored.usedAtMs !== undefined) return this.usedBy.get(tokenHash) === use;
    stored.usedAtMs = nowMs;
    this.usedBy.set(tokenHash, use);
    return true;
  }

  async release(tokenHash: string, use: string): Promise<void> {
    const stored = this.links.get(tokenHash);
    if (stored) this.cancelled.add(use);
    if (stored && this.usedBy.get(tokenHash) === use) {
      delete stored.usedAtMs;
      this.usedBy.delete(tokenHash);
    }
  }
}
