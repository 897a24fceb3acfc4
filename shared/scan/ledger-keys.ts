// How the alert ledger's records are named, and which groups a config has: one home for the ids
// every ledger (DynamoDB, memory) and the acknowledgement function use. Audience ids are lower-case
// letters, digits and dashes, so '/' and '#' never occur inside one.

import type { CompiledConfig } from '../config/compile.ts';
import type { GroupKey } from './ports.ts';

/** A case shard: the cases of one open-cases shard (a district and number) notified to an audience. */
export const caseShardId = (audience: string, district: string, shard: number) =>
  `${audience}#${district}#${shard}`;

export const groupStateId = (audience: string, place: string) => `groups/${audience}/${place}`;
export const ackId = (audience: string, place: string) => `acks/${audience}/${place}`;

/** Every group the config can alert: each audience at each place of its scope. */
export function groupKeysOf(config: CompiledConfig): GroupKey[] {
  const districts = Object.keys(config.file.districts);
  return Object.keys(config.file.audiences).flatMap((audience) =>
    [...new Set(districts.map((d) => config.placeOf(audience, d)))].map((place) => ({ audience, place })),
  );
}
