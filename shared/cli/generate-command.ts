// `queuewatch generate`: a synthetic queue for demos, tests and benchmarks (no real people).

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { CASE_FIELDS } from '../domain/case.ts';
import { type GeneratedRecord, generateQueue } from '../generate/queue.ts';
import { loadConfigOption, parseCount, parseInstant } from './output.ts';

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

export function generateCommand(): Command {
  return new Command('generate')
    .description('Write a synthetic queue (seeded: the same options give the same queue)')
    .option('--open <n>', 'open cases', parseCount, 1000)
    .option('--closed <n>', 'closed or acknowledged cases', parseCount, 0)
    .option('--seed <n>', 'random seed', parseCount, 1)
    .option(
      '--backlog <n>',
      'old domestic abuse cases awaiting assessment (default: 5% of open, at most 700)',
      parseCount,
    )
    .option('--at <instant>', 'the queue is as of this ISO 8601 instant (default: now)', parseInstant)
    .addOption(
      new Option('--format <format>', 'output format').choices(['jsonl', 'json', 'csv']).default('jsonl'),
    )
    .option(
      '--with-source-fields',
      'add synthetic source-system fields (names, notes) that the edge must drop',
    )
    .option('-c, --config <file>', 'config whose districts to use (default: the shipped config)')
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(
      async (options: {
        open: number;
        closed: number;
        seed: number;
        backlog?: number;
        at?: number;
        format: 'jsonl' | 'json' | 'csv';
        withSourceFields?: boolean;
        config?: string;
        out?: string;
      }) => {
        const config = loadConfigOption(options.config);
        const records = generateQueue({
          open: options.open,
          closed: options.closed,
          seed: options.seed,
          nowMs: options.at ?? Date.now(),
          districts: Object.keys(config.file.districts),
          ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
          withSourceFields: options.withSourceFields ?? false,
        });
        const out = options.out ? createWriteStream(options.out) : process.stdout;
        await writeAll(formatRecords(records, options.format), out);
        if (options.out) {
          const file = out as WriteStream;
          file.end();
          await once(file, 'finish');
          process.stderr.write(`wrote ${options.open + options.closed} records to ${options.out}\n`);
        }
      },
    );
}
