// How a case record is stored in the mirror table, and read back from the open-cases index.

import { type CaseRecord, isOpenStage } from '../domain/case.ts';
import { openShardKey } from '../domain/shards.ts';
import { LEGACY_OPEN_ATTRIBUTE, LEGACY_OPEN_VALUE, OPEN_SHARD_ATTRIBUTE } from './tables.ts';

export interface MirrorItem extends CaseRecord {
  /** Present only while the case is open: puts it in its district's part of the open-cases index. */
  [OPEN_SHARD_ATTRIBUTE]?: string;
  /** The same for the first release's index, written while a deployment may still be migrating. */
  [LEGACY_OPEN_ATTRIBUTE]?: typeof LEGACY_OPEN_VALUE;
  /** Optional source sequence number, for feeds that have one (breaks sourceUpdatedAt ties). */
  sourceSequence?: number;
  /** When the mirror last changed this item (ISO 8601). */
  mirroredAt: string;
}

export function toMirrorItem(record: CaseRecord, mirroredAtMs: number, sourceSequence?: number): MirrorItem {
  return {
    ...record,
    ...(isOpenStage(record.stage)
      ? {
          [OPEN_SHARD_ATTRIBUTE]: openShardKey(record.district),
          [LEGACY_OPEN_ATTRIBUTE]: LEGACY_OPEN_VALUE,
        }
      : {}),
    ...(sourceSequence !== undefined ? { sourceSequence } : {}),
    mirroredAt: new Date(mirroredAtMs).toISOString(),
  };
}
