// `queuewatch import FILE`: loads a source export into the mirror (locally with --endpoint, or on
// AWS), with the feed's validation and ordering, a progress line, a final report, and a checkpoint
// to resume from. The work is importCases (shared/ingest/import.ts); this is its command line.

import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { createTableInput, MIRROR_TABLE } from '../adapters/tables.ts';
import type { RejectCode } from '../ingest/change.ts';
import {
  ImportError,
  type ImportProgress,
  type ImportReport,
  type ImportStrategy,
  importCases,
} from '../ingest/import.ts';
import { createTables, LOCAL_CREDENTIALS, tableNames } from '../local/embedded-dynamo.ts';
import { loadConfigOption, parseCount, print, UsageError } from './output.ts';

interface ImportCommandOptions {
  endpoint?: string;
  table?: string;
  prefix?: string;
  region?: string;
  concurrency: number;
  rejects?: string;
  checkpoint?: string;
  resume?: boolean;
  exclusive?: boolean;
  createTables?: boolean;
  config?: string;
  flowTable?: string;
}

/** Exit codes past the usual ones: some lines were rejected; stopped by Ctrl-C (resumable). */
export const EXIT_REJECTED = 3;
export const EXIT_INTERRUPTED = 130;

const LOCAL_PREFIX = 'local';
const n = (value: number) => value.toLocaleString('en-GB');

export function importCommand(): Command {
  return new Command('import')
    .description(
      'Load a source export (JSON Lines, JSON array or CSV) into the mirror, with the feed’s validation and ordering; safe to re-run',
    )
    .argument('<file>', 'the export: one case record a line (JSON Lines), a JSON array, or CSV with a header')
    .option('--endpoint <url>', 'a local DynamoDB (dynalite, moto) instead of AWS')
    .addOption(new Option('--table <name>', 'the mirror table’s name').conflicts('prefix'))
    .option(
      '--prefix <prefix>',
      `table name prefix: the mirror is <prefix>-mirror (with --endpoint: ${LOCAL_PREFIX})`,
    )
    .option('--region <region>', 'AWS region (default: from the environment)')
    .option('--concurrency <n>', 'DynamoDB requests in flight', parseCount, 16)
    .option('--rejects <file>', 'where rejected lines go, with their reasons (default: FILE.rejects.jsonl)')
    .option('--checkpoint <file>', 'where progress is checkpointed (default: FILE.checkpoint.json)')
    .option('--resume', 'continue after the line the checkpoint recorded')
    .option(
      '--exclusive',
      'nothing else writes the table meanwhile (feed paused, first load, local): batch writes, about 4x faster',
    )
    .option('--create-tables', 'create the tables first if they do not exist (local endpoints only)')
    .option(
      '--flow-table <name>',
      'where the stage transitions the import makes are counted (default with --prefix: <prefix>-flow)',
    )
    .option(
      '-c, --config <file>',
      'config whose categories and districts records must use (default: shipped)',
    )
    .addHelpText(
      'after',
      `\nExit status: 0 done, ${EXIT_REJECTED} done but some lines were rejected (see the rejects file), 1 stopped by an error, ${EXIT_INTERRUPTED} interrupted (re-run with --resume).`,
    )
    .action(async (file: string, options: ImportCommandOptions) => {
      const config = loadConfigOption(options.config);
      const prefix = options.prefix ?? (options.endpoint && !options.table ? LOCAL_PREFIX : undefined);
      const tableName = options.table ?? (prefix ? tableNames(prefix).mirror : undefined);
      if (!tableName) throw new UsageError('name the mirror table: --table NAME or --prefix PREFIX');
      const flowTable = options.flowTable ?? (prefix ? tableNames(prefix).flow : undefined);
      if (!flowTable) {
        process.stderr.write('note: no --flow-table: the transitions this import makes are not counted\n');
      }
      if (options.createTables && !options.endpoint) {
        throw new UsageError('--create-tables is for local endpoints; on AWS the stack creates the tables');
      }
      if (options.concurrency < 1) throw new UsageError('--concurrency must be at least 1');

      const client = options.endpoint
        ? new DynamoDBClient({
            endpoint: options.endpoint,
            region: options.region ?? 'eu-west-2',
            credentials: LOCAL_CREDENTIALS,
          })
        : new DynamoDBClient(options.region ? { region: options.region } : {});
      try {
        if (options.createTables) await ensureTables(client, prefix, tableName);
        const strategy: ImportStrategy = options.exclusive ? 'exclusive' : 'conditional';
        const controller = new AbortController();
        let interrupts = 0;
        const onSigint = () => {
          interrupts += 1;
          if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
          process.stderr.write('\nstopping: finishing the writes in flight (Ctrl-C again to quit at once)\n');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        const progress = progressReporter(file);
        try {
          const doc = DynamoDBDocumentClient.from(client, {
            marshallOptions: { removeUndefinedValues: true },
          });
          const report = await importCases({
            file,
            client: doc,
            ...(flowTable ? { flow: new DynamoFlowStore(doc, flowTable) } : {}),
            tableName,
            vocabulary: config.vocabulary,
            nowMs: Date.now(),
            concurrency: options.concurrency,
            strategy,
            ...(options.rejects ? { rejectsFile: options.rejects } : {}),
            ...(options.checkpoint ? { checkpointFile: options.checkpoint } : {}),
            resume: options.resume ?? false,
            onProgress: progress.update,
            signal: controller.signal,
          });
          progress.stop();
          printReport(file, tableName, report);
          if (options.resume && report.resumedAfterLine === undefined) {
            process.stderr.write('note: there was no checkpoint to resume from; started at the beginning\n');
          }
          if (report.interrupted) {
            process.stderr.write(
              `interrupted after line ${report.committedLine}: re-run the same command with --resume to continue\n`,
            );
            process.exitCode = EXIT_INTERRUPTED;
          } else if (report.rejected > 0) process.exitCode = EXIT_REJECTED;
        } catch (error) {
          progress.stop();
          if (!(error instanceof ImportError)) throw error;
          if (error.report) printReport(file, tableName, error.report);
          process.stderr.write(`queuewatch: ${error.message}\n`);
          process.exitCode = 1;
        } finally {
          process.off('SIGINT', onSigint);
        }
      } finally {
        client.destroy();
      }
    });
}

async function ensureTables(client: DynamoDBClient, prefix: string | undefined, tableName: string) {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand(start ? { ExclusiveStartTableName: start } : {}));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);
  if (!existing.has(tableName)) {
    if (prefix) await createTables(client, prefix);
    else await client.send(new CreateTableCommand(createTableInput(MIRROR_TABLE, tableName)));
    process.stderr.write(`created ${prefix ? `the ${prefix}-* tables` : tableName}\n`);
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
}

