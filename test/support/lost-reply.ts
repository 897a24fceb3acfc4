// A DynamoDB client on the embedded server whose reply to one command (or to chosen requests) is
// lost after the write went in (as a dropped connection loses it): the SDK then tries the same write
// again. For tests of how a conditional write takes a retry that finds its own earlier write.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '#shared/local/embedded-dynamo.ts';

export interface LossyClient {
  client: DynamoDBClient;
  /** Loses the reply to the next `command`. */
  lose(): void;
  /** Whether a reply has been lost. */
  lost(): boolean;
  /** How many replies have been lost. */
  lostCount(): number;
}

/** `lose`: the command whose reply is lost (by its name), or which requests (by name and the
 * low-level client's input, attribute values marshalled). */
export function lossyClient(
  endpoint: string,
  lose: string | ((command: string, input: Record<string, unknown>) => boolean),
  armed = false,
): LossyClient {
  const losing = typeof lose === 'string' ? (command: string) => command === lose : lose;
  const client = localDynamoClient(endpoint);
  let pending = armed;
  let lostCount = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (pending && losing(context.commandName ?? '', args.input as Record<string, unknown>)) {
        pending = false;
        lostCount += 1;
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
    lost: () => lostCount > 0,
    lostCount: () => lostCount,
  };
}
