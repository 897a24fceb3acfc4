// Reads case records from a file, streaming: JSON Lines, a JSON array, or CSV with a header row.
// Yields each raw record with its line (for a JSON array, the line its item starts on) or why it
// could not be read. Error reasons never quote the input: a malformed line may hold personal data.
//
// The file is read as bytes and split by hand, so that no line, row or item is ever held beyond
// MAX_RECORD_BYTES (a line of hundreds of megabytes is skipped as it streams past, reported with its
// number, and the rest are read), and so that lines are counted by `\n` alone: a stray carriage
// return inside a line is part of it (readline and csv-parse would start a new line there and shift
// every number after it). A UTF-8 byte-order mark at the start is ignored; bytes that are not valid
// UTF-8 are decoded as U+FFFD, which no schema field accepts, so they can only reach a field the
// schema drops anyway.

import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { CsvError, parse as parseCsvRecord } from 'csv-parse/sync';
import { CASE_FIELDS } from '../domain/case.ts';
import { firstRepeatedKey } from '../domain/json-keys.ts';
import { FORBIDDEN_KEYS } from '../domain/safe-keys.ts';

export type CaseFileFormat = 'jsonl' | 'json' | 'csv';

/** Why the reader could not hand on a record: too long to look at, or not readable as one. */
export const READ_ERROR_CODES = ['unreadable', 'too-large'] as const;
export type ReadErrorCode = (typeof READ_ERROR_CODES)[number];

export type RawRecord = { line: number; raw: unknown } | { line: number; error: string; code: ReadErrorCode };

/** The file as a whole cannot be read as cases (missing, empty, not an array or one whose frame is
 * broken, a broken CSV header). */
export class CaseFileError extends Error {
  override name = 'CaseFileError';
}

/** Longest line, CSV row or JSON array item looked at; a case record is a few hundred bytes. */
export const MAX_RECORD_BYTES = 64 * 1024;

export function detectFormat(path: string, firstChunk: string): CaseFileFormat {
  const ext = extname(path).toLowerCase();
  // trimStart also drops a byte-order mark (U+FEFF counts as white space).
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  // A .json file of one object a line is JSON Lines; an empty one is an empty (so refused) array, not
  // an empty feed: nothing in it says it holds no cases.
  if (ext === '.json') return /^\s*(\[|$)/.test(firstChunk) ? 'json' : 'jsonl';
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

/** A record's JSON text, read; one that gives a field of the record twice is refused: JSON.parse
 * would keep the last value without a word, and which one the source meant is a guess (as for a
 * CSV header). A repeated name the record does not use is dropped with the rest. */
function recordOf(line: number, text: string, fields: RecordFields): RawRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { line, code: 'unreadable', error: jsonErrorReason(error) };
  }
  const repeated = firstRepeatedKey(text, raw, (path, key) => path.length === 0 && fields.known.has(key));
  if (repeated) return { line, code: 'unreadable', error: repeatedFieldReason(repeated.key) };
  return { line, raw };
}

/** Why a record giving a field twice is refused (`field` is a known name, never the input's own). */
export const repeatedFieldReason = (field: string) =>
  `${field} is given more than once: which value counts would be a guess`;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BOM = '\uFEFF';

async function firstChunkOf(path: string): Promise<string> {
  const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: 4095 });
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}

/** Streams the records of a case file. Throws CaseFileError only when the file cannot be read as
 * a whole (missing, unreadable, a JSON array that is not one, a CSV header that cannot be used); a
 * bad record is yielded with its reason and the rest go on. */
export async function* readCaseFile(
  path: string,
  format?: CaseFileFormat,
  fields: RecordFields = CASE_RECORD_FIELDS,
): AsyncGenerator<RawRecord> {
  let first: string;
  try {
    first = await firstChunkOf(path);
  } catch (error) {
    throw cannotRead(path, error);
  }
  const kind = format ?? detectFormat(path, first);
  if (kind === 'json') yield* readJsonArray(path, fields);
  else if (kind === 'csv') yield* readCsv(path, fields);
  else yield* readJsonLines(path, fields);
}

function cannotRead(path: string, error: unknown): CaseFileError {
  const code = (error as NodeJS.ErrnoException).code;
  return new CaseFileError(
    `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'read error')}`,
    {
      cause: error,
    },
  );
}

/** The file's bytes, chunk by chunk; a read error mid-way becomes a CaseFileError. */
async function* bytesOf(path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    throw cannotRead(path, error);
  }
}

