// A table a command is told to read that is of another kind, or whose index DynamoDB is still
// building, is said plainly (exit status 4), never an internal error.

import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { AUDIT_TABLE, LEGACY_OPEN_INDEX_NAME, OPEN_SHARDS_INDEX_NAME } from '#shared/adapters/tables.ts';
import { expectTable, MIRROR_EXPECTED, tableShapeProblem } from '#shared/cli/table-shape.ts';

const mirror = (indexes: TableDescription['GlobalSecondaryIndexes']): TableDescription => ({
  KeySchema: [{ AttributeName: 'caseRef', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: indexes,
});
const auditLog: TableDescription = {
  KeySchema: [
    { AttributeName: 'day', KeyType: 'HASH' },
    { AttributeName: 'sentAtMessage', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [{ IndexName: 'by-case', IndexStatus: 'ACTIVE' }],
};

describe('tableShapeProblem', () => {
  it('reads a mirror by its index by district, or the first release’s index while it has one', () => {
    expect(
      tableShapeProblem(
        'm',
        mirror([{ IndexName: OPEN_SHARDS_INDEX_NAME, IndexStatus: 'ACTIVE' }]),
        MIRROR_EXPECTED,
      ),
    ).toBeUndefined();
    // Migration step 1: the new index is still being built, and the old one is read meanwhile.
    expect(
      tableShapeProblem(
        'm',
        mirror([
          { IndexName: OPEN_SHARDS_INDEX_NAME, IndexStatus: 'CREATING' },
          { IndexName: LEGACY_OPEN_INDEX_NAME, IndexStatus: 'ACTIVE' },
        ]),
        MIRROR_EXPECTED,
      ),
    ).toBeUndefined();
  });

  it('names a table of another kind, a missing index and one still being built', () => {
    expect(tableShapeProblem('log', auditLog, MIRROR_EXPECTED, '--table')).toBe(
      "log is not a mirror table (its key is day, sentAtMessage, a mirror's is caseRef): check --table",
    );
    expect(tableShapeProblem('m', mirror([]), MIRROR_EXPECTED, '--table')).toBe(
      'm has no open-shards index, which a mirror table has: check --table, or deploy this release to the stack',
    );
    const byThread = {
      what: 'disclosure log',
      definition: AUDIT_TABLE,
      reads: () => ['by-case', 'by-thread'],
    };
    expect(
      tableShapeProblem(
        'log',
        {
          ...auditLog,
          GlobalSecondaryIndexes: [
            { IndexName: 'by-case', IndexStatus: 'ACTIVE' },
            { IndexName: 'by-thread', IndexStatus: 'ACTIVE', Backfilling: true },
          ],
        },
        byThread,
      ),
    ).toMatch(
      /^log's by-thread index is ACTIVE but still backfilling \(DynamoDB builds .*\): run this again when it is ACTIVE$/,
    );
  });

  it('goes on unchecked when the credentials may query the table but not describe it', async () => {
    const refused = Object.assign(new Error('not allowed: dynamodb:DescribeTable'), {
      name: 'AccessDeniedException',
    });
    const missing = Object.assign(new Error('Requested resource not found'), {
      name: 'ResourceNotFoundException',
    });
    const client = (error: Error) =>
      ({ send: async () => Promise.reject(error) }) as unknown as DynamoDBClient;
    const service = { service: 'DynamoDB' as const, resource: 'queuewatch-prod-audit', region: 'eu-west-2' };

    await expect(expectTable(client(refused), service, MIRROR_EXPECTED)).resolves.toBeUndefined();
    await expect(expectTable(client(missing), service, MIRROR_EXPECTED)).rejects.toThrow(
      /^AWS DynamoDB in eu-west-2 has no table queuewatch-prod-audit: check --stage/,
    );
  });
});
