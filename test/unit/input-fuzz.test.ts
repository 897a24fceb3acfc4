// Fuzz tests of the input edges: the case-file readers (JSON Lines, JSON array and CSV, written to
// temp files) and the feed parser, over generated files and messages that mix good records with
// every kind of bad input (byte-order marks, CRLF and lone CR, huge lines, invalid UTF-8, binary
// noise, truncated and deeply nested JSON, `__proto__` keys, names typed into vocabulary columns,
// dates far out of range). Each must read without a crash or an undocumented throw, report every
// bad line with its number and every good one with its number, reject with the right code, and
// never put a generated value in a reason.
//
// Runs are seeded in CI (fixed seed) and random elsewhere; QUEUEWATCH_FUZZ_SEED replays a seed and
// QUEUEWATCH_FUZZ_SCALE multiplies the runs for a longer search.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CASE_FIELDS,
  CASE_REF_PATTERN,
  EARLIEST_INSTANT,
  FUTURE_TOLERANCE_MS,
  isOpenStage,
  RISK_LEVELS,
  STAGES,
} from '#shared/domain/case.ts';
import {
  CHANGE_TYPES,
  MAX_BODY_CHARS,
  parseChange,
  REJECT_CODES,
  type RejectCode,
  schemaFieldsOf,
  validateRecord,
} from '#shared/ingest/change.ts';
import { CaseFileError, MAX_RECORD_BYTES, type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import { at, defaultConfig, tempDir } from '#test/support/fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const SEED = process.env.QUEUEWATCH_FUZZ_SEED
  ? Number(process.env.QUEUEWATCH_FUZZ_SEED)
  : process.env.CI
    ? 20261130
    : undefined;
const SCALE = Number(process.env.QUEUEWATCH_FUZZ_SCALE ?? 1);
/** Generous: a loaded CI machine runs these several times slower than a quiet one. */
const TIMEOUT = 60_000 * Math.max(1, SCALE);
const runs = (numRuns: number) => ({
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  ...(SEED !== undefined ? { seed: SEED } : {}),
});

const NOW = at('2026-11-27T09:00:00Z');
const FLOOR = Date.parse(EARLIEST_INSTANT);
const LATEST = NOW + FUTURE_TOLERANCE_MS;
const { vocabulary } = defaultConfig();
const CATEGORIES = [...vocabulary.categories];
const DISTRICTS = [...vocabulary.districts];

/** Every generated value that is not a schema or vocabulary value carries this; no reason, error or
 * kept field may ever contain it. */
const MARK = 'qwpii';
const markArb = fc.stringMatching(/^[a-z0-9]{1,6}$/).map((s) => `${MARK}${s}`);
/** Free text as a source system might hold it: any characters around the mark. */
const freeTextArb = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 10 }), markArb, fc.string({ unit: 'binary', maxLength: 10 }))
  .map(([a, m, b]) => `${a}${m}${b}`);

/** What a string becomes written as UTF-8 and read back (a lone surrogate turns into U+FFFD). */
const roundTrip = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

// ---- instants ----

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** An ISO 8601 instant with an offset in minutes (Z for 0 when `z`). */
function isoAt(ms: number, offsetMinutes: number, z: boolean): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0 && z) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
const instantArb = (min: number, max: number) =>
  fc
    .tuple(fc.integer({ min, max }), fc.constantFrom(0, 0, 60, -300, 330), fc.boolean())
    // Whole seconds: the offset form carries no fraction, so the instant stays inside [min, max].
    .map(([ms, offset, z]) => isoAt(Math.floor(ms / 1000) * 1000, offset, z))
    .filter((s) => {
      const ms = Date.parse(s);
      return ms >= min && ms <= max;
    });
const plausibleArb = instantArb(FLOOR, LATEST);
const tooEarlyArb = instantArb(Date.parse('0001-01-01T00:00:00Z'), FLOOR - 1000);
const futureArb = instantArb(LATEST + 1000, Date.parse('9999-12-30T00:00:00Z'));

// ---- case records and their mutations ----

