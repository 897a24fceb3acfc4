import { afterAll, describe, expect, it } from 'vitest';
import { collectCases } from '#shared/app/evaluate.ts';
import { formatRecords } from '#shared/cli/generate-command.ts';
import { CASE_FIELDS, checkCase } from '#shared/domain/case.ts';
import { defaultBacklog, generateQueue } from '#shared/generate/queue.ts';
import { type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import { at, DAY, defaultConfig, tempDir } from '#test/support/fixtures.ts';

const NOW = at('2026-11-27T09:00:00Z');
const districts = () => Object.keys(defaultConfig().file.districts);
const generate = (open: number, closed: number, seed: number, extra = {}) => [
  ...generateQueue({ open, closed, seed, nowMs: NOW, districts: districts(), ...extra }),
];

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('generateQueue', () => {
  it('gives the same queue for the same seed', () => {
    expect(generate(300, 30, 42)).toEqual(generate(300, 30, 42));
  });

  it('gives a different queue for another seed', () => {
    expect(generate(300, 30, 42)).not.toEqual(generate(300, 30, 43));
  });

  it('never gives two seeds one case reference (1 and 1001 once did)', () => {
    const refs = (seed: number) => new Set(generate(50, 0, seed).map((r) => r.caseRef));
    const one = refs(1);

    expect([...refs(1001)].filter((ref) => one.has(ref))).toEqual([]);
    expect([...one][0]).toMatch(/^[A-Z]{2}-001-\d{7}$/);
  });

  it('makes the open and closed cases asked for, each valid under the shipped config', () => {
    const records = generate(1000, 200, 7);
    const vocabulary = defaultConfig().vocabulary;

    const invalid = records.filter((r) => !checkCase(r, vocabulary, NOW).ok);

    expect(records).toHaveLength(1200);
    expect(invalid).toEqual([]);
    expect(new Set(records.map((r) => r.caseRef)).size).toBe(1200);
    expect(records.slice(0, 1000).every((r) => !['closed', 'referral-acknowledged'].includes(r.stage))).toBe(
      true,
    );
    expect(records.slice(1000).every((r) => ['closed', 'referral-acknowledged'].includes(r.stage))).toBe(
      true,
    );
  });

  it('starts every stage and source update at or before now', () => {
    const records = generate(500, 100, 3);

    expect(
      records.filter((r) => Date.parse(r.stageEnteredAt) > NOW || Date.parse(r.sourceUpdatedAt) > NOW),
    ).toEqual([]);
  });

  it('mixes categories, risk levels and districts', () => {
    const records = generate(2000, 0, 5);

    expect(new Set(records.map((r) => r.category))).toEqual(new Set(defaultConfig().file.categories));
    expect(new Set(records.map((r) => r.riskLevel))).toEqual(new Set(['high', 'medium', 'standard']));
    expect(new Set(records.map((r) => r.district))).toEqual(new Set(districts()));
  });

  it('includes an iOPS-like backlog of domestic abuse cases awaiting assessment, up to 90 days old', () => {
    const records = generate(14_000, 0, 9);
    const backlog = records.filter(
      (r) =>
        r.category === 'domestic-abuse' &&
        r.stage === 'awaiting-risk-assessment' &&
        NOW - Date.parse(r.stageEnteredAt) > 30 * DAY,
    );
    const oldest = Math.max(...records.map((r) => NOW - Date.parse(r.stageEnteredAt)));

    expect(defaultBacklog(14_000)).toBe(700);
    expect(backlog.length).toBeGreaterThan(400);
    expect(oldest).toBeGreaterThan(80 * DAY);
    expect(oldest).toBeLessThanOrEqual(90 * DAY);
  });

  it('caps the default backlog at 700 and makes it 5% of a small queue', () => {
    expect([defaultBacklog(100), defaultBacklog(1000), defaultBacklog(20_000)]).toEqual([5, 50, 700]);
  });

  it('adds synthetic source fields only when asked', () => {
    const [plain] = generate(1, 0, 1);
    const [withFields] = generate(1, 0, 1, { withSourceFields: true });

    expect(Object.keys(plain ?? {}).sort()).toEqual([...CASE_FIELDS].sort());
    expect(withFields).toMatchObject({
      subjectName: expect.stringMatching(/^SYNTHETIC-PERSON-\d+$/),
      address: expect.stringMatching(/^SYNTHETIC-ADDRESS-\d+$/),
      notes: expect.stringMatching(/^SYNTHETIC-NOTE-\d+/),
    });
  });

  it('needs at least one district', () => {
    expect(() => [...generateQueue({ open: 1, nowMs: NOW, districts: [] })]).toThrow(RangeError);
  });
});

describe('generated files', () => {
  async function roundTrip(format: 'jsonl' | 'json' | 'csv') {
    const records = generate(200, 20, 11, { withSourceFields: true });
    const path = tmp.file(`queue.${format}`, [...formatRecords(records, format)].join(''));
    const raws: RawRecord[] = [];
    for await (const raw of readCaseFile(path)) raws.push(raw);
    return { records, collected: await collectCases(raws, defaultConfig(), NOW) };
  }

  it.each(['jsonl', 'json', 'csv'] as const)('reads back the same cases from %s', async (format) => {
    const { records, collected } = await roundTrip(format);
    const schemaFieldsOnly = records.map((r) => Object.fromEntries(CASE_FIELDS.map((f) => [f, r[f]])));

    expect(collected.invalid).toEqual([]);
    expect(collected.cases).toEqual(schemaFieldsOnly);
  });
});
