// Writes feed changes into the mirror table with one conditional write each, so that a newer
// change wins, a repeat is a no-op and a late, older change never overwrites newer state, even
// with several writers at once. The ordering rule itself is in shared/ingest/ordering.ts.
//
// Flow: the write is an UpdateItem that returns the item it replaced and, in the same request,
// keeps that item's stage as `priorStage`. The transition is judged from what the mirror really
// changed (old against new), so a repeat, a stale message or a lost race never counts; and a
// retry of a message whose write went in but whose flow write did not (the function died in
// between) finds the transition in `priorStage` and records it then.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { caseRecordSchema, type Stage } from '../domain/case.ts';
import { FROM_NEW, FROM_STAGES, type Transition, transitionOf } from '../domain/flow.ts';
import * as z from '../domain/zod.ts';
import type { VersionedRecord } from '../ingest/change.ts';
import { type ApplyOutcome, isWrite, outcomeOver } from '../ingest/ordering.ts';
import type { FlowRecorder, MirrorStore } from '../ingest/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import { MIRROR_BOOKKEEPING, type MirrorItem, toMirrorItem, transitionOfStored } from './mirror-item.ts';

export class MirrorWriteError extends Error {
  override name = 'MirrorWriteError';
}

/** The stored version and content of a case, as read back to explain a failed condition. */
const storedSchema = z.extend(caseRecordSchema, { sourceSequence: z.optional(z.number()) });
const stageSchema = caseRecordSchema.shape.stage;
/** What a retry needs of a stored item to find the transition its version made. */
const storedFlowSchema = z.extend(caseRecordSchema, {
  priorStage: z.optional(z.enum(FROM_STAGES)),
  mirroredAt: z.string(),
});

/** Put `item` only if nothing is stored or what is stored is older (see compareVersions). A
 * comparison with a missing attribute is false in DynamoDB, which gives "no sequence is older". */
export function newerThanStoredCondition(change: VersionedRecord) {
  const values: Record<string, unknown> = { ':u': change.record.sourceUpdatedAt };
  let expression = 'attribute_not_exists(caseRef) OR sourceUpdatedAt < :u';
  if (change.sourceSequence !== undefined) {
    values[':s'] = change.sourceSequence;
    expression +=
      ' OR (sourceUpdatedAt = :u AND (attribute_not_exists(sourceSequence) OR sourceSequence < :s))';
  }
  return { ConditionExpression: expression, ExpressionAttributeValues: values };
}

/** The UpdateItem that writes `item` whole: every attribute set, bookkeeping it lacks removed, and
 * the replaced item's stage kept as priorStage (operands read the item as it was before). */
