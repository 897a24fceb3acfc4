import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CaseFileError,
  detectFormat,
  MAX_RECORD_BYTES,
  type RawRecord,
  readCaseFile,
} from '#shared/io/case-file.ts';
import { aCase, ref, tempDir } from '#test/support/fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function readAll(path: string): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readCaseFile(path)) out.push(record);
  return out;
}

const jsonl = (...lines: string[]) => lines.join('\n');
const BOM = '\uFEFF';
const bytesFile = (name: string, bytes: Buffer) => {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  return path;
};
const failureOf = (path: string) =>
  readAll(path).then(
    () => undefined,
    (error: unknown) => error,
  );
const CSV_HEADER =
  'caseRef,category,riskLevel,district,stage,stageEnteredAt,childrenInvolved,sourceUpdatedAt';
const csvRow = (caseRef: string, childrenInvolved: string, extra = '') =>
  `${caseRef},domestic-abuse,high,D01,awaiting-risk-assessment,2026-03-29T00:30:00Z,${childrenInvolved},2026-03-29T00:30:00Z${extra}`;

describe('readCaseFile: JSON Lines', () => {
  it('reads one record a line, numbering lines from 1 and skipping blank ones', async () => {
    const path = tmp.file(
      'blank-lines.jsonl',
      jsonl(
        JSON.stringify(aCase({ caseRef: ref(1) })),
        '',
        '   ',
        JSON.stringify(aCase({ caseRef: ref(2) })),
        '',
      ),
    );

    const records = await readAll(path);

    expect(records).toEqual([
      { line: 1, raw: aCase({ caseRef: ref(1) }) },
      { line: 4, raw: aCase({ caseRef: ref(2) }) },
    ]);
  });

  it('reads Windows line endings', async () => {
    const path = tmp.file(
      'crlf.jsonl',
      `${JSON.stringify(aCase({ caseRef: ref(1) }))}\r\n${JSON.stringify(aCase({ caseRef: ref(2) }))}\r\n`,
    );

    expect((await readAll(path)).map((r) => r.line)).toEqual([1, 2]);
  });

  it('reports a malformed line with its number, without quoting it, and reads on', async () => {
    const path = tmp.file(
      'malformed.jsonl',
      jsonl(
        JSON.stringify(aCase({ caseRef: ref(1) })),
        '{"caseRef":"DA-000-0000002","subjectName":"SYNTHETIC-PERSON-2",}',
        '{"caseRef":"DA-000-0000003","notes":"SYNTHETIC-NOTE-3',
        'subjectName SYNTHETIC-PERSON-4',
        JSON.stringify(aCase({ caseRef: ref(5) })),
      ),
    );

    const records = await readAll(path);

    expect(records).toEqual([
      { line: 1, raw: aCase({ caseRef: ref(1) }) },
      { line: 2, code: 'unreadable', error: expect.stringMatching(/^not valid JSON \(at character \d+\)$/) },
      { line: 3, code: 'unreadable', error: 'not valid JSON (truncated)' },
      { line: 4, code: 'unreadable', error: expect.stringMatching(/^not valid JSON/) },
      { line: 5, raw: aCase({ caseRef: ref(5) }) },
    ]);
    expect(JSON.stringify(records.filter((r) => 'error' in r))).not.toContain('SYNTHETIC-');
  });

  it('passes on JSON that is not an object for the schema to reject', async () => {
    const path = tmp.file('scalar.jsonl', '42\n"DA-000-0000001"\n');

    expect(await readAll(path)).toEqual([
      { line: 1, raw: 42 },
      { line: 2, raw: 'DA-000-0000001' },
    ]);
  });

  it('rejects a line longer than 64 KiB without parsing it', async () => {
    const path = tmp.file('long.jsonl', `{"notes":"${'x'.repeat(70_000)}"}\n${JSON.stringify(aCase())}\n`);

    const records = await readAll(path);

    expect(records[0]).toEqual({ line: 1, code: 'too-large', error: 'line is longer than 65536 bytes' });
    expect(records[1]).toEqual({ line: 2, raw: aCase() });
  });
});

