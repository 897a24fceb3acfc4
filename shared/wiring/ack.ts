// The acknowledgement function's composition root: the AWS adapters built from the function's
// environment, once per container (at cold start).

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AckDeps } from '../ack/respond.ts';
import { DynamoAckLinkStore } from '../adapters/ack-links.ts';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { ACK_CLIENT_TIMEOUTS } from '../lambda/clients.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';

export function awsAckDeps(env: NodeJS.ProcessEnv = process.env): AckDeps {
  const client = new DynamoDBClient(ACK_CLIENT_TIMEOUTS);
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const caseSystemUrl = optionalEnv('CASE_SYSTEM_URL', env);
  return {
    links: new DynamoAckLinkStore(doc, requireEnv('ACK_LINKS_TABLE', env)),
    acks: new DynamoLedger(doc, requireEnv('LEDGER_TABLE', env)),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ...(caseSystemUrl ? { caseSystemUrl } : {}),
  };
}