export function mirrorUpdate(item: MirrorItem) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':new': FROM_NEW };
  const set: string[] = [];
  const remove: string[] = [];
  let stage = '';
  Object.entries(item).forEach(([name, value], i) => {
    if (name === 'caseRef' || name === 'priorStage') return;
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    set.push(`#a${i} = :a${i}`);
    if (name === 'stage') stage = `#a${i}`;
  });
  MIRROR_BOOKKEEPING.forEach((name, i) => {
    if (name in item) return;
    names[`#r${i}`] = name;
    remove.push(`#r${i}`);
  });
  names['#prior'] = 'priorStage';
  set.push(`#prior = if_not_exists(${stage}, :new)`);
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export class MirrorWriter implements MirrorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Where the transitions this writer makes are counted (none: not counted). */
    private readonly flow?: FlowRecorder,
  ) {}

  /** Applies a change under the ordering rule. A stored item that cannot be read as a case has no
   * version to compare: the valid change is written over it (`replaced`), as the bulk import does,
   * so that one damaged item never holds its case's feed back. */
  async apply(change: VersionedRecord, nowMs: number): Promise<ApplyOutcome> {
    return this.applyOrdered(change, nowMs, true);
  }

  private async applyOrdered(
    change: VersionedRecord,
    nowMs: number,
    mayReplace: boolean,
  ): Promise<ApplyOutcome> {
    const condition = newerThanStoredCondition(change);
    // A failed condition is explained by the stored item, which DynamoDB returns with the failure
    // (so the function needs no read permission); servers that do not return it (dynalite) get a
    // GetItem. If another writer changed the item in between so that ours is newer again, try
    // again (a few times: each round someone else won).
    for (let attempt = 0; attempt < 5; attempt++) {
      let returned: Record<string, unknown> | undefined;
      let retried = false;
      try {
        const old = await this.writeIf(
          change,
          nowMs,
          condition.ConditionExpression,
          {},
          condition.ExpressionAttributeValues,
        );
        // An old item with a stage this version does not know made an unknown transition: none.
        const oldStage = old ? stageSchema.safeParse(old.stage) : undefined;
        if (!oldStage || oldStage.success) {
          const before = oldStage?.success ? { stage: oldStage.data } : undefined;
          await this.recordFlow(transitionOf(before, change.record, nowMs), nowMs);
        }
        return old ? 'updated' : 'created';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        returned = itemOfFailure(error);
        retried = clientRetried(error);
      }
      returned ??= await this.readItem(change.record.caseRef);
      if (!returned) continue;
      // The client tried again after an attempt whose reply was lost, and that attempt wrote: the
      // change is this call's own, not a repeat (the flow is recorded from its priorStage).
      if (retried && isOwnWrite(returned, change, nowMs)) {
        await this.recordFlow(storedTransition(returned), nowMs);
        return returned.priorStage === FROM_NEW ? 'created' : 'updated';
      }
      const stored = readableVersion(returned);
      if (!stored && mayReplace) {
        const { outcome, replaced } = await this.replaceMalformed(change, nowMs, returned);
        return replaced ? 'replaced' : outcome;
      }
      const outcome = outcomeOver(storedVersion(returned), change);
      if (outcome === 'unchanged') await this.recordFlow(storedTransition(returned), nowMs);
      if (!isWrite(outcome)) return outcome;
    }
    throw new MirrorWriteError(`case ${change.record.caseRef} kept changing under the write; retry later`);
  }

  /** Writes `change` over a stored item that cannot be read as a case (`read`, malformed: it has
   * no version to compare, so the valid record wins), provided the item is still the one read; if
   * it changed meanwhile, the change is applied as usual. `replaced`: the malformed item was
   * overwritten. */
  async replaceMalformed(
    change: VersionedRecord,
    nowMs: number,
    read: Record<string, unknown>,
  ): Promise<{ outcome: ApplyOutcome; replaced: boolean }> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const checks = ['attribute_exists(caseRef)'];
    UNCHANGED_SINCE_READ.forEach((name, i) => {
      names[`#u${i}`] = name;
      const value = read[name];
      if (value === undefined) checks.push(`attribute_not_exists(#u${i})`);
      else if (['string', 'number', 'boolean'].includes(typeof value)) {
        values[`:u${i}`] = value;
        checks.push(`#u${i} = :u${i}`);
      }
    });
    try {
      const old = await this.writeIf(change, nowMs, checks.join(' AND '), names, values);
      // A malformed item with a known stage made that stage the one left; otherwise no transition.
      const stage = knownStage(old?.stage);
      if (stage) await this.recordFlow(transitionOf({ stage }, change.record, nowMs), nowMs);
      return { outcome: 'updated', replaced: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // An attempt whose reply was lost wrote it, and the client's retry found it: replaced.
      if (clientRetried(error)) {
        const now = itemOfFailure(error) ?? (await this.readItem(change.record.caseRef));
        if (now && isOwnWrite(now, change, nowMs)) {
          const stage = knownStage(read.stage);
          if (stage) await this.recordFlow(transitionOf({ stage }, change.record, nowMs), nowMs);
          return { outcome: 'updated', replaced: true };
        }
      }
    }
    // Changed meanwhile: applied as usual (and not replaced again, should it be malformed still).
    return { outcome: await this.applyOrdered(change, nowMs, false), replaced: false };
  }

  /** Writes `change` whole if `condition` holds, returning the item it replaced (undefined: there
   * was none). A failed condition is thrown, carrying the stored item where the server returns it. */
  private async writeIf(
    change: VersionedRecord,
    nowMs: number,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    const update = mirrorUpdate(toMirrorItem(change.record, nowMs, change.sourceSequence));
    const response = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { caseRef: change.record.caseRef },
        UpdateExpression: update.UpdateExpression,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...update.ExpressionAttributeNames, ...names },
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...values },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return response.Attributes;
  }

  /** The stored case and version (undefined when there is no item). */
  async read(caseRef: string): Promise<VersionedRecord | undefined> {
    const item = await this.readItem(caseRef);
    return item ? storedVersion(item) : undefined;
  }

  private async readItem(caseRef: string): Promise<Record<string, unknown> | undefined> {
    const response = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { caseRef }, ConsistentRead: true }),
    );
    return response.Item;
  }

  private async recordFlow(transition: Transition | undefined, nowMs: number): Promise<void> {
    if (transition && this.flow) await this.flow.record([transition], nowMs);
  }
}

