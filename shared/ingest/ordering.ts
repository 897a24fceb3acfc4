// The mirror's ordering rule, pure: which of two versions of a case is newer, and what applying a
// change to what is stored does. The DynamoDB writer, its in-memory fake and the bulk import all
// decide with these functions, so the feed and the import cannot disagree.
//
// A version is (sourceUpdatedAt, sourceSequence): the later instant wins; at the same instant the
// higher sequence wins, and a change without a sequence is older than one with any. Instants are
// compared as the normalised ISO strings the case schema produces (fixed width, UTC), which is
// what lets DynamoDB compare them in a condition expression.

import { CASE_FIELDS, type CaseRecord } from '../domain/case.ts';
import type { VersionedRecord } from './change.ts';

export interface Version {
  sourceUpdatedAt: string;
  sourceSequence?: number;
}

/** What applying a change did: written (created, updated) or not (unchanged: the same version
 * with the same content; stale: an older version; conflict: the same version, other content). */
/** `replaced`: the stored item could not be read as a case (no version to compare), so the valid
 * change was written over it (the DynamoDB mirror only; outcomeOver never plans it). */
export type ApplyOutcome = 'created' | 'updated' | 'unchanged' | 'stale' | 'conflict' | 'replaced';

export function compareVersions(a: Version, b: Version): number {
  if (a.sourceUpdatedAt !== b.sourceUpdatedAt) return a.sourceUpdatedAt < b.sourceUpdatedAt ? -1 : 1;
  return (a.sourceSequence ?? -1) - (b.sourceSequence ?? -1);
}

export function versionOf(change: VersionedRecord): Version {
  return {
    sourceUpdatedAt: change.record.sourceUpdatedAt,
    ...(change.sourceSequence !== undefined ? { sourceSequence: change.sourceSequence } : {}),
  };
}

export function sameCase(a: CaseRecord, b: CaseRecord): boolean {
  return CASE_FIELDS.every((field) => a[field] === b[field]);
}

/** The outcome of applying `incoming` over `stored` (undefined: no item yet). */
export function outcomeOver(stored: VersionedRecord | undefined, incoming: VersionedRecord): ApplyOutcome {
  if (!stored) return 'created';
  const order = compareVersions(versionOf(stored), versionOf(incoming));
  if (order < 0) return 'updated';
  if (order > 0) return 'stale';
  return sameCase(stored.record, incoming.record) ? 'unchanged' : 'conflict';
}

export const isWrite = (outcome: ApplyOutcome) => outcome === 'created' || outcome === 'updated';
