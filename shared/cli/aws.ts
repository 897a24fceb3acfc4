// The SDK clients the commands use, pointed at AWS or at a local server (--endpoint). Imported only
// by the commands that talk to a service, so the others start without loading the AWS SDK.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS } from '../local/embedded-dynamo.ts';

export interface Where {
  endpoint?: string;
  region?: string;
}

/** A local server: any credentials, a fixed region, and few retries, so a refused connection is
 * reported in a moment rather than after the SDK's back-off. */
function clientSettings(where: Where) {
  if (where.endpoint === undefined) return where.region ? { region: where.region } : {};
  return {
    endpoint: where.endpoint,
    region: where.region ?? 'eu-west-2',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 2,
  };
}

export function dynamoClient(where: Where): DynamoDBClient {
  return new DynamoDBClient(clientSettings(where));
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function ssmClient(where: Where): SSMClient {
  return new SSMClient(clientSettings(where));
}