/** Well-formed references, cheaply: the usual shape and the pattern's extremes. */
const caseRefArb = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(fc.constantFrom('DA', 'CP', 'VA'), fc.nat(9_999_999))
      .map(([p, n]) => `${p}-001-${String(n).padStart(7, '0')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('ABC', '9-9', 'A'.repeat(40), 'Z-------') },
);

const caseArb = fc
  .record({
    caseRef: caseRefArb,
    category: fc.constantFrom(...CATEGORIES),
    riskLevel: fc.constantFrom(...RISK_LEVELS),
    district: fc.constantFrom(...DISTRICTS),
    stage: fc.constantFrom(...STAGES),
    stageEnteredAt: plausibleArb,
    childrenInvolved: fc.boolean(),
    sourceUpdatedAt: plausibleArb,
  })
  // A valid record's stage was entered no later than the source last changed it.
  .map((c) =>
    Date.parse(c.stageEnteredAt) > Date.parse(c.sourceUpdatedAt)
      ? { ...c, stageEnteredAt: c.sourceUpdatedAt, sourceUpdatedAt: c.stageEnteredAt }
      : c,
  );
type GenCase = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** A record as ordered JSON fragments, so that keys JSON.stringify cannot write (`__proto__`) and
 * values it would not build (nesting thousands deep) can be put in. */
type Entries = Array<[key: string, valueText: string]>;
const entriesOf = (record: Record<string, unknown>): Entries =>
  Object.entries(record).map(([k, v]) => [k, JSON.stringify(v)]);
const objectText = (entries: Entries, separator = ',') =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(separator)}}`;

/** Deeply nested junk carrying the mark, as JSON text. */
const nestedJunkArb = fc.oneof(
  fc
    .tuple(fc.integer({ min: 50, max: 3000 }), markArb)
    .map(([depth, m]) => `${'['.repeat(depth)}"${m}"${']'.repeat(depth)}`),
  fc
    .tuple(fc.integer({ min: 5, max: 400 }), markArb)
    .map(([depth, m]) => `${'{"a":'.repeat(depth)}"${m}"${'}'.repeat(depth)}`),
  fc.array(freeTextArb, { minLength: 1, maxLength: 3 }).map((a) => JSON.stringify(a)),
  fc.dictionary(markArb, freeTextArb, { minKeys: 1, maxKeys: 3 }).map((d) => JSON.stringify(d)),
);

/** One change to a valid record, with the reject code it must earn and the values no reason may
 * quote. */
interface Mutation {
  apply(entries: Entries): Entries;
  code: RejectCode;
  planted: string[];
}
const setField =
  (field: string, valueText: string) =>
  (entries: Entries): Entries =>
    entries.map(([k, v]) => (k === field ? [k, valueText] : [k, v]));

const fieldArb = fc.constantFrom(...CASE_FIELDS);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  markArb.map((m) => ({
    apply: setField('caseRef', JSON.stringify(m)),
    code: 'invalid-fields' as const,
    planted: [m],
  })),
  markArb.map((m) => ({
    apply: setField('category', JSON.stringify(m)),
    code: 'unknown-category' as const,
    planted: [m],
  })),
  markArb.map((m) => ({
    apply: setField('district', JSON.stringify(m)),
    code: 'unknown-district' as const,
    planted: [m],
  })),
  fc
    .tuple(fc.constantFrom('category', 'district', 'riskLevel', 'stage', 'childrenInvolved'), freeTextArb)
    .map(([field, text]) => ({
      apply: setField(field, JSON.stringify(`${text} x`)), // a space: no id pattern takes it
      code: 'invalid-fields' as const,
      planted: [text],
    })),
  tooEarlyArb.map((d) => ({
    apply: setField('stageEnteredAt', JSON.stringify(d)),
    code: 'implausible-date' as const,
    planted: [d],
  })),
  futureArb.map((d) => ({
    apply: setField('stageEnteredAt', JSON.stringify(d)),
    code: 'future-stage' as const,
    planted: [d],
  })),
  fc.oneof(tooEarlyArb, futureArb).map((d) => ({
    apply: setField('sourceUpdatedAt', JSON.stringify(d)),
    code: 'implausible-date' as const,
    planted: [d],
  })),
  fc.tuple(fc.constantFrom('stageEnteredAt', 'sourceUpdatedAt'), markArb).map(([field, m]) => ({
    apply: setField(field, JSON.stringify(`2026-03-29T00:30:00${m}`)),
    code: 'invalid-fields' as const,
    planted: [m],
  })),
  fc.tuple(fieldArb, nestedJunkArb).map(([field, junk]) => ({
    apply: setField(field, junk),
    code: 'invalid-fields' as const,
    planted: [],
  })),
  fieldArb.map((field) => ({
    apply: (entries: Entries) => entries.filter(([k]) => k !== field),
    code: 'invalid-fields' as const,
    planted: [],
  })),
  fc
    .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), markArb, fc.boolean())
    .map(([key, m, first]) => ({
      apply: (entries: Entries): Entries =>
        first ? [[key, JSON.stringify({ caseRef: m })], ...entries] : [...entries, [key, JSON.stringify(m)]],
      code: 'invalid-fields' as const,
      planted: [m],
    })),
);

