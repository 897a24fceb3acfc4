// An in-memory mirror with the DynamoDB writer's conditional-write semantics (read, decide with the
// ordering rule and write as one step, as a conditional PutItem does): for unit tests and
// simulations that need no database.

import { caseFields } from '../domain/case.ts';
import { FROM_NEW, type Transition, transitionOf } from '../domain/flow.ts';
import type { VersionedRecord } from '../ingest/change.ts';
import { type ApplyOutcome, isWrite, outcomeOver } from '../ingest/ordering.ts';
import type { FlowRecorder, MirrorStore } from '../ingest/ports.ts';
import { type MirrorItem, toMirrorItem, transitionOfStored } from './mirror-item.ts';

export class MemoryMirror implements MirrorStore {
  readonly items = new Map<string, MirrorItem>();

  /** `flow`: where the transitions this mirror makes are counted, as the DynamoDB writer does. */
  constructor(private readonly flow?: FlowRecorder) {}

  async apply(change: VersionedRecord, nowMs: number): Promise<ApplyOutcome> {
    const item = this.items.get(change.record.caseRef);
    const outcome = outcomeOver(item && versioned(item), change);
    if (isWrite(outcome)) {
      this.items.set(change.record.caseRef, {
        ...toMirrorItem(change.record, nowMs, change.sourceSequence),
        priorStage: item?.stage ?? FROM_NEW,
      });
      await this.record(transitionOf(item, change.record, nowMs), nowMs);
    } else if (outcome === 'unchanged' && item) {
      await this.record(transitionOfStored(item), nowMs);
    }
    return outcome;
  }

  private async record(transition: Transition | undefined, nowMs: number): Promise<void> {
    if (transition && this.flow) await this.flow.record([transition], nowMs);
  }
}

function versioned(item: MirrorItem): VersionedRecord {
  return {
    record: caseFields(item),
    ...(item.sourceSequence !== undefined ? { sourceSequence: item.sourceSequence } : {}),
  };
}
