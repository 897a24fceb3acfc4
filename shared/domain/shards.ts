// How open cases are spread for reading: by district. The mirror's open-cases index is keyed by
// the district (one index partition each, read in parallel), and the alert ledger keeps each
// district's records apart (per audience, in a few hash shards so each record stays small), so the
// scan works district by district (its cases and their ledger records together) with memory bounded
// by the districts in flight, not the queue.

/** Ledger records per audience and district: a record holds the cases of one hash shard, so one
 * audience can have ~100,000 alerting cases in one district and each record stays far below
 * DynamoDB's 400 KB item limit. */
export const LEDGER_SHARDS = 16;

/** A case's ledger shard within its district (FNV-1a of the reference). */
export function ledgerShardOf(caseRef: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < caseRef.length; i++) {
    hash ^= caseRef.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % LEDGER_SHARDS;
}

/** The open-cases index key of a district's open cases. */
export const openShardKey = (district: string) => district;

/** A part of the open cases to read on its own: one district, or (for a source that is not
 * sharded: a file, a list in memory, the legacy index) all of them at once. */
export type ShardRef = { id: string; district: string } | { id: 'all' };

export const ALL_SHARDS: ShardRef = { id: 'all' };

/** One shard per district. */
export const shardsOf = (districts: Iterable<string>): ShardRef[] =>
  [...districts].map((district) => ({ id: openShardKey(district), district }));
