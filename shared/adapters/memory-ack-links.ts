// Acknowledgement links in memory, with the same conditional rules as the DynamoDB store: for unit
// tests and in-process runs.

import type { AckLinkRecord, AckLinkStore } from '../ack/ports.ts';

const copy = (r: AckLinkRecord): AckLinkRecord => structuredClone(r);

export class MemoryAckLinkStore implements AckLinkStore {
  readonly links = new Map<string, AckLinkRecord>();

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

  async consume(tokenHash: string, nowMs: number): Promise<boolean> {
    const stored = this.links.get(tokenHash);
    if (!stored || stored.usedAtMs !== undefined || stored.expiresAtMs <= nowMs) return false;
    stored.usedAtMs = nowMs;
    return true;
  }

  async release(tokenHash: string, usedAtMs: number): Promise<void> {
    const stored = this.links.get(tokenHash);
    if (stored?.usedAtMs === usedAtMs) delete stored.usedAtMs;
  }
}
