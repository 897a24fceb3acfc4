// How a case record is stored in the mirror table, and read back from the open-cases index.

import { type CaseRecord, isOpenStage } from '../domain/case.ts';
import { OPEN_INDEX_ATTRIBUTE, OPEN_INDEX_VALUE } from './tables.ts';

export interface MirrorItem extends CaseRecord {
  /** Present only while the case is open: puts it in the sparse open-cases index. */
  [OPEN_INDEX_ATTRIBUTE]?: typeof OPEN_INDEX_VALUE;
  /** Optional source sequence number, for feeds that have one (breaks sourceUpdatedAt ties). */
  sourceSequence?: number;
  /** When the mirror last changed this item (ISO 8601). */
  mirroredAt: string;
}

export function toMirrorItem(record: CaseRecord, mirroredAtMs: number, sourceSequence?: number): MirrorItem {
  return {
    ...record,
    ...(isOpenStage(record.stage) ? { [OPEN_INDEX_ATTRIBUTE]: OPEN_INDEX_VALUE } : {}),
    ...(sourceSequence !== undefined ? { sourceSequence } : {}),
    mirroredAt: new Date(mirroredAtMs).toISOString(),
  };
}
