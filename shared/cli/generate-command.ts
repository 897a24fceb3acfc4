// `queuewatch generate`: a synthetic queue for demos, tests and benchmarks (no real people).

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { CASE_FIELDS, EARLIEST_INSTANT } from '../domain/case.ts';
import { type GeneratedRecord, generateQueue } from '../generate/queue.ts';
import { plural, UsageError } from './output.ts';

function csvCell(value: unknown): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatRecords(
  records: Iterable<GeneratedRecord>,
  format: 'jsonl' | 'json' | 'csv',
): Iterable<string> {
  if (format === 'jsonl')
    return (function* () {
      for (const r of records) yield `${JSON.stringify(r)}\n`;
    })();
  if (format === 'json') {
    return (function* () {
      let first = true;
      yield '[';
      for (const r of records) {
        yield `${first ? '\n' : ',\n'}  ${JSON.stringify(r)}`;
        first = false;
      }
      yield '\n]\n';
    })();
  }
  return (function* () {
    let columns: string[] | undefined;
    for (const r of records) {
      if (!columns) {
        columns = [
          ...CASE_FIELDS,
          ...Object.keys(r).filter((k) => !(CASE_FIELDS as readonly string[]).includes(k)),
        ];
        yield `${columns.join(',')}\n`;
      }
      yield `${columns.map((c) => csvCell(r[c] ?? '')).join(',')}\n`;
    }
  })();
}

async function writeAll(chunks: Iterable<string>, out: WriteStream | NodeJS.WriteStream): Promise<void> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

export interface GenerateOptions {
  open: number;
  closed: number;
  seed: number;
  backlog?: number;
  at?: number;
  format: 'jsonl' | 'json' | 'csv';
  withSourceFields?: boolean;
  config?: string;
  out?: string;
}

async function openOutput(path: string): Promise<WriteStream> {
  const file = createWriteStream(path);
  try {
    await once(file, 'open');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write ${path}: ${code === 'ENOENT' ? 'no such folder' : code}`, {
      cause: error,
    });
  }
  return file;
}

/** Generated cases reach back a year (closed ones), and case records from before 2018 are refused:
 * a queue as of an earlier instant would be one the tool itself rejects. */
const EARLIEST_AT = Date.parse(EARLIEST_INSTANT) + 366 * 86_400_000;

export async function generateCommand(options: GenerateOptions, nowMs: number): Promise<void> {
  if (options.at !== undefined && options.at < EARLIEST_AT) {
    throw new UsageError(
      `--at must be ${new Date(EARLIEST_AT).toISOString()} or later: the queue reaches back a year, and case records before ${EARLIEST_INSTANT} are refused`,
    );
  }
  const config = loadConfig(options.config);
  const records = generateQueue({
    open: options.open,
    closed: options.closed,
    seed: options.seed,
    nowMs: options.at ?? nowMs,
    districts: Object.keys(config.file.districts),
    ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
    withSourceFields: options.withSourceFields ?? false,
  });
  if (!options.out) {
    await writeAll(formatRecords(records, options.format), process.stdout);
    return;
  }
  const file = await openOutput(options.out);
  await writeAll(formatRecords(records, options.format), file);
  file.end();
  await once(file, 'finish');
  process.stderr.write(`wrote ${plural(options.open + options.closed, 'record')} to ${options.out}\n`);
}
