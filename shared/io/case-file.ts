// Reads case records from a file, streaming: JSON Lines, a JSON array, or CSV with a header row.
// Yields each raw record with its line (for a JSON array, its item number) or why it could not be
// read. Error reasons never quote the input: a malformed line may hold personal data.

import { createReadStream, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';

export type CaseFileFormat = 'jsonl' | 'json' | 'csv';

export type RawRecord = { line: number; raw: unknown } | { line: number; error: string };

export class CaseFileError extends Error {
  override name = 'CaseFileError';
}

export function detectFormat(path: string, firstChunk: string): CaseFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return firstChunk.trimStart().startsWith('[') ? 'json' : 'jsonl';
  if (ext === '.csv') return 'csv';
  const first = firstChunk.trimStart()[0];
  return first === '[' ? 'json' : first === '{' ? 'jsonl' : 'csv';
}

/** Why JSON.parse failed, without the snippet of input V8 puts in its message. */
export function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /position (\d+)/.exec(message)?.[1];
  if (/Unexpected end of JSON input|Unterminated/.test(message)) return 'not valid JSON (truncated)';
  return `not valid JSON${position ? ` (at character ${Number(position) + 1})` : ''}`;
}

/** Cells are strings in CSV: turn the boolean column into a boolean, drop empty cells. */
function csvRecord(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value === '') continue;
    if (key === 'childrenInvolved') {
      const lower = value.toLowerCase();
      out[key] = lower === 'true' ? true : lower === 'false' ? false : value;
    } else out[key] = value;
  }
  return out;
}

const MAX_LINE = 64 * 1024;

async function firstChunkOf(path: string): Promise<string> {
  const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: 4095 });
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}

/** Streams the records of a case file. Throws CaseFileError only when the file cannot be read
 * at all; a bad record is yielded with its reason and the rest go on. */
export async function* readCaseFile(path: string, format?: CaseFileFormat): AsyncGenerator<RawRecord> {
  let first: string;
  try {
    first = await firstChunkOf(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CaseFileError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code}`, {
      cause: error,
    });
  }
  const kind = format ?? detectFormat(path, first);
  if (kind === 'json') {
    yield* readJsonArray(path);
    return;
  }
  if (kind === 'csv') {
    yield* readCsv(path);
    return;
  }
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    if (text.length > MAX_LINE) {
      yield { line, error: `line is longer than ${MAX_LINE} characters` };
      continue;
    }
    try {
      yield { line, raw: JSON.parse(text) };
    } catch (error) {
      yield { line, error: jsonErrorReason(error) };
    }
  }
}

function* readJsonArray(path: string): Generator<RawRecord> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CaseFileError(`${path} is ${jsonErrorReason(error)}`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new CaseFileError(`${path} is JSON but not an array of case records`);
  for (const [index, raw] of parsed.entries()) yield { line: index + 1, raw };
}

async function* readCsv(path: string): AsyncGenerator<RawRecord> {
  const skipped: RawRecord[] = [];
  const parser = createReadStream(path).pipe(
    parseCsv({
      columns: true,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      skip_records_with_error: true,
      max_record_size: MAX_LINE,
    }),
  );
  let lastSkippedLine = -1;
  parser.on('skip', (error: Error & { lines?: number }) => {
    const line = error.lines ?? 0;
    // One bad row can raise several errors (one per stray quote): count and report it once.
    if (line === lastSkippedLine) return;
    lastSkippedLine = line;
    skipped.push({ line, error: `not a valid CSV row (${error.message.split(':')[0]})` });
  });
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      while (skipped.length > 0) yield skipped.shift() as RawRecord;
      yield { line: info.lines, raw: csvRecord(record) };
    }
  } catch (error) {
    throw new CaseFileError(`cannot read ${path} as CSV: ${(error as Error).message.split(':')[0]}`, {
      cause: error,
    });
  }
  while (skipped.length > 0) yield skipped.shift() as RawRecord;
}