/** Fields a source adds beside the case: names and notes (dropped), sometimes deeply nested junk. */
const extrasArb = fc.array(
  fc.oneof(
    freeTextArb.map((t): [string, string] => ['subjectName', JSON.stringify(t)]),
    freeTextArb.map((t): [string, string] => ['notes', JSON.stringify(t)]),
    nestedJunkArb.map((j): [string, string] => ['history', j]),
  ),
  { maxLength: 3 },
);

/** A line's outcome as the reader must report it, and what validation must then say. */
type Expect =
  | { kind: 'good' }
  | { kind: 'mutated'; code: RejectCode; planted: string[] }
  | { kind: 'junk' }
  | { kind: 'huge' }
  | { kind: 'blank' };

interface GenLine {
  bytes: Buffer;
  expect: Expect;
}

/** JSON text of a good or mutated record, sometimes with a lone CR as white space between members
 * and bytes that are not UTF-8 inside a dropped field's string. */
const recordTextArb: fc.Arbitrary<GenLine> = fc
  .tuple(
    caseArb,
    extrasArb,
    fc.option(mutationArb, { freq: 2 }),
    fc.boolean(),
    fc.option(fc.uint8Array({ minLength: 1, maxLength: 6 })),
  )
  .map(([record, extras, mutation, loneCr, rawBytes]) => {
    let entries: Entries = [...entriesOf(record), ...extras];
    if (mutation) entries = mutation.apply(entries);
    const expect: Expect = mutation
      ? { kind: 'mutated', code: mutation.code, planted: mutation.planted }
      : { kind: 'good' };
    const text = objectText(entries, loneCr ? ',\r' : ',');
    if (!rawBytes) return { bytes: Buffer.from(text), expect };
    // Bytes 0x80-0xFF inside a dropped string: not UTF-8, never a quote, backslash or newline.
    const invalid = Buffer.from(rawBytes.map((b) => 0x80 | b));
    const open = text.slice(0, -1);
    return {
      bytes: Buffer.concat([Buffer.from(`${open},"notes":"${MARK}`), invalid, Buffer.from('"}')]),
      expect,
    };
  });

const hugeLineArb: fc.Arbitrary<GenLine> = fc
  .tuple(fc.integer({ min: MAX_RECORD_BYTES + 2, max: 300_000 }), markArb)
  .map(([size, m]) => ({
    bytes: Buffer.concat([Buffer.from(`{"notes":"${m}`), Buffer.alloc(size, 'x'), Buffer.from('"}')]),
    expect: { kind: 'huge' },
  }));

/** Anything at all on one line: binary noise, truncated records, a lone CR somewhere. */
const junkLineArb: fc.Arbitrary<GenLine> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => ({
    bytes: Buffer.from(a.map((b) => (b === 0x0a ? 0x20 : b))),
    expect: { kind: 'junk' as const },
  })),
  fc.tuple(recordTextArb, fc.double({ min: 0, max: 1, noNaN: true })).map(([line, cut]) => ({
    bytes: line.bytes.subarray(0, Math.floor(line.bytes.length * cut)),
    expect: { kind: 'junk' as const },
  })),
  fc.tuple(freeTextArb, fc.constantFrom('\r', '\r\r', ' \r ')).map(([t, cr]) => ({
    bytes: Buffer.from(`${cr}${t.replaceAll('\n', ' ')}${cr}`),
    expect: { kind: 'junk' as const },
  })),
);

const blankLineArb: fc.Arbitrary<GenLine> = fc
  .constantFrom('', ' ', '\t', ' \r ')
  .map((t) => ({ bytes: Buffer.from(t), expect: { kind: 'blank' as const } }));

const lineArb = fc.oneof(
  { weight: 12, arbitrary: recordTextArb },
  { weight: 4, arbitrary: junkLineArb },
  { weight: 2, arbitrary: blankLineArb },
  { weight: 1, arbitrary: fc.constant(null) }, // the one huge line drawn beside them
);

/** What the reader must yield for one line (or item) of text, by the spec: over the limit is too
 * large, white space is skipped, otherwise JSON.parse decides. */
function expectedRecord(
  line: number,
  bytes: Buffer,
  blankIs: 'skipped' | 'empty-item',
): RawRecord | undefined {
  const body = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
  if (body.length > MAX_RECORD_BYTES) return { line, code: 'too-large', error: '' };
  const text = body.toString('utf8');
  if (text.trim() === '') return blankIs === 'skipped' ? undefined : { line, code: 'unreadable', error: '' };
  try {
    return { line, raw: JSON.parse(text) };
  } catch {
    return { line, code: 'unreadable', error: '' };
  }
}

async function readAll(path: string, format?: 'jsonl' | 'json' | 'csv'): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readCaseFile(path, format)) out.push(record);
  return out;
}

