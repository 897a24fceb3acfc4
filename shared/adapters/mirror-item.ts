// How a case record is stored in the mirror table, and read back from the open-cases index.

import { type CaseRecord, caseFields, isOpenStage } from '../domain/case.ts';
import { FROM_NEW, type FromStage, transitionOf } from '../domain/flow.ts';
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
  /** The stage of the version this one replaced (`new`: none), written in the same request: a
   * retried message finds the transition it made here (see transitionOfStored). */
  priorStage?: FromStage;
}

/** Attributes a mirror item may carry besides the case fields; a write sets or removes each. */
export const MIRROR_BOOKKEEPING = [
  OPEN_SHARD_ATTRIBUTE,
  LEGACY_OPEN_ATTRIBUTE,
  'sourceSequence',
  'mirroredAt',
] as const;

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

/** The transition the stored version made when it was written (undefined: none, or an item
 * written before the mirror kept its prior stage). A retried or replayed message whose version
 * is already stored records this again, which is harmless (transitions are stored once) and
 * closes the gap of a function that died between the mirror write and the flow write. */
export function transitionOfStored(item: Pick<MirrorItem, 'priorStage' | 'mirroredAt'> & CaseRecord) {
  if (item.priorStage === undefined) return undefined;
  const before = item.priorStage === FROM_NEW ? undefined : { stage: item.priorStage };
  return transitionOf(before, caseFields(item), Date.parse(item.mirroredAt));
}