describe('readCaseFile: a field given twice', () => {
  it('refuses a record that gives one of its fields twice, in JSON Lines and in an array, and reads the rest', async () => {
    const twice = JSON.stringify(aCase({ caseRef: ref(1) })).replace(
      '"riskLevel":"high"',
      '"riskLevel":"high","riskLevel":"standard"',
    );
    const spaced = twice.replace('"riskLevel":"standard"', '"riskLevel" : "standard"');
    const other = JSON.stringify({ ...aCase({ caseRef: ref(2) }), notes: 'x' }).replace(
      '"notes":"x"',
      '"notes":"x","notes":"y"',
    );
    const colonInValue = JSON.stringify({ ...aCase({ caseRef: ref(3) }), notes: 'a": b' });
    const reason = 'riskLevel is given more than once: which value counts would be a guess';
    const lines = tmp.file('twice.jsonl', [twice, spaced, other, colonInValue].join('\n'));
    const array = tmp.file('twice.json', `[\n${[twice, colonInValue].join(',\n')}\n]`);

    expect(twice).toContain('"riskLevel":"high","riskLevel":"standard"');
    expect(await readAll(lines)).toEqual([
      { line: 1, code: 'unreadable', error: reason },
      { line: 2, code: 'unreadable', error: reason },
      { line: 3, raw: JSON.parse(other) }, // a name the record does not use: dropped with the rest
      { line: 4, raw: JSON.parse(colonInValue) },
    ]);
    expect(await readAll(array)).toEqual([
      { line: 2, code: 'unreadable', error: reason },
      { line: 3, raw: JSON.parse(colonInValue) },
    ]);
  });
});

describe('readCaseFile: JSON Lines edges', () => {
  it('ignores a UTF-8 byte-order mark at the start of the file', async () => {
    const path = tmp.file('bom.jsonl', `${BOM}${JSON.stringify(aCase({ caseRef: ref(1) }))}\n`);

    expect(await readAll(path)).toEqual([{ line: 1, raw: aCase({ caseRef: ref(1) }) }]);
  });

  it('counts lines by \\n only: a lone carriage return does not shift the numbers after it', async () => {
    const path = tmp.file(
      'lone-cr.jsonl',
      [
        `{"caseRef":"${ref(1)}",\r"riskLevel":"high"}`,
        `{"caseRef":"${ref(2)}","notes":"a\rb"}`,
        JSON.stringify(aCase({ caseRef: ref(3) })),
      ].join('\r\n'),
    );

    expect(await readAll(path)).toEqual([
      { line: 1, raw: { caseRef: ref(1), riskLevel: 'high' } },
      { line: 2, code: 'unreadable', error: expect.stringMatching(/^not valid JSON/) },
      { line: 3, raw: aCase({ caseRef: ref(3) }) },
    ]);
  });

  it('reads a line of exactly the limit, CRLF or not, and rejects one byte more', async () => {
    const lineOf = (bytes: number) => `{"notes":"${'x'.repeat(bytes - 12)}"}`;
    expect(lineOf(MAX_RECORD_BYTES)).toHaveLength(MAX_RECORD_BYTES);
    const path = tmp.file(
      'limit.jsonl',
      `${lineOf(MAX_RECORD_BYTES)}\r\n${lineOf(MAX_RECORD_BYTES + 1)}\n${lineOf(MAX_RECORD_BYTES)}`,
    );

    expect((await readAll(path)).map((r) => [r.line, 'raw' in r ? 'read' : r.code])).toEqual([
      [1, 'read'],
      [2, 'too-large'],
      [3, 'read'],
    ]);
  });

  it('streams past a line of 64 MiB: reports it with its number, reads the rest, never holds it', async () => {
    const path = join(tmp.dir, 'huge.jsonl');
    const fd = openSync(path, 'w');
    writeSync(fd, `${JSON.stringify(aCase({ caseRef: ref(1) }))}\n{"notes":"`);
    const block = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 64; i++) writeSync(fd, block);
    writeSync(fd, `"}\n${JSON.stringify(aCase({ caseRef: ref(3) }))}\n`);
    closeSync(fd);
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 1);

    const records = await readAll(path).finally(() => clearInterval(sampler));

    expect(records).toEqual([
      { line: 1, raw: aCase({ caseRef: ref(1) }) },
      { line: 2, code: 'too-large', error: 'line is longer than 65536 bytes' },
      { line: 3, raw: aCase({ caseRef: ref(3) }) },
    ]);
    // Holding the line as text would take 64 MiB of heap.
    expect(heapPeak - heapBefore).toBeLessThan(24 * 1024 * 1024);
  }, 30_000);

  it('decodes bytes that are not UTF-8 as U+FFFD: a dropped field still reads, a schema field fails there', async () => {
    const path = bytesFile(
      'latin1.jsonl',
      Buffer.concat([
        Buffer.from(`{"caseRef":"${ref(1)}","notes":"caf`),
        Buffer.from([0xe9, 0xff]),
        Buffer.from(`"}\n{"caseRef":"DA-`),
        Buffer.from([0xc3]),
        Buffer.from(`"}\n`),
      ]),
    );

    expect(await readAll(path)).toEqual([
      { line: 1, raw: { caseRef: ref(1), notes: 'caf\uFFFD\uFFFD' } },
      { line: 2, raw: { caseRef: 'DA-\uFFFD' } },
    ]);
  });

  it('reads a last line without a newline', async () => {
    const path = tmp.file('no-eol.jsonl', `\n\n${JSON.stringify(aCase())}`);

    expect(await readAll(path)).toEqual([{ line: 3, raw: aCase() }]);
  });
});

