// `queuewatch flow import FILE`: loads an export of past stage transitions into the flow table, so
// the silence signals start with a baseline (locally with --endpoint, or on AWS). `queuewatch flow
// show`: a district's daily flow, as the signals read it.

import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command, Option } from 'commander';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { isoDateOfEpochDay } from '../domain/calendar.ts';
import { londonDay, parseFlowKey } from '../domain/flow.ts';
import { importFlowHistory } from '../ingest/flow-history.ts';
import { createTables, LOCAL_CREDENTIALS, tableNames } from '../local/embedded-dynamo.ts';
import { loadConfigOption, parseCount, print, UsageError } from './output.ts';

const LOCAL_PREFIX = 'local';
/** Exit status when some records were rejected (the rest are stored). */
const EXIT_REJECTED = 3;

interface TableOptions {
  endpoint?: string;
  table?: string;
  prefix?: string;
  region?: string;
}

function tableOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'a local DynamoDB (dynalite, moto) instead of AWS')
    .addOption(new Option('--table <name>', 'the flow table’s name').conflicts('prefix'))
    .option(
      '--prefix <prefix>',
      `table name prefix: the flow table is <prefix>-flow (with --endpoint: ${LOCAL_PREFIX})`,
    )
    .option('--region <region>', 'AWS region (default: from the environment)')
    .option(
      '-c, --config <file>',
      'config whose districts and categories records must use (default: shipped)',
    );
}

function connect(options: TableOptions): { client: DynamoDBClient; prefix?: string; tableName: string } {
  const prefix = options.prefix ?? (options.endpoint && !options.table ? LOCAL_PREFIX : undefined);
  const tableName = options.table ?? (prefix ? tableNames(prefix).flow : undefined);
  if (!tableName) throw new UsageError('name the flow table: --table NAME or --prefix PREFIX');
  const client = options.endpoint
    ? new DynamoDBClient({
        endpoint: options.endpoint,
        region: options.region ?? 'eu-west-2',
        credentials: LOCAL_CREDENTIALS,
      })
    : new DynamoDBClient(options.region ? { region: options.region } : {});
  return { client, ...(prefix ? { prefix } : {}), tableName };
}

const documents = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

export function flowCommand(): Command {
  const flow = new Command('flow').description(
    'Case flow (stage transitions) as the silence signals count it',
  );

  tableOptions(
    flow
      .command('import')
      .description(
        'Load an export of past stage transitions (JSON Lines, JSON array or CSV) so the signals start with a baseline; safe to re-run',
      )
      .argument(
        '<file>',
        'one transition a record: caseRef, district, category, riskLevel, childrenInvolved, from, to, at',
      ),
  )
    .option('--rejects <file>', 'where rejected records go, with their reasons (default: FILE.rejects.jsonl)')
    .option('--create-tables', 'create the tables first if they do not exist (local endpoints only)')
    .addHelpText(
      'after',
      `\n'from' is the stage left (or 'new' for a case's first stage), 'to' the stage entered, 'at' when (ISO 8601 with an offset).\nExit status: 0 done, ${EXIT_REJECTED} done but some records were rejected (see the rejects file), 2 usage error.`,
    )
    .action(
      async (
        file: string,
        options: TableOptions & { rejects?: string; createTables?: boolean; config?: string },
      ) => {
        const config = loadConfigOption(options.config);
        if (options.createTables && !options.endpoint) {
          throw new UsageError('--create-tables is for local endpoints; on AWS the stack creates the tables');
        }
        const { client, prefix, tableName } = connect(options);
        try {
          if (options.createTables) {
            const { TableNames = [] } = await client.send(new ListTablesCommand({}));
            if (!TableNames.includes(tableName)) {
              if (!prefix) throw new UsageError('--create-tables needs --prefix (it creates every table)');
              await createTables(client, prefix);
              process.stderr.write(`created the ${prefix}-* tables\n`);
            }
          }
          const report = await importFlowHistory({
            file,
            store: new DynamoFlowStore(documents(client), tableName),
            vocabulary: config.vocabulary,
            nowMs: Date.now(),
            ...(options.rejects ? { rejectsFile: options.rejects } : {}),
          });
          print(`${file} -> ${tableName}`);
          print(`  read               ${report.read}`);
          print(`  stored             ${report.stored} (a transition already there is stored once)`);
          if (report.repeated > 0) print(`  repeated in file   ${report.repeated}`);
          print(
            `  rejected           ${report.rejected}${report.rejectsFile ? `: line and reason in ${report.rejectsFile}` : ''}`,
          );
          for (const [district, span] of Object.entries(report.districts)) {
            print(`  ${district.padEnd(18)} ${span.transitions} transitions, ${span.from} to ${span.to}`);
          }
          if (report.rejected > 0) process.exitCode = EXIT_REJECTED;
        } finally {
          client.destroy();
        }
      },
    );

  tableOptions(
    flow
      .command('show')
      .description(
        'A district’s daily flow as the signals count it: transitions by stage entered, per London day',
      ),
  )
    .requiredOption('--district <id>', 'the district')
    .option('--days <n>', 'days back from yesterday', parseCount, 14)
    .action(async (options: TableOptions & { district: string; days: number; config?: string }) => {
      const config = loadConfigOption(options.config);
      if (!config.file.districts[options.district]) {
        throw new UsageError(
          `unknown district '${options.district}' (known: ${Object.keys(config.file.districts).join(', ')})`,
        );
      }
      const { client, tableName } = connect(options);
      try {
        const store = new DynamoFlowStore(documents(client), tableName);
        const nowMs = Date.now();
        const today = londonDay(nowMs);
        const { days, invalid } = await store.days(options.district, today - options.days, today, nowMs);
        print(
          `${options.district} ${config.file.districts[options.district]?.name}: transitions by stage entered`,
        );
        print('  day          total  referred  closed  arrived');
        for (const d of days) {
          let total = 0;
          let referred = 0;
          let closed = 0;
          let arrived = 0;
          for (const [key, n] of Object.entries(d.counts)) {
            const k = parseFlowKey(key);
            if (!k) continue;
            total += n;
            if (k.to === 'referred') referred += n;
            if (k.to === 'closed') closed += n;
            if (k.from === 'new') arrived += n;
          }
          print(
            `  ${isoDateOfEpochDay(d.day)}  ${String(total).padStart(5)}  ${String(referred).padStart(8)}  ${String(closed).padStart(6)}  ${String(arrived).padStart(7)}`,
          );
        }
        if (invalid > 0)
          print(`  (${invalid} stored items could not be read as transitions and were left out)`);
      } finally {
        client.destroy();
      }
    });
  return flow;
}