/** The same records, comparable: raw as JSON (own `__proto__` keys included), errors by code. */
const comparable = (records: RawRecord[]) =>
  records.map((r) =>
    'raw' in r ? { line: r.line, raw: JSON.stringify(r.raw) } : { line: r.line, code: r.code },
  );

const KNOWN_CODES: ReadonlySet<string> = new Set(REJECT_CODES);

/** Validates what the reader yielded and checks each outcome against what was generated. */
/** `expectations` by line, or with `byPosition` by the record's place in the file (a JSON array can
 * hold several items on one line). */
function checkValidation(records: RawRecord[], expectations: Map<number, Expect>, byPosition = false): void {
  for (const [i, record] of records.entries()) {
    const expected = expectations.get(byPosition ? i : record.line);
    if ('error' in record) {
      expect(record.error).not.toContain(MARK);
      expect(KNOWN_CODES.has(record.code)).toBe(true);
      continue;
    }
    const checked = validateRecord(record.raw, vocabulary, NOW);
    if (expected?.kind === 'good') expect(checked.ok).toBe(true);
    if (checked.ok) continue;
    expect(KNOWN_CODES.has(checked.code)).toBe(true);
    expect(checked.reason).not.toContain(MARK);
    if (checked.caseRef !== undefined) expect(checked.caseRef).toMatch(CASE_REF_PATTERN);
    if (expected?.kind === 'mutated') {
      expect(checked.code).toBe(expected.code);
      for (const planted of expected.planted) expect(checked.reason).not.toContain(planted);
    }
  }
}

let fileCount = 0;
const writeTemp = (ext: string, bytes: Buffer) => {
  const path = join(tmp.dir, `fuzz-${fileCount++}.${ext}`);
  writeFileSync(path, bytes);
  return path;
};

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EOLS = [Buffer.from('\n'), Buffer.from('\r\n')];

