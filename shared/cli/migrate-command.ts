// `queuewatch migrate open-index`: moves a mirror from the first release's single-partition
// open-cases index to the index by district (README: "Migrating to the sharded index"), locally or
// on AWS, and says whether the old index can go.

import { DescribeTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { MigrationReport } from '../adapters/open-index-migration.ts';
import {
  LEGACY_OPEN_INDEX_NAME,
  MIRROR_TABLE,
  OPEN_SHARDS_INDEX_NAME,
  STATE_TABLE,
} from '../adapters/tables.ts';
import { loadConfig } from '../config/load.ts';
import { byCodeUnit } from '../domain/order.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService, ServiceError, type ServiceTarget } from './errors.ts';
import { EXIT, plural, print, UsageError } from './output.ts';
import { notYetBuilt } from './table-shape.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface MigrateOptions extends TargetOptions {
  config?: string;
  /** The state table the completed backfill is recorded in (default: beside the mirror). */
  stateTable?: string;
  json?: boolean;
}

/** The districts to migrate to: the file given, else on a stage the config pushed to it (a force
 * with districts of its own), else the shipped one. */
async function districtsFor(options: MigrateOptions): Promise<string[]> {
  if (options.config !== undefined) return Object.keys(loadConfig(options.config).file.districts);
  if (options.stage !== undefined && options.endpoint === undefined) {
    const { configInForce } = await import('./config-removals.ts');
    const { config } = await configInForce({
      stage: options.stage,
      ...(options.region ? { region: options.region } : {}),
    });
    return Object.keys(config.file.districts);
  }
  return Object.keys(loadConfig().file.districts);
}

/** Where the completed backfill is recorded: --state-table, else the state table beside the
 * mirror (by --stage or --prefix); a usage error when the mirror was named by --table alone. */
function stateTarget(options: MigrateOptions): string {
  if (options.stateTable !== undefined) return options.stateTable;
  if (options.table !== undefined) {
    throw new UsageError(
      'name the state table the completed backfill is recorded in (the scan switches index when it finds it there): --state-table NAME, or name the mirror by --stage or --prefix instead of --table',
    );
  }
  return tableTarget(options, STATE_TABLE.id).tableName;
}

export async function migrateOpenIndexCommand(options: MigrateOptions): Promise<void> {
  const target = tableTarget(options, MIRROR_TABLE.id);
  const stateTable = stateTarget(options);
  const districts = await districtsFor(options);
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
    const building = notYetReadable(Table);
    if (building) {
      throw new ServiceError(
        `${target.tableName}'s ${OPEN_SHARDS_INDEX_NAME} index is ${building} (DynamoDB is still building it after step 1): run this again when it is ACTIVE`,
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
    // The state table is where a complete backfill is recorded: found before the work, not after.
    const stateService: ServiceTarget = {
      service: 'DynamoDB',
      resource: stateTable,
      ...target,
      naming: { local: '--state-table', aws: '--state-table (or --stage)' },
    };
    await callService(stateService, () => client.send(new DescribeTableCommand({ TableName: stateTable })));
    const { backfillOpenShards, recordBackfilled } = await import('../adapters/open-index-migration.ts');
    const doc = documentClient(client);
    let looked = 0;
    // Interrupted, it says what it did and that running it again is safe, rather than nothing.
    const onSigint = () => {
      process.stderr.write(
        `\ninterrupted after ${plural(looked, 'open case')}: nothing is recorded until a run completes, and the scan keeps reading the old index; run this again (it is safe to repeat)\n`,
      );
      process.exit(EXIT.interrupted);
    };
    process.once('SIGINT', onSigint);
    const report = await callService(service, () =>
      backfillOpenShards(doc, target.tableName, districts, {
        onProgress: (done) => {
          looked = done;
          process.stderr.write(`\r${plural(done, 'open case')} looked at`);
        },
      }),
    ).finally(() => process.off('SIGINT', onSigint));
    process.stderr.write('\n');
    if (report.complete) {
      const { DynamoStateStore } = await import('../adapters/state-store.ts');
      await callService(stateService, () =>
        recordBackfilled(new DynamoStateStore(doc, stateTable), report, Date.now()),
      );
    }
    if (options.json) print(JSON.stringify({ table: target.tableName, stateTable, ...report }, null, 2));
    else print(describeReport(target.tableName, stateTable, report).join('\n'));
    if (!report.complete) process.exitCode = EXIT.failed;
  } finally {
    client.destroy();
  }
}

/** What a backfill found, and what to do next, in words. */
function describeReport(table: string, stateTable: string, report: MigrationReport): string[] {
  const lines = [
    `${table}: ${plural(report.legacyOpen, 'open case')} in the old index; ${report.backfilled} given their district key now, ${report.alreadyDone} had it already (or closed or moved meanwhile)`,
  ];
  if (report.complete) {
    lines.push(
      `the index by district holds every open case (${plural(report.shardedOpen, 'open case')}), recorded in ${stateTable}: a scan deployed with "openCasesIndex": "migrating" reads it from its next run (until then it reads the old index); set that in the deployment config and deploy, if not yet done`,
    );
    return lines;
  }
  lines.push(
    'the index by district does not yet hold every open case, so the scan keeps reading the old index:',
  );
  const unknown = Object.entries(report.unknownDistricts).sort(([a], [b]) => byCodeUnit(a, b));
  if (unknown.length > 0) {
    lines.push(
      `  the config has no district ${unknown.map(([d, count]) => `${d} (${plural(count, 'open case')})`).join(', ')}: add ${unknown.length > 1 ? 'those districts' : 'that district'} to the config (or correct those cases at the source), then run this again`,
    );
  }
  if (report.malformedCount > 0) {
    lines.push(
      `  ${plural(report.malformedCount, 'open case')} cannot be given a district key: ${report.malformed.map((m) => `${m.caseRef} (${m.reason})`).join(', ')}${report.malformedCount > report.malformed.length ? `, and ${report.malformedCount - report.malformed.length} more` : ''}; correct them at the source (the next change the feed sends is written over them), then run this again`,
    );
  }
  if (report.missingCount > 0) {
    lines.push(
      `  ${plural(report.missingCount, 'open case')} still without a key (changed meanwhile): ${report.missing.join(', ')}${report.missingCount > report.missing.length ? `, and ${report.missingCount - report.missing.length} more` : ''}; run this again`,
    );
  }
  return lines;
}

/** The status of the index by district when it is there but cannot be relied on yet (CREATING,
 * or still backfilling from the table), else undefined. */
export function notYetReadable(table: TableDescription | undefined): string | undefined {
  const index = (table?.GlobalSecondaryIndexes ?? []).find((i) => i.IndexName === OPEN_SHARDS_INDEX_NAME);
  return index ? notYetBuilt(index) : undefined;
}
