// The scan's ports: where open cases come from, the alert ledger, the message sink and the
// disclosure log. Adapters for DynamoDB and SNS live in shared/adapters; tests and the local run
// plug in their own.

import type { Level } from '../config/schema.ts';
import type { MessageKind } from '../delivery/subscriptions.ts';

/** Pages of raw items from the open-cases index (validated by the scan, not trusted). */
export interface OpenCaseSource {
  pages(): AsyncIterable<readonly Record<string, unknown>[]>;
}

/** What the ledger remembers per case and audience. */
export interface LedgerEntry {
  caseRef: string;
  audience: string;
  district: string;
  /** The level last notified (or being notified, while pending). */
  level: Level;
  /** The stageEnteredAt of the stage that was notified: a new stage is a new episode. */
  episode: string;
  /** When the level was last successfully notified (ms), absent for a first claim. */
  notifiedAt?: number;
  state: 'pending' | 'sent';
  /** The run holding a pending claim, and until when (ms). */
  runId: string;
  leaseUntil: number;
  version: number;
  messageId?: string;
}

export interface LedgerStore {
  loadAll(): Promise<LedgerEntry[]>;
  /** Writes an entry only if the stored one still has `expectedVersion` (or, when undefined, no
   * entry exists): the conditional write that keeps concurrent runs from sending twice. */
  put(entry: LedgerEntry, expectedVersion: number | undefined, expiresAtMs: number): Promise<boolean>;
  /** Deletes an entry, conditional on its version. */
  remove(key: { caseRef: string; audience: string }, expectedVersion: number): Promise<boolean>;
}

export interface OutgoingMessage {
  kind: MessageKind;
  audience: string | readonly string[];
  district: string | readonly string[];
  localAuthority: string | readonly string[];
  level: Level | readonly Level[];
  categories: readonly string[];
  /** SMS body (one segment); absent for email-only messages. */
  sms?: string;
  email?: { subject: string; body: string };
}

export interface Publisher {
  /** Publishes and returns the message id; throws when the message was not accepted. */
  publish(message: OutgoingMessage): Promise<string>;
}

/** One disclosure (DPA 2018 s62): when, to whom, which cases, why. Never the text. */
export interface AuditEntry {
  sentAt: string;
  messageId: string;
  runId: string;
  kind: MessageKind;
  audience: string | readonly string[];
  district: string | readonly string[];
  localAuthority: string | readonly string[];
  level: Level | readonly Level[];
  caseRefs: readonly string[];
  resolvedCaseRefs: readonly string[];
  reason: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}