describe('fuzzing the case-file readers', () => {
  it(
    'reads JSON Lines: every line reported with its number and the right outcome, nothing quoted',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(lineArb, fc.nat(1)), { minLength: 8, maxLength: 30 }),
          hugeLineArb,
          fc.boolean(),
          fc.boolean(),
          async (drawn, huge, bom, finalEol) => {
            const lines = drawn.map(([line, eol]) => [line ?? huge, eol] as const);
            const parts: Buffer[] = bom ? [BOM] : [];
            const expected: RawRecord[] = [];
            const expectations = new Map<number, Expect>();
            lines.forEach(([line, eol], i) => {
              parts.push(line.bytes);
              if (i < lines.length - 1 || finalEol) parts.push(EOLS[eol] as Buffer);
              const record = expectedRecord(i + 1, line.bytes, 'skipped');
              if (record) expected.push(record);
              expectations.set(i + 1, line.expect);
            });
            const path = writeTemp('jsonl', Buffer.concat(parts));

            const records = await readAll(path);

            expect(comparable(records)).toEqual(comparable(expected));
            for (const [i, [line]] of lines.entries()) {
              if (line.expect.kind === 'huge')
                expect(records.find((r) => r.line === i + 1)).toMatchObject({ code: 'too-large' });
              if (line.expect.kind === 'good' || line.expect.kind === 'mutated')
                expect(records.find((r) => r.line === i + 1)).toHaveProperty('raw');
            }
            checkValidation(records, expectations);
          },
        ),
        runs(50),
      );
    },
    TIMEOUT,
  );

  const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

  /** Items that keep the array's frame whole: balanced, every string closed. */
  const frameSafeJunkArb: fc.Arbitrary<GenLine> = fc
    .oneof(
      fc.stringMatching(/^[a-z0-9 :.+-]{1,30}$/),
      fc.constantFrom(
        '{"a" 1}',
        '[1,,2]',
        '{"k":}',
        '{"caseRef":"DA-000-0000001",}',
        'tru',
        '{}',
        '[]',
        'null',
        '"x"',
      ),
      markArb,
    )
    .map((t) => ({ bytes: Buffer.from(t), expect: { kind: 'junk' as const } }));

  const itemArb = fc.oneof(
    { weight: 12, arbitrary: recordTextArb },
    { weight: 4, arbitrary: frameSafeJunkArb },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const spaceArb = fc.constantFrom('', ' ', '\n', '\r\n', '\r', '\t ');

  it(
    'reads a JSON array: every item by the file line it starts on, an empty or huge one reported, nothing quoted',
    async () => {
      const newlines = (bytes: Buffer) => bytes.filter((b) => b === 0x0a).length;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(itemArb, spaceArb, spaceArb), { minLength: 6, maxLength: 24 }),
          hugeLineArb,
          fc.boolean(),
          fc.boolean(),
          async (drawn, huge, bom, trailingComma) => {
            const items = drawn.map(([item, before, after]) => ({ item: item ?? huge, before, after }));
            const parts: Buffer[] = bom ? [BOM] : [];
            parts.push(Buffer.from('[\n'));
            let line = 2; // the line the next byte is on
            const expected: RawRecord[] = [];
            const expectations = new Map<number, Expect>();
            items.forEach(({ item, before, after }, i) => {
              if (i > 0) parts.push(Buffer.from(','));
              const bytes = Buffer.concat([Buffer.from(before), item.bytes, Buffer.from(after)]);
              parts.push(bytes);
              // An item is numbered by the line its first byte is on; an empty one, by the line of
              // the comma or bracket that ends it (after the array, the `]` follows a line break).
              const first = bytes.findIndex((b) => !isSpace(b));
              const last = i === items.length - 1 && !trailingComma;
              const at =
                first >= 0
                  ? line + newlines(bytes.subarray(0, first))
                  : line + newlines(bytes) + (last ? 1 : 0);
              expected.push(expectedRecord(at, bytes, 'empty-item') as RawRecord);
              expectations.set(i, item.expect);
              line += newlines(bytes);
            });
            if (trailingComma && items.length > 0) {
              parts.push(Buffer.from(','));
              expected.push({ line: line + 1, code: 'unreadable', error: '' });
            }
            parts.push(Buffer.from('\r\n]\n'));
            const path = writeTemp('json', Buffer.concat(parts));

            const records = await readAll(path, 'json');

            expect(comparable(records)).toEqual(comparable(expected));
            checkValidation(records, expectations, true);
          },
        ),
        runs(40),
      );
    },
    TIMEOUT,
  );

  /** Items one a line (`[`, then `  item,` lines, then `]`), some with their closing `}` taken off
   * (drawn as true in `unclosed`): where the items after an unclosed one might seem easy to find,
   * and are still never guessed at. */
  const oneALine = (items: readonly GenLine[], unclosed: readonly boolean[]) => {
    const open = items.map((item, i) => unclosed[i] === true && item.bytes.at(-1) === 0x7d);
    const bytes = items.map((item, i) => (open[i] ? item.bytes.subarray(0, -1) : item.bytes));
    const text = Buffer.concat([
      Buffer.from('[\n'),
      ...bytes.flatMap((b, i) => [Buffer.from('  '), b, Buffer.from(i < bytes.length - 1 ? ',\n' : '\n')]),
      Buffer.from(']\n'),
    ]);
    return { text, open, bytes };
  };
  const someItemsArb = fc.array(
    itemArb.filter((i): i is GenLine => i !== null),
    { minLength: 1, maxLength: 6 },
  );

  it(
    'refuses a JSON array cut short anywhere before its end, having read nothing, items one a line or not',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          someItemsArb,
          fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          fc.boolean(),
          fc.array(fc.boolean(), { maxLength: 6 }),
          async (items, cut, linewise, unclosed) => {
            const text = linewise
              ? oneALine(items, unclosed).text.subarray(0, -1) // without the last line's `\n`
              : Buffer.concat([
                  Buffer.from('['),
                  ...items.flatMap((item, i) => (i > 0 ? [Buffer.from(','), item.bytes] : [item.bytes])),
                  Buffer.from(']'),
                ]);
            const path = writeTemp('json', text.subarray(0, 1 + Math.floor((text.length - 1) * cut)));
            const seen: RawRecord[] = [];

            const error = await (async () => {
              for await (const record of readCaseFile(path, 'json')) seen.push(record);
            })().catch((e: unknown) => e);

            expect(error).toBeInstanceOf(CaseFileError);
            expect((error as Error).message).not.toContain(MARK);
            expect(seen).toEqual([]);
          },
        ),
        runs(30),
      );
    },
    TIMEOUT,
  );

  it(
    'refuses a JSON array in which an item’s closing brace is missing, naming that item’s line, having read nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            itemArb.filter(
              (i): i is GenLine => i !== null && i.bytes.length > 0 && !isSpace(i.bytes[0] as number),
            ),
            { minLength: 2, maxLength: 12 },
          ),
          fc.array(fc.boolean(), { maxLength: 12 }),
          async (items, unclosed) => {
            const { text, open, bytes } = oneALine(items, unclosed);
            const path = writeTemp('json', text);
            const seen: RawRecord[] = [];

            const outcome = await (async () => {
              for await (const record of readCaseFile(path, 'json')) seen.push(record);
            })().catch((e: unknown) => e);

            const first = open.indexOf(true);
            if (first === -1) {
              expect(outcome).toBeUndefined();
              expect(comparable(seen)).toEqual(
                comparable(bytes.map((b, i) => expectedRecord(i + 2, b, 'empty-item') as RawRecord)),
              );
              return;
            }
            expect(outcome).toBeInstanceOf(CaseFileError);
            expect((outcome as Error).message).toContain(`the item from line ${first + 2} has no match`);
            expect((outcome as Error).message).not.toContain(MARK);
            expect(seen).toEqual([]);
          },
        ),
        runs(40),
      );
    },
    TIMEOUT,
  );

  // ---- CSV ----

  const COLUMNS = [...CASE_FIELDS, 'subjectName', 'notes'];

  /** A CSV cell: quoted (quotes doubled) when it must be or when asked. */
  const cell = (value: string, quote: boolean) =>
    quote || /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;

  interface GenRow {
    text: string;
    expect: Expect;
    /** The record the reader must build, for a good or mutated row. */
    raw?: Record<string, unknown>;
  }

  const csvValue = (record: GenCase, column: string) => {
    const value = (record as Record<string, unknown>)[column];
    return typeof value === 'boolean' ? (value ? 'true' : 'FALSE') : String(value);
  };

  const csvMutationArb = fc.oneof(
    markArb.map((m) => ({ column: 'caseRef', value: m, code: 'invalid-fields' as const })),
    markArb.map((m) => ({ column: 'category', value: m, code: 'unknown-category' as const })),
    markArb.map((m) => ({ column: 'district', value: m, code: 'unknown-district' as const })),
    markArb.map((m) => ({ column: 'riskLevel', value: m, code: 'invalid-fields' as const })),
    markArb.map((m) => ({ column: 'childrenInvolved', value: m, code: 'invalid-fields' as const })),
    tooEarlyArb.map((d) => ({ column: 'stageEnteredAt', value: d, code: 'implausible-date' as const })),
    futureArb.map((d) => ({ column: 'stageEnteredAt', value: d, code: 'future-stage' as const })),
    fc
      .oneof(tooEarlyArb, futureArb)
      .map((d) => ({ column: 'sourceUpdatedAt', value: d, code: 'implausible-date' as const })),
    fc.constantFrom(...CASE_FIELDS).map((column) => ({ column, value: '', code: 'invalid-fields' as const })),
  );

  const csvRecordRowArb = (columns: readonly string[]): fc.Arbitrary<GenRow> =>
    fc
      .tuple(
        caseArb,
        freeTextArb,
        freeTextArb,
        fc.option(csvMutationArb, { freq: 2 }),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([record, name, notes, mutation, quoteAll, loneCr]) => {
        const raw: Record<string, unknown> = {};
        const cells = columns.map((column) => {
          if (column === 'notes' && loneCr) {
            // Unquoted, with a lone carriage return inside: part of the cell, not a line break.
            raw.notes = `${MARK}\r${MARK}`;
            return raw.notes;
          }
          const value =
            column === 'subjectName'
              ? name
              : column === 'notes'
                ? notes
                : mutation?.column === column
                  ? mutation.value
                  : csvValue(record, column);
          if (value !== '') {
            const read = roundTrip(value);
            raw[column] =
              column === 'childrenInvolved' && /^(true|false)$/i.test(read)
                ? read.toLowerCase() === 'true'
                : read;
          }
          return cell(value, quoteAll || column === 'subjectName' || column === 'notes');
        });
        const expect: Expect = mutation
          ? { kind: 'mutated', code: mutation.code, planted: mutation.value === '' ? [] : [mutation.value] }
          : { kind: 'good' };
        return { text: cells.join(','), expect, raw };
      });

  const csvJunkRowArb = (columns: readonly string[]): fc.Arbitrary<GenRow> =>
    fc
      .tuple(markArb, fc.constantFrom('a quote inside', 'text after a quote'), fc.nat(columns.length - 1))
      .map(([m, kind, at]) => {
        const bad = kind === 'a quote inside' ? `${m}"${m}` : `"${m}"${m}`;
        const cells = columns.map((_, i) => (i === at ? bad : 'x'));
        return { text: cells.join(','), expect: { kind: 'junk' as const } };
      });

  const csvHugeRowArb = (columns: readonly string[]): fc.Arbitrary<GenRow> =>
    fc
      .tuple(fc.integer({ min: MAX_RECORD_BYTES + 2, max: 250_000 }), fc.integer({ min: 0, max: 3 }), markArb)
      .map(([size, newlines, m]) => {
        const filler = `${m}${'y'.repeat(size)}`;
        const body = newlines === 0 ? filler : `${filler}${'\nmore'.repeat(newlines)}`;
        return {
          text: columns.map((c) => (c === 'notes' ? `"${body}"` : 'x')).join(','),
          expect: { kind: 'huge' as const },
        };
      });

  it(
    'reads CSV: every row by the line it starts on, over-long rows skipped and the rest read, nothing quoted',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .shuffledSubarray(COLUMNS, { minLength: COLUMNS.length, maxLength: COLUMNS.length })
            .chain((columns) =>
              fc.tuple(
                fc.constant(columns),
                fc.array(
                  fc.tuple(
                    fc.oneof(
                      { weight: 6, arbitrary: csvRecordRowArb(columns) },
                      { weight: 2, arbitrary: csvJunkRowArb(columns) },
                      { weight: 1, arbitrary: csvHugeRowArb(columns) },
                      {
                        weight: 1,
                        arbitrary: fc
                          .constantFrom('', '  ', '\t')
                          .map((text): GenRow => ({ text, expect: { kind: 'blank' } })),
                      },
                    ),
                    fc.nat(1),
                  ),
                  { minLength: 6, maxLength: 24 },
                ),
                fc.option(markArb),
                fc.boolean(),
              ),
            ),
          async ([columns, rows, unclosed, bom]) => {
            const eol = (i: number) => (i === 1 ? '\r\n' : '\n');
            let text = `${bom ? '\uFEFF' : ''}${columns.join(',')}\n`;
            let line = 2;
            const expected: Array<{ line: number; raw?: string; code?: string }> = [];
            const expectations = new Map<number, Expect>();
            for (const [row, e] of rows) {
              text += `${row.text}${eol(e)}`;
              expectations.set(line, row.expect);
              if (row.expect.kind === 'huge') expected.push({ line, code: 'too-large' });
              else if (row.expect.kind === 'junk') expected.push({ line, code: 'unreadable' });
              else if (row.expect.kind !== 'blank') expected.push({ line, raw: JSON.stringify(row.raw) });
              line += 1 + (row.text.match(/\n/g)?.length ?? 0);
            }
            if (unclosed) {
              // A quote opened in the last row and never closed: that row is reported, nothing after.
              text += `"${unclosed},x\nmore,${unclosed}\n`;
              expected.push({ line, code: 'unreadable' });
            }
            const path = writeTemp('csv', Buffer.from(text));

            const records = await readAll(path);

            const got = records.map((r) =>
              'raw' in r ? { line: r.line, raw: JSON.stringify(r.raw) } : { line: r.line, code: r.code },
            );
            expect(got).toEqual(expected);
            checkValidation(records, expectations);
          },
        ),
        runs(45),
      );
    },
    TIMEOUT,
  );

  it(
    'refuses a CSV header that names a case field twice or uses a forbidden name, and reads one that repeats another name',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            ...CASE_FIELDS,
            'sourceSequence',
            '__proto__',
            'constructor',
            'prototype',
            'notes',
            'subjectName',
          ),
          fc.nat(COLUMNS.length),
          caseArb,
          async (extra, position, record) => {
            const columns = [...COLUMNS.slice(0, position), extra, ...COLUMNS.slice(position)];
            const refused =
              (CASE_FIELDS as readonly string[]).includes(extra) ||
              ['__proto__', 'constructor', 'prototype'].includes(extra);
            const row = columns
              .map((c) => cell(Object.hasOwn(record, c) ? csvValue(record, c) : `${MARK}1`, false))
              .join(',');
            const path = writeTemp('csv', Buffer.from(`${columns.join(',')}\n${row}\n`));

            const outcome = await readAll(path).catch((e: unknown) => e);

            if (refused) {
              expect(outcome).toBeInstanceOf(CaseFileError);
              expect((outcome as Error).message).toContain(extra);
              expect((outcome as Error).message).not.toContain(MARK);
            } else {
              expect(outcome).toEqual([
                { line: 2, raw: expect.objectContaining({ caseRef: record.caseRef }) },
              ]);
            }
          },
        ),
        runs(30),
      );
    },
    TIMEOUT,
  );
});

