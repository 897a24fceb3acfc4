// The rejects table: feed messages that can never be applied, each with its reason, its SQS message
// id and only the schema fields of what was sent, kept (with a TTL) for an engineer to fix and
// replay. Keyed by the message id, so a redelivered message is recorded once.

import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RejectCode } from '../ingest/change.ts';
import type { RejectedMessage, RejectStore } from '../ingest/ports.ts';

/** How long a reject is kept for replay. */
export const REJECT_RETENTION_DAYS = 90;
const MAX_REASON_CHARS = 1000;

export interface RejectItem {
  rejectId: string;
  source: 'feed';
  messageId: string;
  code: RejectCode;
  reason: string;
  caseRef?: string;
  /** JSON of the schema fields only (see schemaFieldsOf); absent when nothing could be parsed. */
  fields?: string;
  bodyLength: number;
  rejectedAt: string;
  /** Epoch seconds: the table's TTL attribute. */
  expiresAt: number;
}

export const feedRejectId = (messageId: string) => `feed#${messageId}`;

export function toRejectItem(reject: RejectedMessage): RejectItem {
  return {
    rejectId: feedRejectId(reject.messageId),
    source: 'feed',
    messageId: reject.messageId,
    code: reject.code,
    reason:
      reject.reason.length > MAX_REASON_CHARS
        ? `${reject.reason.slice(0, MAX_REASON_CHARS)}...`
        : reject.reason,
    ...(reject.caseRef ? { caseRef: reject.caseRef } : {}),
    ...(reject.fields ? { fields: JSON.stringify(reject.fields) } : {}),
    bodyLength: reject.bodyLength,
    rejectedAt: new Date(reject.rejectedAtMs).toISOString(),
    expiresAt: Math.floor(reject.rejectedAtMs / 1000) + REJECT_RETENTION_DAYS * 86_400,
  };
}

export class DynamoRejectStore implements RejectStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(reject: RejectedMessage): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: toRejectItem(reject) }));
  }
}
