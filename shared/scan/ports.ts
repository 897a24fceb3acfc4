// The scan's ports: where open cases come from, the alert ledger, the message sink and the
// disclosure log. Adapters for DynamoDB and SNS live in shared/adapters; tests and the local run
// plug in their own.

import type { Level } from '../config/schema.ts';
import type { MessageKind } from '../delivery/subscriptions.ts';

/** Pages of raw items from the open-cases index (validated by the scan, not trusted). */
export interface OpenCaseSource {
  pages(): AsyncIterable<readonly Record<string, unknown>[]>;
}

/** What the ledger remembers of one case notified to one audience. */
export interface LedgerCase {
  /** The level last notified. */
  level: Level;
  /** The stageEnteredAt of the stage that was notified: a new stage is a new episode. */
  episode: string;
  /** When it was last successfully notified (ms). */
  notifiedAt: number;
}

/** The ledger keeps one record per audience, district and shard (cases spread over a few shards
 * by reference, so a record stays far below DynamoDB's item size limit). */
export interface LedgerShard {
  group: string;
  audience: string;
  district: string;
  shard: number;
  version: number;
  cases: Map<string, LedgerCase>;
  /** A run sending from this shard now, and until when (ms) its claim holds. */
  claim?: { runId: string; leaseUntil: number };
}

export interface LedgerStore {
  loadAll(): Promise<LedgerShard[]>;
  /** Claims a shard for this run: succeeds only if it is still at `expectedVersion` (or absent,
   * when undefined). Returns the claimed shard's new version, or undefined if another run won. */
  claim(
    shard: Pick<LedgerShard, 'group' | 'audience' | 'district' | 'shard'>,
    expectedVersion: number | undefined,
    claim: { runId: string; leaseUntil: number },
  ): Promise<number | undefined>;
  /** Replaces a claimed shard with what was sent (clearing the claim), conditional on the claimed
   * version; an empty shard is deleted. False if the claim was lost meanwhile. */
  complete(shard: LedgerShard, claimedVersion: number, expiresAtMs: number): Promise<boolean>;
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
