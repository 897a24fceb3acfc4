// `queuewatch migrate open-index` backfills only into an index DynamoDB has finished building: one
// still being built (after step 1's deploy) would answer the comparison short.

import { describe, expect, it } from 'vitest';
import { notYetReadable } from '#shared/cli/migrate-command.ts';

const withIndex = (status: string, backfilling = false) => ({
  GlobalSecondaryIndexes: [
    { IndexName: 'open-cases', IndexStatus: 'ACTIVE' as const },
    { IndexName: 'open-shards', IndexStatus: status as 'ACTIVE', Backfilling: backfilling },
  ],
});

describe('the index by district before the backfill', () => {
  it('is not ready while DynamoDB is creating it or still filling it from the table', () => {
    expect(notYetReadable(withIndex('CREATING'))).toBe('CREATING');
    expect(notYetReadable(withIndex('ACTIVE', true))).toBe('ACTIVE but still backfilling');
  });

  it('is ready when active, and is none of this check’s business when missing', () => {
    expect(notYetReadable(withIndex('ACTIVE'))).toBeUndefined();
    expect(notYetReadable({ GlobalSecondaryIndexes: [] })).toBeUndefined();
    expect(notYetReadable(undefined)).toBeUndefined();
  });
});
