// Writes feed changes into the mirror table with one conditional PutItem each, so that a newer
// change wins, a repeat is a no-op and a late, older change never overwrites newer state, even
// with several writers at once. The ordering rule itself is in shared/ingest/ordering.ts.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { caseRecordSchema } from '../domain/case.ts';
import type { VersionedRecord } from '../ingest/change.ts';
import { type ApplyOutcome, isWrite, outcomeOver } from '../ingest/ordering.ts';
import type { MirrorStore } from '../ingest/ports.ts';
import { isConditionFailure } from './dynamo-errors.ts';
import { toMirrorItem } from './mirror-item.ts';

export class MirrorWriteError extends Error {
  override name = 'MirrorWriteError';
}

/** The stored version and content of a case, as read back to explain a failed condition. */
const storedSchema = caseRecordSchema.extend({ sourceSequence: z.number().optional() });

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

export class MirrorWriter implements MirrorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async apply(change: VersionedRecord, nowMs: number): Promise<ApplyOutcome> {
    const item = toMirrorItem(change.record, nowMs, change.sourceSequence);
    // A failed condition is explained by the stored item, which DynamoDB returns with the failure
    // (so the function needs no read permission); servers that do not return it (dynalite) get a
    // GetItem. If another writer changed the item in between so that ours is newer again, try
    // again (a few times: each round someone else won).
    for (let attempt = 0; attempt < 5; attempt++) {
      let returned: Record<string, unknown> | undefined;
      try {
        const response = await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ...newerThanStoredCondition(change),
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return response.Attributes ? 'updated' : 'created';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const raw = (error as { Item?: Record<string, AttributeValue> }).Item;
        if (raw) returned = fromAttributeValues(raw);
      }
      const stored = returned ? storedVersion(returned) : await this.read(change.record.caseRef);
      if (!stored) continue;
      const outcome = outcomeOver(stored, change);
      if (!isWrite(outcome)) return outcome;
    }
    throw new MirrorWriteError(`case ${change.record.caseRef} kept changing under the write; retry later`);
  }

  /** The stored case and version (undefined when there is no item). */
  async read(caseRef: string): Promise<VersionedRecord | undefined> {
    const response = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { caseRef }, ConsistentRead: true }),
    );
    return response.Item ? storedVersion(response.Item) : undefined;
  }
}

/** Reads a stored mirror item as a versioned record; a malformed one is an error, not "older". */
export function storedVersion(item: Record<string, unknown>): VersionedRecord {
  const parsed = storedSchema.safeParse(item);
  if (!parsed.success) {
    const caseRef = typeof item.caseRef === 'string' ? item.caseRef : '(unknown)';
    throw new MirrorWriteError(`mirror item ${caseRef} is malformed: cannot compare versions`);
  }
  const { sourceSequence, ...record } = parsed.data;
  return { record, ...(sourceSequence !== undefined ? { sourceSequence } : {}) };
}

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