/** A piece of the file ending at a record boundary: its text, or only that it was too long. */
type Piece = { line: number; text: string } | { line: number; oversize: true; lines: number };

/** Collects the bytes of one piece, keeping at most `limit` of them. */
class PieceBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  oversize = false;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer, start: number, end: number): void {
    if (this.oversize || end <= start) return;
    this.size += end - start;
    if (this.size > this.limit) {
      this.oversize = true;
      this.parts = [];
    } else this.parts.push(chunk.subarray(start, end));
  }

  /** The text (lenient UTF-8), without a trailing carriage return (CRLF line ends). */
  take(): string | undefined {
    let bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    const text = this.oversize || bytes.length > MAX_RECORD_BYTES ? undefined : bytes.toString('utf8');
    this.parts = [];
    this.size = 0;
    this.oversize = false;
    return text;
  }
}

/** Lines split on `\n` only, numbered from 1. One byte over the limit is allowed for the `\r` of
 * a CRLF line end, which `take` strips. */
async function* linesOf(path: string): AsyncGenerator<Piece> {
  const buffer = new PieceBuffer(MAX_RECORD_BYTES + 1);
  let line = 1;
  const piece = (): Piece => {
    const text = buffer.take();
    return text === undefined ? { line, oversize: true, lines: 1 } : { line, text };
  };
  let pending = false;
  for await (const chunk of bytesOf(path)) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      buffer.add(chunk, start, nl);
      yield piece();
      line += 1;
      start = nl + 1;
      pending = false;
    }
    if (start < chunk.length) {
      buffer.add(chunk, start, chunk.length);
      pending = true;
    }
  }
  if (pending) yield piece();
}

const withoutBom = (text: string, line: number) =>
  line === 1 && text.startsWith(BOM) ? text.slice(1) : text;

const tooLong = (what: string, piece: { line: number; lines: number }): RawRecord => ({
  line: piece.line,
  code: 'too-large',
  error: `${what} is longer than ${MAX_RECORD_BYTES} bytes${piece.lines > 1 ? ` (it runs over ${piece.lines} lines)` : ''}`,
});

async function* readJsonLines(path: string, fields: RecordFields): AsyncGenerator<RawRecord> {
  for await (const piece of linesOf(path)) {
    if ('oversize' in piece) {
      yield tooLong('line', piece);
      continue;
    }
    const text = withoutBom(piece.text, piece.line);
    if (text.trim() === '') continue;
    yield recordOf(piece.line, text, fields);
  }
}

// ---- JSON array ----

/** The items of a top-level JSON array, split by bracket depth outside strings, each handed on as
 * text (or as too long) with its number. Only the array's frame is checked here; an item's own
 * syntax is JSON.parse's, per item. Throws CaseFileError when the frame is broken. */
async function* arrayItemsOf(path: string): AsyncGenerator<Piece> {
  const buffer = new PieceBuffer(MAX_RECORD_BYTES);
  let opened = false; // past the `[`
  let closed = false; // past the `]`
  let inItem = false;
  let item = 0;
  // The file line the current item starts on (a rejects file names lines, as for the other formats).
  let line = 1;
  let itemLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let atFileStart = true;
  const piece = (): Piece => {
    const text = buffer.take();
    return text === undefined ? { line: itemLine, oversize: true, lines: 1 } : { line: itemLine, text };
  };
  for await (const chunk of bytesOf(path)) {
    let i = 0;
    if (atFileStart) {
      atFileStart = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    let itemStart = inItem ? i : -1;
    for (; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === NEWLINE) line += 1;
      if (inItem) {
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === 0x5c) escaped = true;
          else if (byte === QUOTE) inString = false;
        } else if (byte === QUOTE) inString = true;
        else if (byte === 0x7b || byte === 0x5b) depth += 1;
        else if ((byte === 0x7d || byte === 0x5d) && depth > 0) depth -= 1;
        else if (depth === 0 && (byte === COMMA || byte === 0x5d)) {
          buffer.add(chunk, itemStart, i);
          yield piece();
          inItem = false;
          closed = byte === 0x5d;
          itemStart = -1;
        }
        continue;
      }
      if (isJsonSpace(byte)) continue;
      if (!opened) {
        if (byte !== 0x5b) throw new CaseFileError(`${path} is JSON but not an array of case records`);
        opened = true;
      } else if (closed) {
        throw new CaseFileError(`${path} has more after the end of its JSON array`);
      } else if (byte === 0x5d && item === 0) {
        closed = true;
      } else if (byte === COMMA || byte === 0x5d) {
        // An empty item: `[1,,2]`, or a trailing comma.
        item += 1;
        yield { line, text: '' };
        closed = byte === 0x5d;
      } else {
        item += 1;
        itemLine = line;
        inItem = true;
        depth = 0;
        inString = false;
        escaped = false;
        itemStart = i;
        i -= 1; // look at this byte again as the item's first
      }
    }
    if (inItem && itemStart !== -1) buffer.add(chunk, itemStart, chunk.length);
  }
  if (!closed) {
    buffer.take();
    // An item still open at the end took the rest of the file: the file is cut short, or a { or [ in
    // that item has no match (the array's own ] was read as part of it). Which, and so where the
    // items after it begin, cannot be told for sure (a nested list can look like the array's end),
    // so the whole file is refused, naming the item to look at.
    throw new CaseFileError(
      !opened
        ? `${path} is empty: expected a JSON array of case records`
        : inItem
          ? `${path} is not valid JSON (truncated, or a { or [ in the item from line ${itemLine} has no match: the array is never closed)`
          : `${path} is not valid JSON (truncated: the array is never closed)`,
    );
  }
}

