import { afterAll, describe, expect, it } from 'vitest';
import { CaseFileError, detectFormat, type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import { aCase, ref, tempDir } from '#test/support/fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function readAll(path: string): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readCaseFile(path)) out.push(record);
  return out;
}

const jsonl = (...lines: string[]) => lines.join('\n');
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
      { line: 2, error: expect.stringMatching(/^not valid JSON \(at character \d+\)$/) },
      { line: 3, error: 'not valid JSON (truncated)' },
      { line: 4, error: expect.stringMatching(/^not valid JSON/) },
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

    expect(records[0]).toEqual({ line: 1, error: 'line is longer than 65536 characters' });
    expect(records[1]).toEqual({ line: 2, raw: aCase() });
  });
});

describe('readCaseFile: JSON array', () => {
  it('reads each item, numbered from 1', async () => {
    const path = tmp.file(
      'cases.json',
      JSON.stringify([aCase({ caseRef: ref(1) }), aCase({ caseRef: ref(2) })], null, 2),
    );

    expect(await readAll(path)).toEqual([
      { line: 1, raw: aCase({ caseRef: ref(1) }) },
      { line: 2, raw: aCase({ caseRef: ref(2) }) },
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
    expect(errors).toEqual([{ line: 3, error: expect.stringMatching(/^not a valid CSV row/) }]);
    expect(JSON.stringify(errors)).not.toContain('SYNTHETIC');
    expect(records.filter((r) => 'raw' in r).map((r) => r.line)).toEqual([2, 4]);
  });
});

describe('readCaseFile: the file itself', () => {
  it('fails with CaseFileError when the file does not exist', async () => {
    const error = await readAll(`${tmp.dir}/no-such-file.jsonl`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CaseFileError);
    expect((error as Error).message).toBe(`cannot read ${tmp.dir}/no-such-file.jsonl: no such file`);
  });

  it('reads an empty file as no records', async () => {
    expect(await readAll(tmp.file('empty.jsonl', ''))).toEqual([]);
  });
});

describe('detectFormat', () => {
  it.each([
    ['cases.jsonl', '{', 'jsonl'],
    ['cases.ndjson', '{', 'jsonl'],
    ['cases.json', '  [\n{', 'json'],
    ['cases.json', '{"caseRef"', 'jsonl'],
    ['cases.CSV', 'caseRef,', 'csv'],
    ['cases.txt', '[', 'json'],
    ['cases', '{', 'jsonl'],
    ['cases', 'caseRef,category', 'csv'],
  ])('reads %s starting %j as %s', (path, start, format) => {
    expect(detectFormat(path, start)).toBe(format);
  });
});
