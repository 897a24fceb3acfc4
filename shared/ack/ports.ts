// The acknowledgement page's ports: where links are kept (DynamoDB in AWS, memory in tests). The
// acknowledgement itself goes through the scan's AckStore, and its disclosure-log entry through the
// scan's AuditLog.

import type { AlertLine } from '../domain/alert-line.ts';
import type { Level } from '../domain/levels.ts';
import type { CallOptions } from '../scan/ports.ts';

/** One acknowledgement link: everything it acknowledges and the page shows, bound at send time. */
export interface AckLinkRecord {
  /** SHA-256 (hex) of the token: the token itself is never stored. */
  tokenHash: string;
  audience: string;
  /** The audience's description from the config, for people. */
  audienceName: string;
  place: string;
  placeName: string;
  /** What the disclosure log records the acknowledgement under (the place's districts and
   * local authorities). */
  district: string | string[];
  localAuthority: string | string[];
  channel: 'sms' | 'email';
  /** The run that sent the message, and when it was sent: the acknowledgement covers what had been
   * notified by then. */
  runId: string;
  sentAtMs: number;
  expiresAtMs: number;
  /** The cases the message listed at each level (age as of sending), and how many it counted. */
  sections: Partial<Record<Level, { count: number; lines: AlertLine[] }>>;
  /** How long acknowledging pauses reminders, per listed level (from the config at send time, so the
   * page says exactly what the button will do). */
  pauseMs: Partial<Record<Level, number>>;
  /** Of the listed levels, those the audience is reminded of (absent in links made before it was
   * kept: taken as every listed level). An audience never reminded acknowledges to say it owns the
   * cases, not to pause anything. */
  remindedAt?: Level[];
  /** The case system (needs sign-in). */
  linkBase: string;
  /** Set when the link was used (ms). */
  usedAtMs?: number;
}

/** A stored link that cannot be read back (a damaged or foreign item). */
export class AckLinkUnreadableError extends Error {
  override name = 'AckLinkUnreadableError';
}

export interface AckLinkStore {
  /** Stores a new link; false if its key is already taken (nothing is overwritten). */
  put(record: AckLinkRecord): Promise<boolean>;
  /** The link stored under this hash, if any (strongly consistent); throws AckLinkUnreadableError
   * for an item that is not a valid link. */
  get(tokenHash: string, options?: CallOptions): Promise<AckLinkRecord | undefined>;
  /** Marks the link used at `nowMs` by the press `use` (an id of its own), only if it exists, has
   * not expired and is unused or already used by that same press: one conditional write, so two
   * presses can never both acknowledge, while a retried write of one press (its reply lost) still
   * finds it was that press's. False if it did not hold. */
  consume(tokenHash: string, nowMs: number, use: string, options?: CallOptions): Promise<boolean>;
  /** Undoes `consume` (only the press `use`) when the acknowledgement could not be stored, so the
   * person can press again; the press is cancelled too, so that its use, if it arrives later, is
   * refused. */
  release(tokenHash: string, use: string, options?: CallOptions): Promise<void>;
}
