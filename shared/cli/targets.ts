// Where a command reads or writes: a table on AWS (by stage, prefix or name) or on a local server
// (--endpoint), and the stage's config parameter. The options are declared here once, so that
// import, audit and status take them the same way. Light: no AWS SDK.

import { type Command, Option } from 'commander';
import { configParameterName, prefix } from '../delivery/names.ts';
import { parseEndpoint, parseStage, UsageError } from './output.ts';

/** The stack names everything it creates `queuewatch-<stage>-...` (shared/delivery/names.ts). */
export const stagePrefix = prefix;

/** The parameter the stack's functions read their config from. */
export { configParameterName };

/** The prefix of the tables on a local server when none is given (`import --create-tables`). */
export const LOCAL_PREFIX = 'local';

export interface TargetOptions {
  endpoint?: string;
  region?: string;
  stage?: string;
  prefix?: string;
  table?: string;
}

export interface TableTarget {
  tableName: string;
  endpoint?: string;
  region?: string;
}

/** Adds --stage, --endpoint, --prefix, --table and --region, for a command using the table `id`. */
export function addTableOptions(command: Command, id: string): Command {
  return command
    .option('--stage <stage>', `a deployed stack: the table is queuewatch-<stage>-${id}`, parseStage)
    .option(
      '--endpoint <url>',
      `a local DynamoDB (dynalite, moto) instead of AWS; its tables are ${LOCAL_PREFIX}-* unless --prefix or --table says`,
      parseEndpoint,
    )
    .addOption(
      new Option('--prefix <prefix>', `table name prefix: the table is <prefix>-${id}`).conflicts('stage'),
    )
    .addOption(new Option('--table <name>', 'the table’s full name').conflicts(['prefix', 'stage']))
    .option('--region <region>', 'AWS region (default: from the environment)');
}

/** The table a command uses, from its options; a usage error when they name none. */
export function tableTarget(options: TargetOptions, id: string): TableTarget {
  const prefix =
    options.prefix ??
    (options.stage !== undefined ? stagePrefix(options.stage) : undefined) ??
    (options.endpoint !== undefined && options.table === undefined ? LOCAL_PREFIX : undefined);
  const tableName = options.table ?? (prefix !== undefined ? `${prefix}-${id}` : undefined);
  if (tableName === undefined) {
    throw new UsageError(
      `name the ${id} table: --table NAME or --prefix PREFIX, or --stage STAGE for a deployed stack (with --endpoint URL for a local server, the prefix is ${LOCAL_PREFIX})`,
    );
  }
  return {
    tableName,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
  };
}
