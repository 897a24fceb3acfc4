// `queuewatch migrate open-index`: moves a mirror from the first release's single-partition
// open-cases index to the index by district (README: "Migrating to the sharded index"), locally or
// on AWS, and says whether the old index can go.

import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { LEGACY_OPEN_INDEX_NAME, MIRROR_TABLE, OPEN_SHARDS_INDEX_NAME } from '../adapters/tables.ts';
import { loadConfig } from '../config/load.ts';
import { byCodeUnit } from '../domain/order.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService, ServiceError, type ServiceTarget } from './errors.ts';
import { EXIT, plural, print } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface MigrateOptions extends TargetOptions {
  config?: string;
  json?: boolean;
}

export async function migrateOpenIndexCommand(options: MigrateOptions): Promise<void> {
  const target = tableTarget(options, MIRROR_TABLE.id);
  const config = loadConfig(options.config);
  const client = dynamoClient(target);
  const service: ServiceTarget = { service: 'DynamoDB', resource: target.tableName, ...target };
  try {
    // Which indexes the mirror has decides whether there is anything to do.
    const { Table } = await callService(service, () =>
      client.send(new DescribeTableCommand({ TableName: target.tableName })),
    );
    const indexes = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    if (!indexes.has(OPEN_SHARDS_INDEX_NAME)) {
      throw new ServiceError(
        `${target.tableName} has no ${OPEN_SHARDS_INDEX_NAME} index (the index by district) to migrate to: deploy step 1 of "Migrating to the sharded index" first ("openCasesIndex": "legacy"), wait until the index is built, then run this again`,
      );
    }
    if (!indexes.has(LEGACY_OPEN_INDEX_NAME)) {
      if (options.json) print(JSON.stringify({ table: target.tableName, nothingToMigrate: true }, null, 2));
      else {
        print(
          `${target.tableName}: nothing to migrate: it has no ${LEGACY_OPEN_INDEX_NAME} index (the first release's); the index by district is the only one`,
        );
      }
      return;
    }
    const { backfillOpenShards } = await import('../adapters/open-index-migration.ts');
    const report = await callService(service, () =>
      backfillOpenShards(documentClient(client), target.tableName, Object.keys(config.file.districts), {
        onProgress: (done) => process.stderr.write(`\r${plural(done, 'open case')} looked at`),
      }),
    );
    process.stderr.write('\n');
    if (options.json) print(JSON.stringify({ table: target.tableName, ...report }, null, 2));
    else {
      print(
        `${target.tableName}: ${plural(report.legacyOpen, 'open case')} in the old index; ${report.backfilled} given their district key now, ${report.alreadyDone} had it already`,
      );
      const unknown = Object.entries(report.unknownDistricts).sort(([a], [b]) => byCodeUnit(a, b));
      print(
        report.complete
          ? `the index by district holds all ${plural(report.shardedOpen, 'open case')}: set "openCasesIndex": "migrating" in the deployment config and deploy`
          : unknown.length > 0
            ? `the index by district holds ${plural(report.shardedOpen, 'open case')}: not all of them, because the config has no district ${unknown.map(([d, count]) => `${d} (${plural(count, 'open case')})`).join(', ')}; add ${unknown.length > 1 ? 'those districts' : 'that district'} to the config (or correct those cases at the source), then run this again`
            : `the index by district holds ${plural(report.shardedOpen, 'open case')}: not yet all of them (a case changed meanwhile); run this again`,
      );
    }
    if (!report.complete) process.exitCode = EXIT.failed;
  } finally {
    client.destroy();
  }
}