describe('readCaseFile: JSON array', () => {
  it('reads each item, numbered by the file line it starts on', async () => {
    // Pretty-printed: `[`, then each case over ten lines (`{`, eight fields, `}`).
    const path = tmp.file(
      'cases.json',
      JSON.stringify([aCase({ caseRef: ref(1) }), aCase({ caseRef: ref(2) })], null, 2),
    );

    expect(await readAll(path)).toEqual([
      { line: 2, raw: aCase({ caseRef: ref(1) }) },
      { line: 12, raw: aCase({ caseRef: ref(2) }) },
    ]);
  });

  it('fails with CaseFileError, without quoting the file, when the array is not valid JSON', async () => {
    const path = tmp.file('broken.json', '[{"caseRef":"DA-000-0000001","subjectName":"SYNTHETIC-PERSON-1"');

    const error = await readAll(path).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(/broken.json is not valid JSON/);
    expect((error as Error).message).not.toContain('SYNTHETIC');
  });

  it('treats a .json file of one object a line as JSON Lines', async () => {
    const path = tmp.file('lines.json', `${JSON.stringify(aCase())}\n`);

    expect(await readAll(path)).toEqual([{ line: 1, raw: aCase() }]);
  });
});

describe('readCaseFile: JSON array edges', () => {
  it('ignores a byte-order mark and splits items by structure, not by their text', async () => {
    const tricky = { ...aCase({ caseRef: ref(1) }), notes: 'a, "b" ] } [ { \\ ,' };
    const path = tmp.file(
      'tricky.json',
      `${BOM} [ ${JSON.stringify(tricky)} ,\r\n${JSON.stringify(aCase({ caseRef: ref(2) }))} ]\n`,
    );

    expect(await readAll(path)).toEqual([
      { line: 1, raw: tricky },
      { line: 2, raw: aCase({ caseRef: ref(2) }) },
    ]);
  });

  it('reports a malformed, an empty and an over-long item by line and reads the rest', async () => {
    const path = tmp.file(
      'items.json',
      `[${JSON.stringify(aCase({ caseRef: ref(1) }))},\n{"caseRef": "${ref(2)}",},\n,\n{"notes": "${'x'.repeat(MAX_RECORD_BYTES)}"},\n[1, {"a": []}],\n${JSON.stringify(aCase({ caseRef: ref(6) }))},\n]`,
    );

    expect(await readAll(path)).toEqual([
      { line: 1, raw: aCase({ caseRef: ref(1) }) },
      { line: 2, code: 'unreadable', error: expect.stringMatching(/^not valid JSON \(at character \d+\)$/) },
      { line: 3, code: 'unreadable', error: 'not valid JSON (an empty item)' },
      { line: 4, code: 'too-large', error: 'item is longer than 65536 bytes' },
      { line: 5, raw: [1, { a: [] }] },
      { line: 6, raw: aCase({ caseRef: ref(6) }) },
      { line: 7, code: 'unreadable', error: 'not valid JSON (an empty item)' },
    ]);
  });

  it.each([
    [
      'an item’s { is never closed, with items after it',
      `[\n  {"caseRef": "${ref(1)}"},\n  {"caseRef": "${ref(2)}",\n  {"caseRef": "${ref(3)}"}\n]\n`,
      3,
    ],
    ['its last item is never closed', `[\n  {"caseRef": "${ref(1)}"},\n  {"caseRef": "${ref(2)}"\n]\n`, 3],
    ['it is cut short inside an item', `[\n  {"caseRef": "${ref(1)}"},\n  {"caseRef": "${ref(2)}"`, 3],
    [
      // Cut after a nested list whose objects start at the items' own column: its ] looks like the
      // array's end, and what follows the list could be taken for cases. Nothing is.
      'it is cut short after a nested list that looks like the array’s end',
      `[\n  {"caseRef": "${ref(1)}"},\n  {"caseRef": "${ref(2)}", "linked": [\n  {"caseRef": "${ref(3)}"},\n  {"caseRef": "${ref(4)}"}\n  ]\n`,
      3,
    ],
    [
      'its items share a line',
      `[{"caseRef": "${ref(1)}"}, {"caseRef": "${ref(2)}", {"caseRef": "${ref(3)}"}]`,
      1,
    ],
  ])(
    'refuses the whole file, reading nothing, and names the open item by line when %s',
    async (name, text, line) => {
      const path = tmp.file(`open-item-${name.replaceAll(/[^a-z]+/g, '-')}.json`, text);
      const seen: RawRecord[] = [];

      const error = await (async () => {
        for await (const record of readCaseFile(path)) seen.push(record);
      })().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(CaseFileError);
      expect((error as Error).message).toBe(
        `${path} is not valid JSON (truncated, or a { or [ in the item from line ${line} has no match: the array is never closed)`,
      );
      expect(seen).toEqual([]);
    },
  );

  it('reads an empty array as no records', async () => {
    expect(await readAll(tmp.file('empty-array.json', ' [ ] '))).toEqual([]);
  });

  it.each([
    [
      'text after the array',
      `[${JSON.stringify(aCase())}] {"a":1}`,
      /has more after the end of its JSON array/,
    ],
    ['a string never closed', `[${JSON.stringify(aCase())}, {"notes": "SYNTHETIC-NOTE-1]`, /truncated/],
    ['an object, not an array', `{"items": [${JSON.stringify(aCase())}]}`, /is JSON but not an array/],
  ])('refuses the whole file for %s, before reading any record', async (name, text, message) => {
    const path = join(tmp.dir, `refused-${name.replaceAll(' ', '-')}.json`);
    writeFileSync(path, text);
    const seen: RawRecord[] = [];

    const error = await (async () => {
      for await (const record of readCaseFile(path, 'json')) seen.push(record);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('SYNTHETIC');
    expect(seen).toEqual([]);
  });
});

describe('readCaseFile: CSV', () => {
  it('reads rows under a header, coercing childrenInvolved to a boolean', async () => {
    const path = tmp.file(
      'cases.csv',
      [CSV_HEADER, csvRow(ref(1), 'true'), csvRow(ref(2), 'FALSE'), ''].join('\n'),
    );

    const records = await readAll(path);

    expect(records).toEqual([
      {
        line: 2,
        raw: aCase({
          caseRef: ref(1),
          childrenInvolved: true,
          stageEnteredAt: '2026-03-29T00:30:00Z',
          sourceUpdatedAt: '2026-03-29T00:30:00Z',
        }),
      },
      {
        line: 3,
        raw: aCase({
          caseRef: ref(2),
          childrenInvolved: false,
          stageEnteredAt: '2026-03-29T00:30:00Z',
          sourceUpdatedAt: '2026-03-29T00:30:00Z',
        }),
      },
    ]);
  });

  it('leaves a childrenInvolved that is not true or false for the schema to reject', async () => {
    const path = tmp.file('yes.csv', [CSV_HEADER, csvRow(ref(1), 'yes')].join('\n'));

    const [record] = await readAll(path);

    expect(record).toMatchObject({ raw: { childrenInvolved: 'yes' } });
  });

  it('drops empty cells so a missing value reads as missing', async () => {
    const path = tmp.file('empty-cell.csv', [CSV_HEADER, csvRow(ref(1), '')].join('\n'));

    const [record] = await readAll(path);

    expect(record && 'raw' in record && record.raw).not.toHaveProperty('childrenInvolved');
  });

  it('skips blank lines and keeps the file’s line numbers', async () => {
    const path = tmp.file(
      'blank.csv',
      [CSV_HEADER, csvRow(ref(1), 'true'), '', csvRow(ref(2), 'true')].join('\n'),
    );

    expect((await readAll(path)).map((r) => r.line)).toEqual([2, 4]);
  });

  it('reports a malformed row once, with its line and without quoting it, and reads on', async () => {
    const path = tmp.file(
      'bad-row.csv',
      [
        `${CSV_HEADER},subjectName`,
        csvRow(ref(1), 'true', ',SYNTHETIC-PERSON-1'),
        csvRow(ref(2), 'true', ',SYNTHETIC-PERSON-2 "quoted" name'),
        csvRow(ref(3), 'true', ',SYNTHETIC-PERSON-3'),
      ].join('\n'),
    );

    const records = await readAll(path);

    const errors = records.filter((r) => 'error' in r);
    expect(errors).toEqual([
      { line: 3, code: 'unreadable', error: expect.stringMatching(/^not a valid CSV row/) },
    ]);
    expect(JSON.stringify(errors)).not.toContain('SYNTHETIC');
    expect(records.filter((r) => 'raw' in r).map((r) => r.line)).toEqual([2, 4]);
  });
});

describe('readCaseFile: CSV edges', () => {
  it('ignores a byte-order mark, reads CRLF rows and numbers a multi-line row by its first line', async () => {
    const path = tmp.file(
      'crlf.csv',
      `${BOM}${CSV_HEADER},notes\r\n${csvRow(ref(1), 'true', ',"line one\r\nline two"')}\r\n${csvRow(ref(2), 'false')}\r\n`,
    );

    expect(await readAll(path)).toEqual([
      { line: 2, raw: expect.objectContaining({ caseRef: ref(1), notes: 'line one\r\nline two' }) },
      { line: 4, raw: expect.objectContaining({ caseRef: ref(2), childrenInvolved: false }) },
    ]);
  });

  it('counts lines by \\n only: a lone carriage return stays in its row', async () => {
    const path = tmp.file(
      'lone-cr.csv',
      [`${CSV_HEADER},notes`, csvRow(ref(1), 'true', ',a\rb'), csvRow(ref(2), 'true')].join('\n'),
    );

    expect(
      (await readAll(path)).map((r) => [r.line, 'raw' in r && (r.raw as { caseRef: string }).caseRef]),
    ).toEqual([
      [2, ref(1)],
      [3, ref(2)],
    ]);
  });

  it('rejects an over-long row with its line and reads every row after it', async () => {
    const path = tmp.file(
      'long-row.csv',
      [
        `${CSV_HEADER},notes`,
        csvRow(ref(1), 'true'),
        csvRow(ref(2), 'true', `,"${'SYNTHETIC-NOTE '.repeat(10_000)}\n${'more '.repeat(5000)}"`),
        csvRow(ref(4), 'true'),
        csvRow(ref(5), 'true'),
      ].join('\n'),
    );

    const records = await readAll(path);

    expect(records.map((r) => ('raw' in r ? r.line : r))).toEqual([
      2,
      { line: 3, code: 'too-large', error: 'row is longer than 65536 bytes (it runs over 2 lines)' },
      5,
      6,
    ]);
  });

  it('reports a quote left open as one bad row running to the end of the file', async () => {
    const path = tmp.file(
      'open-quote.csv',
      [CSV_HEADER, csvRow(ref(1), 'true'), `${ref(2)},"domestic-abuse,high`, csvRow(ref(3), 'true')].join(
        '\n',
      ),
    );

    expect(await readAll(path)).toEqual([
      { line: 2, raw: expect.objectContaining({ caseRef: ref(1) }) },
      {
        line: 3,
        code: 'unreadable',
        error: expect.stringMatching(/^not a valid CSV row \(a quote opened in it is never closed/),
      },
    ]);
  });

  it('refuses a header that names a case field twice, naming the column', async () => {
    const path = tmp.file(
      'dup.csv',
      [`${CSV_HEADER},notes,district`, `${csvRow(ref(1), 'true')},x,D02`].join('\n'),
    );

    const error = await failureOf(path);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(
      /dup\.csv line 1: the CSV header names district twice \(columns 4 and 10\); which one holds the value is ambiguous$/,
    );
  });

  it('allows columns outside the schema to repeat: they are dropped anyway', async () => {
    const path = tmp.file(
      'dup-notes.csv',
      [`${CSV_HEADER},notes,notes`, `${csvRow(ref(1), 'true')},a,b`].join('\n'),
    );

    expect(await readAll(path)).toEqual([{ line: 2, raw: expect.objectContaining({ caseRef: ref(1) }) }]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a header with a %s column', async (name) => {
    const path = tmp.file(
      `proto-${name}.csv`,
      [`${CSV_HEADER},${name}`, `${csvRow(ref(1), 'true')},x`].join('\n'),
    );

    const error = await failureOf(path);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(
      `line 1: CSV header column 9 is named ${name}, which is not allowed`,
    );
  });

  it('refuses a file whose first row names no case field, without quoting it', async () => {
    const path = tmp.file(
      'headless.csv',
      [csvRow(ref(1), 'true', ',SYNTHETIC-PERSON-1'), csvRow(ref(2), 'true')].join('\n'),
    );

    const error = await failureOf(path);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toMatch(
      /names none of the case fields \(caseRef, .*\); the first row must be the header$/,
    );
    expect((error as Error).message).not.toContain('SYNTHETIC');
  });
});

describe('readCaseFile: the file itself', () => {
  it('fails with CaseFileError when the file does not exist', async () => {
    const error = await readAll(`${tmp.dir}/no-such-file.jsonl`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toBe(`cannot read ${tmp.dir}/no-such-file.jsonl: no such file`);
  });

  it('reads an empty JSON Lines file as no records, and refuses an empty CSV or .json file', async () => {
    const csv = tmp.file('empty.csv', '\n');
    const json = tmp.file('empty.json', ' \n');

    expect(await readAll(tmp.file('empty.jsonl', ''))).toEqual([]);
    const csvError = await failureOf(csv);
    expect(csvError).toBeInstanceOf(CaseFileError);
    expect((csvError as Error).message).toBe(
      `${csv} is empty: a CSV file of cases begins with its header row`,
    );
    const jsonError = await failureOf(json);
    expect(jsonError).toBeInstanceOf(CaseFileError);
    expect((jsonError as Error).message).toBe(`${json} is empty: expected a JSON array of case records`);
  });
});

describe('detectFormat', () => {
  it.each([
    ['cases.jsonl', '{', 'jsonl'],
    ['cases.ndjson', '{', 'jsonl'],
    ['cases.json', '  [\n{', 'json'],
    ['cases.json', '{"caseRef"', 'jsonl'],
    ['cases.json', '', 'json'],
    ['cases.json', ' \n', 'json'],
    ['cases.CSV', 'caseRef,', 'csv'],
    ['cases.txt', '[', 'json'],
    ['cases', '{', 'jsonl'],
    ['cases', 'caseRef,category', 'csv'],
  ])('reads %s starting %j as %s', (path, start, format) => {
    expect(detectFormat(path, start)).toBe(format);
  });
});