/** A progress bar on a terminal; elsewhere (CI, a log file) one line every few seconds. */
function progressReporter(file: string) {
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format:
          'import |{bar}| {percentage}% | line {value}/{total} | {rate} records/s | ETA {eta_formatted}',
        etaBuffer: 50,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let begun = false;
    return {
      update: (p: ImportProgress) => {
        if (!begun) {
          bar.start(Math.max(p.totalLines, p.line), 0, { rate: '-' });
          begun = true;
        }
        bar.setTotal(Math.max(p.totalLines, p.line));
        bar.update(p.line, { rate: n(p.ratePerSecond) });
      },
      stop: () => {
        if (begun) bar.stop();
        begun = false;
      },
    };
  }
  let lastPrinted = 0;
  return {
    update: (p: ImportProgress) => {
      const now = Date.now();
      if (now - lastPrinted < 5000) return;
      lastPrinted = now;
      const fraction = p.totalLines > 0 ? Math.min(1, p.line / p.totalLines) : 0;
      const elapsed = (now - started) / 1000;
      const eta = fraction > 0 ? Math.round((elapsed / fraction) * (1 - fraction)) : undefined;
      process.stderr.write(
        `import ${file}: line ${n(p.line)}/${n(p.totalLines)} (${Math.round(fraction * 100)}%), ${n(p.ratePerSecond)} records/s${eta !== undefined ? `, ETA ${eta}s` : ''}\n`,
      );
    },
    stop: () => {},
  };
}

function printReport(file: string, tableName: string, report: ImportReport) {
  const reasons = (Object.entries(report.reasons) as Array<[RejectCode, number]>)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  const how = report.strategy === 'exclusive' ? 'batch writes' : 'conditional writes';
  const rows: Array<[string, string]> = [
    [
      'read',
      `${n(report.read)}${report.resumedAfterLine !== undefined ? ` (resumed after line ${n(report.resumedAfterLine)})` : ''}`,
    ],
    ['imported', `${n(report.imported)} (created ${n(report.created)}, updated ${n(report.updated)})`],
    ['unchanged', n(report.unchanged)],
    ['older than stored', n(report.stale)],
    [
      'rejected',
      `${n(report.rejected)}${report.rejected > 0 ? ` (${reasons}): line and reason in ${report.rejectsFile}` : ''}`,
    ],
    [
      'this run',
      `${(report.durationMs / 1000).toFixed(1)} s, ${n(report.ratePerSecond)} records/s${report.interrupted ? ', interrupted' : ''}`,
    ],
  ];
  print(`${file} -> ${tableName} (${how})`);
  for (const [label, value] of rows) print(`  ${label.padEnd(18)} ${value}`);
}
