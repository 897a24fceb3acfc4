// A DynamoDB client on the embedded server whose reply to one command is lost after the write went
// in (as a dropped connection loses it): the SDK then tries the same write again. For tests of how
// a conditional write takes a retry that finds its own earlier write.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '#shared/local/embedded-dynamo.ts';

export interface LossyClient {
  client: DynamoDBClient;
  /** Loses the reply to the next `command`. */
  lose(): void;
  /** Whether a reply has been lost. */
  lost(): boolean;
}

export function lossyClient(endpoint: string, command: string, armed = false): LossyClient {
  const client = localDynamoClient(endpoint);
  let pending = armed;
  let lostOne = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (pending && context.commandName === command) {
        pending = false;
        lostOne = true;
        throw Object.assign(new Error('socket hang up'), {
          name: 'TimeoutError',
          code: 'ECONNRESET',
          $metadata: {},
        });
      }
      return result;
    },
    { step: 'deserialize' },
  );
  return {
    client,
    lose: () => {
      pending = true;
    },
    lost: () => lostOne,
  };
}