const isJsonSpace = (byte: number) =>
  byte === 0x20 || byte === 0x09 || byte === NEWLINE || byte === CARRIAGE_RETURN;

async function* readJsonArray(path: string, fields: RecordFields): AsyncGenerator<RawRecord> {
  // Check the array's frame first, so a truncated or broken file is refused before any of it is
  // used (an import never loads half of a file that is cut short).
  for await (const _ of arrayItemsOf(path)) {
    // only the frame is checked on this pass
  }
  for await (const piece of arrayItemsOf(path)) {
    if ('oversize' in piece) {
      yield tooLong('item', piece);
      continue;
    }
    if (piece.text.trim() === '') {
      yield { line: piece.line, code: 'unreadable', error: 'not valid JSON (an empty item)' };
      continue;
    }
    yield recordOf(piece.line, piece.text, fields);
  }
}

// ---- CSV ----

/** CSV records split where a `\n` falls outside a quoted field (RFC 4180: a quote opens a field only
 * at its start; `""` inside one is a quote), numbered by the line they start on. A record longer
 * than the limit is followed to its end by the same rules and reported as too long; a quote still
 * open at the end of the file makes the rest one record, as in any CSV reader. */
async function* csvRecordsOf(path: string): AsyncGenerator<Piece & { unclosed?: boolean }> {
  const buffer = new PieceBuffer(MAX_RECORD_BYTES + 1);
  let line = 1;
  let startLine = 1;
  let inQuotes = false;
  let quoteSeen = false; // inside quotes, the byte before was a quote: closing, or `""`
  let fieldStart = true; // only spaces and tabs since the field began
  let pending = false;
  const piece = (): Piece => {
    const text = buffer.take();
    return text === undefined
      ? { line: startLine, oversize: true, lines: line - startLine + 1 }
      : { line: startLine, text };
  };
  for await (const chunk of bytesOf(path)) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (byte === QUOTE) continue; // `""`: a quote inside the field
          inQuotes = false; // the quote before closed the field; look at this byte outside it
        } else {
          if (byte === QUOTE) quoteSeen = true;
          else if (byte === NEWLINE) line += 1;
          continue;
        }
      }
      if (byte === NEWLINE) {
        buffer.add(chunk, start, i);
        yield piece();
        pending = false;
        line += 1;
        startLine = line;
        start = i + 1;
        fieldStart = true;
      } else if (byte === COMMA) fieldStart = true;
      else if (byte === QUOTE && fieldStart) {
        inQuotes = true;
        fieldStart = false;
      } else if (byte !== 0x20 && byte !== 0x09) fieldStart = false;
    }
    if (start < chunk.length) {
      buffer.add(chunk, start, chunk.length);
      pending = true;
    }
  }
  if (pending) {
    const unclosed = inQuotes && !quoteSeen;
    yield unclosed ? { ...piece(), unclosed } : piece();
  }
}

const CSV_PROBLEMS: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text after a closing quote',
  CSV_QUOTE_NOT_CLOSED: 'a quote that is never closed',
};