// ---- the feed ----

/** A feed message body, and the reject code it must earn (undefined: it must be accepted). */
interface GenMessage {
  body: string;
  code: RejectCode | RejectCode[] | undefined;
  planted: string[];
}

const changeTypeFor = (stage: string) =>
  fc.constantFrom(
    ...CHANGE_TYPES.filter((t) => (isOpenStage(stage as never) ? t !== 'closed' : t !== 'reopened')),
  );

const envelopeMutationArb = fc.oneof(
  freeTextArb.map((t) => ({
    key: 'changeType',
    value: JSON.stringify(t),
    code: 'invalid-fields' as const,
    planted: [t],
  })),
  fc
    .constantFrom('-1', '1.5', '"7"', '1e300', '[]')
    .map((v) => ({ key: 'sourceSequence', value: v, code: 'invalid-fields' as const, planted: [] })),
  fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), markArb).map(([key, m]) => ({
    key,
    value: JSON.stringify({ changeType: m }),
    code: 'invalid-fields' as const,
    planted: [m],
  })),
);

const messageArb: fc.Arbitrary<GenMessage> = fc.oneof(
  {
    weight: 8,
    arbitrary: caseArb.chain((record) =>
      fc
        .tuple(
          fc.constant(record),
          changeTypeFor(record.stage),
          extrasArb,
          fc.option(
            fc.oneof(
              mutationArb.map((m) => ({ inCase: m })),
              envelopeMutationArb.map((m) => ({ inEnvelope: m })),
            ),
            { freq: 2 },
          ),
          fc.option(fc.nat(1_000_000)),
        )
        .map(([r, changeType, extras, mutation, sequence]) => {
          let caseEntries: Entries = [...entriesOf(r), ...extras];
          let envelope: Entries = [['changeType', JSON.stringify(changeType)]];
          if (sequence !== null) envelope.push(['sourceSequence', String(sequence)]);
          let code: GenMessage['code'];
          let planted: string[] = [];
          if (mutation && 'inCase' in mutation) {
            caseEntries = mutation.inCase.apply(caseEntries);
            ({ code, planted } = mutation.inCase);
          } else if (mutation) {
            const m = mutation.inEnvelope;
            envelope = [...envelope.filter(([k]) => k !== m.key), [m.key, m.value]];
            ({ code, planted } = m);
          }
          return {
            body: objectText([
              ...envelope,
              ['case', objectText(caseEntries)],
              ['subjectName', JSON.stringify(`${MARK}x`)],
            ]),
            code,
            planted,
          };
        }),
    ),
  },
  {
    weight: 1,
    arbitrary: caseArb
      .filter((r) => isOpenStage(r.stage))
      .map((r) => ({
        body: JSON.stringify({ changeType: 'closed', case: r }),
        code: 'inconsistent-change' as const,
        planted: [],
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(caseArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
      .map(([r, cut]) => {
        const body = JSON.stringify({ changeType: 'created', case: { ...r, notes: `${MARK}x` } });
        return {
          body: body.slice(0, Math.floor(body.length * cut)),
          code: 'invalid-json' as const,
          planted: [],
        };
      }),
  },
  {
    weight: 2,
    arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((noise) => ({
      body: `${noise}${MARK}`,
      code: ['invalid-json', 'not-an-object'] as RejectCode[],
      planted: [],
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('[]', '42', '"x"', 'null', 'true')
      .map((body) => ({ body, code: 'not-an-object' as const, planted: [] })),
  },
  {
    weight: 1,
    arbitrary: nestedJunkArb.map((junk) => ({
      body: `{"changeType":"created","case":${junk}}`,
      code: 'invalid-fields' as const,
      planted: [],
    })),
  },
);

describe('fuzzing the feed parser', () => {
  it(
    'never throws, rejects with the right code and never quotes a value, in the reason or the kept fields',
    () => {
      fc.assert(
        fc.property(messageArb, ({ body, code, planted }) => {
          const parsed = parseChange(body, vocabulary, NOW);

          if (code === undefined) {
            expect(parsed).toMatchObject({ ok: true });
            return;
          }
          expect(parsed.ok).toBe(false);
          if (parsed.ok) return;
          if (Array.isArray(code)) expect(code).toContain(parsed.code);
          else expect(parsed.code).toBe(code);
          expect(parsed.reason).not.toContain(MARK);
          for (const value of planted) expect(parsed.reason).not.toContain(value);
          if (parsed.caseRef !== undefined) expect(parsed.caseRef).toMatch(CASE_REF_PATTERN);
          let raw: unknown;
          try {
            raw = JSON.parse(body);
          } catch {
            return;
          }
          const kept = JSON.stringify(schemaFieldsOf(raw, vocabulary, NOW) ?? {});
          expect(kept).not.toContain(MARK);
          for (const value of planted) expect(kept).not.toContain(JSON.stringify(value).slice(1, -1));
        }),
        runs(2000),
      );
    },
    TIMEOUT,
  );

  it('refuses a body over the size limit before parsing it', () => {
    const body = `{"changeType":"created","notes":"${MARK}${'x'.repeat(MAX_BODY_CHARS)}"}`;

    expect(parseChange(body, vocabulary, NOW)).toEqual({
      ok: false,
      code: 'too-large',
      reason: `message is longer than ${MAX_BODY_CHARS} characters`,
    });
  });
});
