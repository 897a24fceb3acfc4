// The deployment's openCasesIndex setting, which carries a mirror from the first release's single
// open-cases index to the sharded one (README: "Migrating to the sharded index"): `legacy` adds the
// sharded index beside the old one and keeps reading the old; `migrating` reads the sharded one
// with the old still there, once the backfill is recorded complete (the old one until then); unset,
// the old index is gone. Each function reads the index it is
// granted, and is told which.

import { describe, expect, it } from 'vitest';
import { LEGACY_OPEN_INDEX_NAME, OPEN_SHARDS_INDEX_NAME } from '#shared/adapters/tables.ts';
import { DEPLOYMENT, dataNames, grantsOf, type Synthesized, synthesize } from './support.ts';

const modes = {
  legacy: synthesize({ ...DEPLOYMENT, openCasesIndex: 'legacy' }),
  migrating: synthesize({ ...DEPLOYMENT, openCasesIndex: 'migrating' }),
  done: synthesize(DEPLOYMENT),
};

function mirrorIndexes(s: Synthesized): string[] {
  const tables = s.dataTemplate.findResources('AWS::DynamoDB::Table', {
    Properties: { TableName: 'queuewatch-test-mirror' },
  });
  const [mirror] = Object.values(tables);
  return (mirror?.Properties.GlobalSecondaryIndexes ?? [])
    .map((i: { IndexName: string }) => i.IndexName)
    .sort();
}

function readerOf(s: Synthesized, fn: 'scan' | 'digest') {
  const grants = grantsOf(s.appTemplate, s.app[fn], dataNames(s));
  const resolved = s.appTemplate.findResources('AWS::Lambda::Function');
  const env = Object.values(resolved).find((r) => String(r.Properties.FunctionName).endsWith(`-${fn}`))
    ?.Properties.Environment.Variables;
  return {
    indexes: Object.keys(grants).filter((k) => k.startsWith('mirror/index/')),
    table: grants.mirror,
    told: env?.OPEN_CASES_INDEX,
  };
}

describe('openCasesIndex: the steps from the legacy index to the sharded one', () => {
  it('keeps both indexes while legacy or migrating, and only the sharded one after', () => {
    expect(mirrorIndexes(modes.legacy)).toEqual([LEGACY_OPEN_INDEX_NAME, OPEN_SHARDS_INDEX_NAME].sort());
    expect(mirrorIndexes(modes.migrating)).toEqual([LEGACY_OPEN_INDEX_NAME, OPEN_SHARDS_INDEX_NAME].sort());
    expect(mirrorIndexes(modes.done)).toEqual([OPEN_SHARDS_INDEX_NAME]);
  });

  it.each([
    ['legacy', [LEGACY_OPEN_INDEX_NAME], 'legacy'],
    // Both: the old index until the backfill is recorded complete in the state table.
    ['migrating', [LEGACY_OPEN_INDEX_NAME, OPEN_SHARDS_INDEX_NAME], 'migrating'],
    ['done', [OPEN_SHARDS_INDEX_NAME], 'sharded'],
  ] as const)('in %s, the scan and the digest read %j and are told %s', (mode, indexes, told) => {
    for (const fn of ['scan', 'digest'] as const) {
      const reader = readerOf(modes[mode], fn);
      expect(reader.indexes.sort(), `${fn} in ${mode}`).toEqual(
        indexes.map((i) => `mirror/index/${i}`).sort(),
      );
      expect(reader.table, `${fn} reads no mirror item outside the index`).toBeUndefined();
      expect(reader.told, `${fn} in ${mode}`).toBe(told);
    }
  });

  it('refuses a mode it does not know', () => {
    expect(() => synthesize({ ...DEPLOYMENT, openCasesIndex: 'halfway' as 'legacy' })).toThrow(
      /openCasesIndex/,
    );
  });
});
