// Whether a table named on the command line is one the command can read: its key, and the indexes
// it queries, present and built. Another kind of table (the mirror named where the disclosure log
// is meant), or an index DynamoDB is still building after a deploy, is said plainly, exit status 4,
// as a missing table is, instead of ending as an internal error on DynamoDB's ValidationException.

import {
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndexDescription,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  LEGACY_OPEN_INDEX_NAME,
  MIRROR_TABLE,
  OPEN_SHARDS_INDEX_NAME,
  type TableDefinition,
} from '../adapters/tables.ts';
import { describeServiceFailure, ServiceError, type ServiceTarget } from './errors.ts';

export interface ExpectedTable {
  /** The table's kind in words: "mirror", "disclosure log". */
  what: string;
  definition: TableDefinition;
  /** The indexes the command will query, given those the table has. */
  reads: (present: ReadonlySet<string>) => readonly string[];
}

/** Why the command cannot read `table` as `expected`, in words, or undefined when it can. */
export function tableShapeProblem(
  tableName: string,
  table: TableDescription | undefined,
  expected: ExpectedTable,
  naming = '--table or --prefix',
): string | undefined {
  const { definition, what } = expected;
  const keyOf = (type: 'HASH' | 'RANGE') =>
    (table?.KeySchema ?? []).find((k) => k.KeyType === type)?.AttributeName;
  const has = [keyOf('HASH'), keyOf('RANGE')].filter(Boolean).join(', ');
  const wants = [definition.partitionKey.name, definition.sortKey?.name].filter(Boolean).join(', ');
  if (has !== wants) {
    return `${tableName} is not a ${what} table (its key is ${has || 'not known'}, a ${what}'s is ${wants}): check ${naming}`;
  }
  const indexes = table?.GlobalSecondaryIndexes ?? [];
  const present = new Set(indexes.map((i) => i.IndexName ?? ''));
  for (const name of expected.reads(present)) {
    const index = indexes.find((i) => i.IndexName === name);
    if (!index) {
      return `${tableName} has no ${name} index, which a ${what} table has: check ${naming}, or deploy this release to the stack`;
    }
    const building = notYetBuilt(index);
    if (building) {
      return `${tableName}'s ${name} index is ${building} (DynamoDB builds an index added by a deploy in minutes, and reads of it are refused until then): run this again when it is ACTIVE`;
    }
  }
  return undefined;
}

/** An index's status when DynamoDB is still building it (CREATING, or ACTIVE but still filling from
 * the table: reads of it are refused, or answer short), else undefined. */
export function notYetBuilt(index: GlobalSecondaryIndexDescription): string | undefined {
  if (index.IndexStatus !== undefined && index.IndexStatus !== 'ACTIVE') return index.IndexStatus;
  return index.Backfilling ? 'ACTIVE but still backfilling' : undefined;
}

/** Describes the table and throws a ServiceError (exit status 4) if the command cannot read it. */
export async function expectTable(
  client: DynamoDBClient,
  service: ServiceTarget & { resource: string },
  expected: ExpectedTable,
): Promise<void> {
  let Table: TableDescription | undefined;
  try {
    ({ Table } = await client.send(new DescribeTableCommand({ TableName: service.resource })));
  } catch (error) {
    // Credentials allowed to query the table but not to describe it: the reads themselves say
    // whether they can be made.
    if (error instanceof Error && error.name === 'AccessDeniedException') return;
    throw describeServiceFailure(error, service) ?? error;
  }
  const naming = service.endpoint
    ? (service.naming?.local ?? '--prefix or --table')
    : (service.naming?.aws ?? '--stage (or --prefix, --table)');
  const problem = tableShapeProblem(service.resource, Table, expected, naming);
  if (problem) throw new ServiceError(problem);
}

/** The mirror, as `status` and `digest` read it: the first release's open-cases index while the
 * table has it, else the index by district (mirrorOpenCases). */
export const MIRROR_EXPECTED: ExpectedTable = {
  what: 'mirror',
  definition: MIRROR_TABLE,
  reads: (present) => [present.has(LEGACY_OPEN_INDEX_NAME) ? LEGACY_OPEN_INDEX_NAME : OPEN_SHARDS_INDEX_NAME],
};
