// An embedded DynamoDB (dynalite, in process, in memory) with the project's tables: for the local
// main job, the integration tests and the benchmarks. No AWS account, no Docker.

import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, TABLES, type TableDefinition } from '../adapters/tables.ts';

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

/** Local servers accept any credentials; the SDK still wants some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'eu-west-2',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 10,
  });
}

export async function startDynalite(): Promise<EmbeddedDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Table names: `${prefix}-${id}` (the stack names its tables the same way). */
export function tableNames(prefix: string): Record<TableDefinition['id'], string> {
  return Object.fromEntries(TABLES.map((t) => [t.id, `${prefix}-${t.id}`]));
}

export async function createTables(client: DynamoDBClient, prefix: string): Promise<Record<string, string>> {
  const names = tableNames(prefix);
  for (const table of TABLES) {
    const name = names[table.id] as string;
    await client.send(new CreateTableCommand(createTableInput(table, name)));
    if (table.ttlAttribute) {
      await client
        .send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
          }),
        )
        .catch(() => undefined); // dynalite does not implement TTL; moto and AWS do
    }
  }
  return names;
}
