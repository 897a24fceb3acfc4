// How the alert ledger's records are named: one home for the ids every ledger (DynamoDB, memory)
// and the acknowledgement function use. Audience ids are lower-case letters, digits and dashes,
// so '/' and '#' never occur inside one.

/** Shards per audience and district. Small shards keep each conditional write cheap (DynamoDB
 * bills writes by item size) while a run touches only the shards with something to record; at
 * ~60 bytes a case, one audience can have 100,000 alerting cases in one district. */
export const LEDGER_SHARDS = 16;

/** Which shard a case's ledger record lives in (FNV-1a of the reference). */
export function ledgerShardOf(caseRef: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < caseRef.length; i++) {
    hash ^= caseRef.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % LEDGER_SHARDS;
}

/** A case shard: the cases notified to an audience in a district (the first ledger's format). */
export const caseShardId = (audience: string, district: string, shard: number) =>
  `${audience}#${district}#${shard}`;

export const groupStateId = (audience: string, place: string) => `groups/${audience}/${place}`;
export const ackId = (audience: string, place: string) => `acks/${audience}/${place}`;