/** The cells of one CSV record, or why it is not one (in our words: csv-parse's quote the input). */
function cellsOf(text: string): { cells: string[] } | { problem: string } {
  try {
    const rows = parseCsvRecord(text, {
      relax_column_count: true,
      trim: true,
      record_delimiter: ['\n'],
    }) as string[][];
    if (rows.length !== 1) return { problem: 'more than one record' };
    return { cells: rows[0] as string[] };
  } catch (error) {
    const code = error instanceof CsvError ? error.code : '';
    return { problem: CSV_PROBLEMS[code] ?? 'malformed' };
  }
}

/** The fields a file's records are read for: a field given twice (a JSON key, a CSV column) is
 * refused, since which value counts would be a guess; other names are dropped with the rest. */
export interface RecordFields {
  /** What the records are, for the message about a header naming none of them. */
  what: string;
  /** Named in that message. */
  listed: readonly string[];
  known: ReadonlySet<string>;
}

/** Case records: their fields, and the feed's sequence. */
export const CASE_RECORD_FIELDS: RecordFields = {
  what: 'case fields',
  listed: CASE_FIELDS,
  known: new Set([...CASE_FIELDS, 'sourceSequence']),
};

/** Checks the header row and returns the column names. A header naming a record field twice is
 * refused (which copy holds the value would be a guess); so is one with a forbidden name, and one
 * naming no record field at all (a file without a header row would otherwise reject every row).
 * Only known names are quoted: a "header" may be a data row of a file without one. */
function csvColumns(path: string, piece: Piece, fields: RecordFields): string[] {
  const where = `${path} line ${piece.line}`;
  if ('oversize' in piece) {
    throw new CaseFileError(`${where}: the CSV header row is longer than ${MAX_RECORD_BYTES} bytes`);
  }
  const parsed = cellsOf(withoutBom(piece.text, piece.line));
  if ('problem' in parsed) {
    throw new CaseFileError(`${where}: the CSV header row is not valid CSV (${parsed.problem})`);
  }
  const names = parsed.cells;
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (FORBIDDEN_KEYS.has(name)) {
      throw new CaseFileError(`${where}: CSV header column ${i + 1} is named ${name}, which is not allowed`);
    }
    if (!fields.known.has(name)) return;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new CaseFileError(
        `${where}: the CSV header names ${name} twice (columns ${earlier + 1} and ${i + 1}); which one holds the value is ambiguous`,
      );
    }
    seen.set(name, i);
  });
  if (seen.size === 0) {
    throw new CaseFileError(
      `${where}: the CSV header names none of the ${fields.what} (${fields.listed.join(', ')}); the first row must be the header`,
    );
  }
  return names;
}

/** Cells are strings in CSV: turn the boolean column into a boolean, drop empty cells and unnamed
 * columns. The header's names were checked (csvColumns), so assigning them is safe. */
function csvRecord(columns: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  columns.forEach((key, i) => {
    const value = cells[i];
    if (key === '' || value === undefined || value === '') return;
    if (key === 'childrenInvolved') {
      const lower = value.toLowerCase();
      out[key] = lower === 'true' ? true : lower === 'false' ? false : value;
    } else out[key] = value;
  });
  return out;
}

async function* readCsv(path: string, fields: RecordFields): AsyncGenerator<RawRecord> {
  let columns: string[] | undefined;
  for await (const piece of csvRecordsOf(path)) {
    if (!('oversize' in piece) && withoutBom(piece.text, piece.line).trim() === '') continue;
    if (columns === undefined) {
      columns = csvColumns(path, piece, fields);
      continue;
    }
    if (piece.unclosed) {
      // Whatever its size: the open quote is the cause, and every line after it is inside it.
      yield {
        line: piece.line,
        code: 'unreadable',
        error:
          'not a valid CSV row (a quote opened in it is never closed: the rest of the file is inside it)',
      };
      continue;
    }
    if ('oversize' in piece) {
      yield tooLong('row', piece);
      continue;
    }
    const parsed = cellsOf(piece.text);
    if ('problem' in parsed) {
      yield { line: piece.line, code: 'unreadable', error: `not a valid CSV row (${parsed.problem})` };
      continue;
    }
    yield { line: piece.line, raw: csvRecord(columns, parsed.cells) };
  }
  // An empty file is not an empty CSV: without a header row, nothing says it is one.
  if (columns === undefined) {
    throw new CaseFileError(`${path} is empty: a CSV file of cases begins with its header row`);
  }
}
