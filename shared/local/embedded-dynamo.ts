// An embedded DynamoDB (dynalite, in process, in memory) with the project's tables: for the local
// main job, the integration tests and the benchmarks. No AWS account, no Docker. dynalite is loaded
// only when a server starts: the CLI's other commands import the helpers here without it.

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, TABLES, type TableDefinition, type TableId } from '../adapters/tables.ts';

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** On a worker thread: how long dynalite has been busy so far, in ms (its event loop's active
   * time), so a benchmark can tell the emulator's work from its own. In process: undefined. */
  busyMs?(): number;
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

export interface DynaliteOptions {
  /** Run dynalite on a worker thread of this process, so its CPU does not share the event loop
   * with the code under test: closer to a real, separate DynamoDB (used by the benchmarks). */
  thread?: boolean;
  /** Keep the data in a LevelDB directory here, for reuse by a later process (the benchmarks'
   * seeded million-case mirror); absent, in memory. */
  path?: string;
}

const serverOptions = (path?: string) => ({
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
  ...(path ? { path } : {}),
});

export async function startDynalite(options: DynaliteOptions = {}): Promise<EmbeddedDynamo> {
  if (options.thread) return startDynaliteThread(options.path);
  const { default: dynalite } = await import('dynalite');
  const server = dynalite(serverOptions(options.path));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return embedded(port, () => new Promise<void>((resolve) => server.close(() => resolve())));
}

function embedded(port: number, stop: () => Promise<unknown>): EmbeddedDynamo {
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await stop();
    },
  };
}

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
const server = dynalite(workerData.options);
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

async function startDynaliteThread(path?: string): Promise<EmbeddedDynamo> {
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      dynalite: createRequire(import.meta.url).resolve('dynalite'),
      options: serverOptions(path),
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...embedded(port, async () => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    }),
    busyMs: () => worker.performance.eventLoopUtilization().active,
  };
}

/** Table names: `${prefix}-${id}` (the stack names its tables the same way). */
export function tableNames(prefix: string): Record<TableId, string> {
  return Object.fromEntries(TABLES.map((t) => [t.id, `${prefix}-${t.id}`])) as Record<TableId, string>;
}

export async function createTables(client: DynamoDBClient, prefix: string): Promise<Record<TableId, string>> {
  const names = tableNames(prefix);
  for (const table of TABLES) await createTable(client, table, names[table.id]);
  return names;
}

/** Creates whichever of the prefix's tables do not exist yet, and waits until every one of them
 * exists: the one way `import --create-tables` and `flow import --create-tables` make their
 * tables, on a fresh server or beside tables already there. */
export async function ensureTables(
  client: DynamoDBClient,
  prefix: string,
): Promise<{ names: Record<TableId, string>; created: string[] }> {
  const names = tableNames(prefix);
  const created = await ensureNamedTables(
    client,
    TABLES.map((table) => ({ table, name: names[table.id] })),
  );
  return { names, created };
}

/** The same for tables named one by one (`--table`, `--flow-table`); returns the names created. */
export async function ensureNamedTables(
  client: DynamoDBClient,
  wanted: ReadonlyArray<{ table: TableDefinition; name: string }>,
): Promise<string[]> {
  const existing = await existingTables(client);
  const created: string[] = [];
  for (const { table, name } of wanted) {
    if (existing.has(name) || created.includes(name)) continue;
    try {
      await createTable(client, table, name);
      created.push(name);
    } catch (error) {
      // Created by someone else since the list: it exists, which is all that is wanted.
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    }
  }
  for (const { name } of wanted) {
    await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 5 }, { TableName: name });
  }
  return created;
}

/** Every table name the server has. */
export async function existingTables(client: DynamoDBClient): Promise<Set<string>> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand(start ? { ExclusiveStartTableName: start } : {}));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);
  return existing;
}

async function createTable(client: DynamoDBClient, table: TableDefinition, name: string) {
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
