// The disclosure log (DPA 2018 s62) in DynamoDB: one item per message sent, by day. It records
// who, which cases, why and the SNS message id; never the message text.

import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '../scan/ports.ts';

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          day: entry.sentAt.slice(0, 10),
          sentAtMessage: `${entry.sentAt}#${entry.messageId}`,
          ...entry,
        },
      }),
    );
  }
}
