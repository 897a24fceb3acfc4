// What the ingest use case and the bulk import need from the outside world, as small interfaces:
// the DynamoDB adapters implement them, and the unit tests hand in fakes.

import type { Transition } from '../domain/flow.ts';
import type { RejectCode, VersionedRecord } from './change.ts';
import type { ApplyOutcome } from './ordering.ts';

/** The mirror, as the ingest path writes it: conditional on the ordering rule. */
export interface MirrorStore {
  apply(change: VersionedRecord, nowMs: number): Promise<ApplyOutcome>;
}

/** Where the stage transitions the mirror makes are counted. Recording is idempotent: a
 * transition recorded again (a retry, a replay) is stored once. */
export interface FlowRecorder {
  record(transitions: readonly Transition[], nowMs: number): Promise<void>;
}

/** A feed message that can never be applied, kept where an engineer can find and replay it. */
export interface RejectedMessage {
  messageId: string;
  code: RejectCode;
  reason: string;
  caseRef?: string;
  /** Only the schema fields of the raw message, long values cut (see schemaFieldsOf). */
  fields?: Record<string, unknown>;
  /** Length of the raw body, to match it against the source when nothing could be parsed. */
  bodyLength: number;
  rejectedAtMs: number;
}

export interface RejectStore {
  record(reject: RejectedMessage): Promise<void>;
}

export interface IngestStateStore {
  /** Records the time of the last batch that changed a case in the mirror (not one of repeats). */
  recordIngest(atMs: number): Promise<void>;
}

export interface IngestLogger {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface IngestMetrics {
  addMetric(name: string, unit: 'Count', value: number): void;
}
