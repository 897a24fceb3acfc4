// The scan's hot-path shortcuts must agree exactly with the slow, library-backed definitions.

import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/load.ts';
import { caseViewSchema, checkCaseView } from '#shared/domain/case.ts';
import { smsSegments } from '#shared/domain/notify.ts';

const { vocabulary } = loadConfig();

const valid = {
  caseRef: 'DA-000-0000001',
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: '2026-11-26T03:00:00.000Z',
  childrenInvolved: false,
};

const slowCheck = (raw: unknown) => {
  const parsed = caseViewSchema.safeParse(raw);
  return (
    parsed.success &&
    vocabulary.categories.has(parsed.data.category) &&
    vocabulary.districts.has(parsed.data.district)
  );
};

describe('checkCaseView', () => {
  it('accepts and rejects exactly what the schema and the vocabulary do', () => {
    const field = fc.constantFrom(...Object.keys(valid));
    const value = fc.oneof(
      fc.constantFrom(
        'burglary',
        'D99',
        'closed',
        'medium',
        '2026-11-26T03:00:00Z',
        '2026-11-26T04:00:00+01:00',
        '2026-11-26 03:00',
        'da-1',
        '',
        true,
        null,
        42,
      ),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(field, value), { maxLength: 3 }), (changes) => {
        const raw: Record<string, unknown> = {
          ...valid,
          sourceUpdatedAt: 'ignored',
          subjectName: 'SYNTHETIC-PERSON-1',
        };
        for (const [k, v] of changes) raw[k] = v;
        const checked = checkCaseView(raw, vocabulary);
        expect(checked.ok).toBe(slowCheck(raw));
        if (checked.ok) expect(Object.keys(checked.value).sort()).toEqual(Object.keys(valid).sort());
      }),
      { numRuns: 400 },
    );
  });
});

describe('smsSegments', () => {
  it('counts like the carrier-rules library for any text', () => {
    const text = fc.string({
      unit: fc.constantFrom(...[...'AZaz09 \n@$_!"#%&\'()*+,-./:;<=>?`[]{}~^|\\£€éŴ😀']),
      maxLength: 400,
    });
    fc.assert(
      fc.property(text, (t) => {
        const library = new SegmentedMessage(t, 'auto');
        expect(smsSegments(t)).toEqual({
          segments: library.segmentsCount,
          encoding: library.encodingName,
          characters: library.numberOfCharacters,
        });
      }),
      { numRuns: 300 },
    );
  });
});
