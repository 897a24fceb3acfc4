// Source records carry names, addresses and notes. They must not reach any output: not the JSON
// report, not the text report, not an SMS or email, not an invalid-record reason.

import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRecords } from '#shared/app/evaluate.ts';
import { formatReport } from '#shared/cli/evaluate-command.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import { at, defaultConfig, PII_MARKERS, piiMarkerIn, rawRecords, tempDir } from '#test/support/fixtures.ts';

const NOW = at('2026-11-27T09:00:00Z');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const queueWithSourceFields = () => [
  ...generateQueue({
    open: 1500,
    closed: 150,
    seed: 21,
    nowMs: NOW,
    districts: Object.keys(defaultConfig().file.districts),
    withSourceFields: true,
  }),
];

describe('personal data in source records', () => {
  it('is present in the synthetic input', () => {
    const input = JSON.stringify(queueWithSourceFields());

    for (const marker of PII_MARKERS) expect(input).toContain(marker);
  });

  it('appears nowhere in the evaluate report, its messages or its text form', async () => {
    const report = await evaluateRecords(rawRecords(queueWithSourceFields()), defaultConfig(), NOW);

    expect(report.messages.length).toBeGreaterThan(0);
    expect(report.breaches.length).toBeGreaterThan(0);
    expect(piiMarkerIn(JSON.stringify(report))).toBeUndefined();
    expect(piiMarkerIn(formatReport(report, true))).toBeUndefined();
  });

  it('appears nowhere when the records are invalid or malformed', async () => {
    const [valid, other] = queueWithSourceFields();
    const lines = [
      JSON.stringify(valid),
      JSON.stringify({ ...other, riskLevel: 'SYNTHETIC-PERSON-77' }),
      JSON.stringify({ ...other, category: 'SYNTHETIC-PERSON-78', childrenInvolved: 'SYNTHETIC-NOTE-78' }),
      JSON.stringify({ ...other, stageEnteredAt: 'SYNTHETIC-NOTE-79' }),
      JSON.stringify({ subjectName: 'SYNTHETIC-PERSON-80', address: 'SYNTHETIC-ADDRESS-80' }),
      '{"caseRef":"DA-000-0000081","subjectName":"SYNTHETIC-PERSON-81",',
      '{"caseRef":"DA-000-0000082","notes":"SYNTHETIC-NOTE-82 unterminated',
      'SYNTHETIC-PERSON-83, SYNTHETIC-ADDRESS-83',
    ];
    const path = tmp.file('mixed.jsonl', `${lines.join('\n')}\n`);
    const records: RawRecord[] = [];
    for await (const record of readCaseFile(path)) records.push(record);

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    expect(report.cases.invalid).toBe(7);
    expect(piiMarkerIn(JSON.stringify(report))).toBeUndefined();
    expect(piiMarkerIn(formatReport(report, true))).toBeUndefined();
  });
});