/** The transition a stored item's version made (see transitionOfStored). */
export function storedTransition(item: Record<string, unknown>): Transition | undefined {
  const parsed = storedFlowSchema.safeParse(item);
  return parsed.success ? transitionOfStored(parsed.data) : undefined;
}

/** Reads a stored mirror item as a versioned record; a malformed one is an error, not "older". */
export function storedVersion(item: Record<string, unknown>): VersionedRecord {
  const version = readableVersion(item);
  if (!version) {
    const caseRef = typeof item.caseRef === 'string' ? item.caseRef : '(unknown)';
    throw new MirrorWriteError(`mirror item ${caseRef} is malformed: cannot compare versions`);
  }
  return version;
}

/** A stored mirror item as a versioned record, or undefined when it is malformed. */
export function readableVersion(item: Record<string, unknown>): VersionedRecord | undefined {
  const parsed = storedSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const { sourceSequence, ...record } = parsed.data;
  return { record, ...(sourceSequence !== undefined ? { sourceSequence } : {}) };
}

/** A stored stage, when it is one this version knows. */
export function knownStage(value: unknown): Stage | undefined {
  const parsed = stageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The stored item a failed condition carries, where the server returns it (not dynalite). */
function itemOfFailure(error: unknown): Record<string, unknown> | undefined {
  const raw = (error as { Item?: Record<string, AttributeValue> }).Item;
  return raw ? fromAttributeValues(raw) : undefined;
}

/** Whether the SDK client sent the request more than once: an earlier attempt (a reply lost on the
 * way back) may have written. */
function clientRetried(error: unknown): boolean {
  return ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;
}

/** Whether `item` is the write of `change` at `nowMs`: its version and content, stamped with this
 * write's time. Asked only when the client retried: the same message applied twice in one batch
 * (same content, same time) is refused on its first attempt, and stays a repeat. */
function isOwnWrite(item: Record<string, unknown>, change: VersionedRecord, nowMs: number): boolean {
  const stored = readableVersion(item);
  return (
    stored !== undefined &&
    item.mirroredAt === new Date(nowMs).toISOString() &&
    outcomeOver(stored, change) === 'unchanged'
  );
}

/** What replacing a malformed item checks is still as read (its version, write time and stage). */
const UNCHANGED_SINCE_READ = ['sourceUpdatedAt', 'mirroredAt', 'stage'] as const;

/** The scalar attributes of a raw item (a failed condition's Item is not unmarshalled by the
 * document client); a mirror item holds only strings, numbers and booleans. */
export function fromAttributeValues(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) out[name] = value.S;
    else if (value.N !== undefined) out[name] = Number(value.N);
    else if (value.BOOL !== undefined) out[name] = value.BOOL;
  }
  return out;
}
