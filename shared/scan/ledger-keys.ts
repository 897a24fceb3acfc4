// How the alert ledger's records are named: one home for the ids every ledger (DynamoDB, memory)
// and the acknowledgement function use. Audience ids are lower-case letters, digits and dashes,
// so '/' and '#' never occur inside one.

/** A case shard: the cases of one open-cases shard (a district and number) notified to an audience. */
export const caseShardId = (audience: string, district: string, shard: number) =>
  `${audience}#${district}#${shard}`;

export const groupStateId = (audience: string, place: string) => `groups/${audience}/${place}`;
export const ackId = (audience: string, place: string) => `acks/${audience}/${place}`;
