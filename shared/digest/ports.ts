// The daily picture's own ports: which digests went out (claimed before sending, so a retried or
// overlapping run never sends one twice), the small daily snapshots the trend compares against, and
// the feed's health. The open cases, the alert ledger, delivery and the disclosure log come through
// the scan's ports (shared/scan/ports.ts).

/** A digest group's record: the day it was last claimed or sent for. */
export interface DigestMark {
  /** The London date (YYYY-MM-DD) of the digest it is about. */
  day: string;
  /** Set once that day's digest was published. */
  sentAt?: number;
  messageId?: string;
  /** The run that claimed it, and until when its claim holds (absent once released or sent). */
  runId?: string;
  leaseUntil?: number;
  /** What the claiming run was about to disclose (absent once released or sent): should it stop
   * after publishing, the run that takes over logs this as possibly sent. */
  disclosing?: Disclosing;
}

export interface Disclosing {
  at: number;
  caseRefs: string[];
}

/** A run's hold on a group's digest while it sends it. */
export interface DigestClaim {
  runId: string;
  leaseUntil: number;
  disclosing: Disclosing;
}

/** Counts for one district on one day: all the trend needs, and nothing about any case. */
export interface DistrictSnapshot {
  open: number;
  high: number;
  medium: number;
  standard: number;
  warning: number;
  breach: number;
  escalation: number;
  oldestAgeMs: number;
}

/** Snapshots by London date, then by district. */
export type DigestHistory = Record<string, Record<string, DistrictSnapshot>>;

export interface DigestStore {
  /** The records of these groups (audience@place); a group never sent has none. */
  marks(groups: readonly string[]): Promise<Map<string, DigestMark>>;
  /** Claims a group's digest for `day`: succeeds unless that day's digest was sent, or another run
   * holds an unexpired claim on it. */
  claim(group: string, day: string, claim: DigestClaim, nowMs: number): Promise<boolean>;
  /** Records that this run's claimed digest went out. False if the claim was lost meanwhile. */
  sent(group: string, day: string, runId: string, messageId: string, atMs: number): Promise<boolean>;
  /** Gives up this run's claim (the digest was not sent), so the next run can send it. */
  release(group: string, day: string, runId: string): Promise<void>;
  /** The stored snapshots; `unreadable` when the stored record could not be read (then empty). */
  history(): Promise<{ days: DigestHistory; unreadable: boolean }>;
  saveHistory(days: DigestHistory): Promise<void>;
}

/** When the feed last delivered a change the mirror applied (the state table's `ingest` item). */
export interface FeedHealth {
  lastIngestAt(): Promise<number | undefined>;
}
