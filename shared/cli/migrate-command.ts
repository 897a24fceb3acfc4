// `queuewatch migrate open-index`: moves a mirror from the first release's single-partition
// open-cases index to the index by district (README: "Migrating to the sharded index"), locally or
// on AWS, and says whether the old index can go.

import { MIRROR_TABLE } from '../adapters/tables.ts';
import { loadConfig } from '../config/load.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService } from './errors.ts';
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
  try {
    const { backfillOpenShards } = await import('../adapters/open-index-migration.ts');
    const report = await callService({ service: 'DynamoDB', resource: target.tableName, ...target }, () =>
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
      print(
        report.complete
          ? `the index by district holds all ${plural(report.shardedOpen, 'open case')}: set "openCasesIndex": "migrating" in the deployment config and deploy`
          : `the index by district holds ${plural(report.shardedOpen, 'open case')}: not yet all of them (a case changed meanwhile, or a district is not in the config); run this again`,
      );
    }
    if (!report.complete) process.exitCode = EXIT.failed;
  } finally {
    client.destroy();
  }
}
