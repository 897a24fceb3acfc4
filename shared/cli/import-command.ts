// `queuewatch import FILE`: loads a source export into the mirror (locally with --endpoint, or on
// AWS), with the feed's validation and ordering, a progress line, a final report, and a checkpoint
// to resume from. The work is importCases (shared/ingest/import.ts); this is its command line.

import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Presets, SingleBar } from 'cli-progress';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { FLOW_TABLE, MIRROR_TABLE, TABLES } from '../adapters/tables.ts';
import { loadConfig } from '../config/load.ts';
import type { RejectCode } from '../ingest/change.ts';
import {
  ImportError,
  type ImportProgress,
  type ImportReport,
  type ImportStrategy,
  importCases,
  importOutputFiles,
} from '../ingest/import.ts';
import { ensureNamedTables, ensureTables } from '../local/embedded-dynamo.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService, describeServiceFailure, type ServiceTarget } from './errors.ts';
import { EXIT, print, UsageError } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface ImportOptions extends TargetOptions {
  concurrency: number;
  rejects?: string;
  checkpoint?: string;
  resume?: boolean;
  exclusive?: boolean;
  createTables?: boolean;
  config?: string;
  /** Where the transitions the import makes are counted (default: the flow table beside the mirror). */
  flowTable?: string;
}

const n = (value: number) => value.toLocaleString('en-GB');

export async function importCommand(file: string, options: ImportOptions, nowMs: number): Promise<void> {
  const config = loadConfig(options.config);
  const target = tableTarget(options, MIRROR_TABLE.id);
  const tableName = target.tableName;
  if (options.createTables && !options.endpoint) {
    throw new UsageError('--create-tables is for local endpoints; on AWS the stack creates the tables');
  }
  if (options.concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  checkReadable(file);
  // Both outputs are checked before anything is written (a table created, a mirror item changed).
  const outputs = importOutputFiles(file, options);
  checkWritable(outputs.rejectsFile, '--rejects');
  checkWritable(outputs.checkpointFile, '--checkpoint');
  // With --table alone, only the mirror is known: --create-tables makes just that one.
  const prefix = options.table === undefined ? tableName.slice(0, -`-${MIRROR_TABLE.id}`.length) : undefined;
  const service: ServiceTarget = { service: 'DynamoDB', resource: tableName, ...target };
  // The transitions the import makes are counted beside the mirror, as the feed counts them.
  const flowTable = options.flowTable ?? (prefix !== undefined ? `${prefix}-${FLOW_TABLE.id}` : undefined);
  if (flowTable === undefined) {
    process.stderr.write('note: no --flow-table: the stage transitions this import makes are not counted\n');
  }

  const client = dynamoClient(target);
  try {
    if (options.createTables)
      await callService(service, () => createMissing(client, prefix, tableName, flowTable));
    // Both tables must exist before the first write: a missing flow table found only at the first
    // flow write would leave mirror items written that the report cannot count.
    for (const name of [tableName, ...(flowTable !== undefined ? [flowTable] : [])]) {
      await callService({ ...service, resource: name }, () =>
        client.send(new DescribeTableCommand({ TableName: name })),
      );
    }
    const strategy: ImportStrategy = options.exclusive ? 'exclusive' : 'conditional';
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(EXIT.interrupted);
      process.stderr.write(
        '\nstopping: the writes under way finish, no new ones start (Ctrl-C again to quit at once)\n',
      );
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const progress = progressReporter(file);
    try {
      const doc = documentClient(client);
      const report = await importCases({
        file,
        client: doc,
        ...(flowTable !== undefined ? { flow: new DynamoFlowStore(doc, flowTable) } : {}),
        tableName,
        vocabulary: config.vocabulary,
        nowMs,
        concurrency: options.concurrency,
        strategy,
        ...outputs,
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
        process.exitCode = EXIT.interrupted;
      } else if (report.rejected > 0) process.exitCode = EXIT.rejected;
    } catch (error) {
      progress.stop();
      if (!(error instanceof ImportError)) throw describeServiceFailure(error, service) ?? error;
      if (error.report) printReport(file, tableName, error.report);
      // A server that cannot be reached is said plainly, with how to start one; still resumable.
      const unavailable = describeServiceFailure(error.cause, service);
      if (unavailable) {
        process.stderr.write(
          `queuewatch: import stopped after line ${error.report?.committedLine ?? 0}: ${unavailable.message}; then re-run with --resume\n`,
        );
        process.exitCode = EXIT.unavailable;
      } else {
        process.stderr.write(`queuewatch: ${error.message}\n`);
        process.exitCode = EXIT.failed;
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  } finally {
    client.destroy();
  }
}

/** Creates the tables the import writes that do not exist yet: every table of the prefix (and a
 * --flow-table outside it), or with --table alone the mirror and any --flow-table. */
async function createMissing(
  client: DynamoDBClient,
  prefix: string | undefined,
  tableName: string,
  flowTable: string | undefined,
) {
  const named = [
    ...(prefix === undefined ? [{ table: MIRROR_TABLE, name: tableName }] : []),
    ...(flowTable !== undefined && (prefix === undefined || flowTable !== `${prefix}-${FLOW_TABLE.id}`)
      ? [{ table: FLOW_TABLE, name: flowTable }]
      : []),
  ];
  const fromPrefix = prefix !== undefined ? (await ensureTables(client, prefix)).created : [];
  const others = await ensureNamedTables(client, named);
  const said = [
    ...(fromPrefix.length === TABLES.length ? [`the ${prefix}-* tables`] : fromPrefix),
    ...others,
  ];
  if (said.length > 0) process.stderr.write(`created ${said.join(', ')}\n`);
}

/** The file to import must be a file that can be read (exit 2 otherwise, naming it). */
function checkReadable(file: string) {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`cannot read ${file}: no such file`);
  if (stat.isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory, not a file of cases`);
}

/** An output file must be writable where it is: its directory exists and takes files, and the
 * file itself, if there, is a file that can be written. */
function checkWritable(path: string, option: string) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new UsageError(`cannot write ${path} (${option}): it is a directory`);
  const directory = dirname(resolve(path));
  const problem = (target: string) => {
    try {
      accessSync(target, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? `no such directory ${directory}`
        : code === 'EACCES'
          ? 'permission denied'
          : code;
    }
  };
  const why = (stat ? problem(path) : undefined) ?? problem(directory);
  if (why) throw new UsageError(`cannot write ${path} (${option}): ${why}`);
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
    ...(report.replacedMalformed > 0
      ? ([
          [
            'replaced malformed',
            `${n(report.replacedMalformed)} (stored items that could not be read as cases, so not compared: the file's valid records replaced them; counted in updated)`,
          ],
        ] as Array<[string, string]>)
      : []),
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
