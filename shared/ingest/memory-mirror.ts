// An in-memory mirror with the DynamoDB writer's conditional-write semantics (read, decide with the
// ordering rule and write as one step, as a conditional PutItem does): for unit tests and
// simulations that need no database.

import { type MirrorItem, toMirrorItem } from '../adapters/mirror-item.ts';
import { caseFields } from '../domain/case.ts';
import type { VersionedRecord } from './change.ts';
import { type ApplyOutcome, isWrite, outcomeOver } from './ordering.ts';
import type { MirrorStore } from './ports.ts';

export class MemoryMirror implements MirrorStore {
  readonly items = new Map<string, MirrorItem>();

  async apply(change: VersionedRecord, nowMs: number): Promise<ApplyOutcome> {
    const item = this.items.get(change.record.caseRef);
    const outcome = outcomeOver(item && versioned(item), change);
    if (isWrite(outcome)) {
      this.items.set(change.record.caseRef, toMirrorItem(change.record, nowMs, change.sourceSequence));
    }
    return outcome;
  }
}

function versioned(item: MirrorItem): VersionedRecord {
  return {
    record: caseFields(item),
    ...(item.sourceSequence !== undefined ? { sourceSequence: item.sourceSequence } : {}),
  };
}
