// The feed message: its shape, what it keeps, and a clear reason for every kind of bad input.

import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/load.ts';
import { FUTURE_TOLERANCE_MS } from '#shared/domain/case.ts';
import { changeMessageSchema, parseChange, schemaFieldsOf, validateRecord } from '#shared/ingest/change.ts';

const vocabulary = loadConfig().vocabulary;
const NOW = Date.parse('2026-03-29T06:00:00Z');
const PII = 'SYNTHETIC-PERSON-7';

const goodCase = {
  caseRef: 'DA-000-0000042',
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: '2026-03-29T00:30:00Z',
  childrenInvolved: true,
  sourceUpdatedAt: '2026-03-29T00:31:12Z',
};
const message = (overrides: Record<string, unknown> = {}, caseOverrides: Record<string, unknown> = {}) =>
  JSON.stringify({ changeType: 'created', case: { ...goodCase, ...caseOverrides }, ...overrides });

describe('parseChange: a field given twice', () => {
  it('rejects a message whose case gives a field twice, saying which, never which values', () => {
    const body = message().replace('"riskLevel":"high"', '"riskLevel":"high","riskLevel":"standard"');

    const parsed = parseChange(body, vocabulary, NOW);

    expect(body).toContain('"riskLevel":"standard"');
    expect(parsed).toEqual({
      ok: false,
      code: 'invalid-fields',
      reason: 'case.riskLevel is given more than once: which value counts would be a guess',
    });
  });
});

describe('parseChange', () => {
  it('accepts a change, keeps only schema fields and normalises instants to UTC', () => {
    const parsed = parseChange(
      message(
        { sourceSequence: 7, subjectName: PII },
        {
          notes: `${PII} said things`,
          address: 'SYNTHETIC-ADDRESS-7',
          stageEnteredAt: '2026-03-29T01:30:00+01:00',
        },
      ),
      vocabulary,
      NOW,
    );
    expect(parsed).toEqual({
      ok: true,
      changeType: 'created',
      sourceSequence: 7,
      record: {
        ...goodCase,
        stageEnteredAt: '2026-03-29T00:30:00.000Z',
        sourceUpdatedAt: '2026-03-29T00:31:12.000Z',
      },
    });
    expect(JSON.stringify(parsed)).not.toContain('SYNTHETIC-');
  });

  it('documents the message shape as a zod schema', () => {
    expect(changeMessageSchema.safeParse(JSON.parse(message({ sourceSequence: 1 }))).success).toBe(true);
    expect(changeMessageSchema.safeParse({ case: goodCase }).success).toBe(false);
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ['truncated JSON', message().slice(0, 60), 'invalid-json', /not valid JSON \(truncated\)/],
    ['an empty body', '', 'invalid-json', /not valid JSON/],
    ['a JSON array', '[1,2]', 'not-an-object', /must be a JSON object/],
    ['a JSON string', '"hello"', 'not-an-object', /must be a JSON object/],
    ['no case', JSON.stringify({ changeType: 'created' }), 'invalid-fields', /case is missing/],
    [
      'a case that is not an object',
      JSON.stringify({ changeType: 'created', case: 'x' }),
      'invalid-fields',
      /case must be a JSON object/,
    ],
    ['no changeType', JSON.stringify({ case: goodCase }), 'invalid-fields', /changeType is missing/],
    [
      'an unknown changeType',
      message({ changeType: 'deleted' }),
      'invalid-fields',
      /changeType must be one of/,
    ],
    ['a missing caseRef', message({}, { caseRef: undefined }), 'invalid-fields', /case: caseRef is missing/],
    [
      'a missing risk level',
      message({}, { riskLevel: undefined }),
      'invalid-fields',
      /case: riskLevel is missing/,
    ],
    ['a number for a string', message({}, { caseRef: 12345 }), 'invalid-fields', /caseRef must be a string/],
    [
      'a string for a boolean',
      message({}, { childrenInvolved: 'yes' }),
      'invalid-fields',
      /childrenInvolved must be true or false/,
    ],
    [
      'an object for a string',
      message({}, { district: { $ne: null } }),
      'invalid-fields',
      /district must be a string/,
    ],
    [
      'a negative sequence',
      message({ sourceSequence: -1 }),
      'invalid-fields',
      /sourceSequence must not be negative/,
    ],
    [
      'a fractional sequence',
      message({ sourceSequence: 1.5 }),
      'invalid-fields',
      /sourceSequence must be a whole number/,
    ],
    [
      'a string sequence',
      message({ sourceSequence: '7' }),
      'invalid-fields',
      /sourceSequence must be a number/,
    ],
    [
      'an unknown category',
      message({}, { category: 'burglary' }),
      'unknown-category',
      /^case: category is not one of the config's categories \(domestic-abuse, /,
    ],
    [
      'an unknown district',
      message({}, { district: 'D99' }),
      'unknown-district',
      /^case: district is not one of the config's districts$/,
    ],
    [
      'a local time without offset',
      message({}, { stageEnteredAt: '2026-03-29T00:30:00' }),
      'invalid-fields',
      /stageEnteredAt has no UTC offset/,
    ],
    [
      'a date only',
      message({}, { sourceUpdatedAt: '2026-03-29' }),
      'invalid-fields',
      /sourceUpdatedAt is not an ISO 8601 instant/,
    ],
    [
      'a nonsense instant',
      message({}, { sourceUpdatedAt: '2026-02-30T25:00:00Z' }),
      'invalid-fields',
      /sourceUpdatedAt is not an ISO 8601 instant/,
    ],
    [
      'a stage entered in the future',
      message({}, { stageEnteredAt: new Date(NOW + FUTURE_TOLERANCE_MS + 60_000).toISOString() }),
      'future-stage',
      /^case: stageEnteredAt is in the future: it must be from 2018-01-01T00:00:00.000Z to 5 minutes after now \(2026-03-29T06:05:00.000Z\)$/,
    ],
    [
      'a source update in the future',
      message({}, { sourceUpdatedAt: '2026-03-29T08:00:00+01:00' }),
      'implausible-date',
      /^case: sourceUpdatedAt is in the future: it must be from 2018-01-01T/,
    ],
    [
      'a stage entered before the bank-holiday list starts',
      message({}, { stageEnteredAt: '2017-06-01T09:00:00Z' }),
      'implausible-date',
      /^case: stageEnteredAt is too early: it must be from 2018-01-01T00:00:00.000Z to /,
    ],
    [
      'a source update in year 1',
      message({}, { sourceUpdatedAt: '0001-01-01T00:00:00Z' }),
      'implausible-date',
      /^case: sourceUpdatedAt is too early/,
    ],
    [
      'a __proto__ key in the case',
      `{"changeType":"created","case":{"__proto__":{"district":"D99"},${JSON.stringify(goodCase).slice(1)}}`,
      'invalid-fields',
      /^case: __proto__ is not allowed as a field name$/,
    ],
    [
      'a constructor key in the message',
      `{"constructor":{"name":"x"},${message().slice(1)}`,
      'invalid-fields',
      /^constructor is not allowed as a field name$/,
    ],
    [
      'a prototype key in the case',
      message({}, { prototype: 1 }),
      'invalid-fields',
      /^case: prototype is not allowed as a field name$/,
    ],
    [
      'a closed change that leaves the case open',
      message({ changeType: 'closed' }),
      'inconsistent-change',
      /^a closed change must leave the case closed: case.stage must be closed or referral-acknowledged$/,
    ],
    [
      'a reopened change that leaves the case closed',
      message({ changeType: 'reopened' }, { stage: 'closed' }),
      'inconsistent-change',
      /^a reopened change must leave the case open: case.stage must be one of awaiting-supervisor-review, /,
    ],
    [
      'a huge caseRef',
      message({}, { caseRef: `DA-${'9'.repeat(200_000)}` }),
      'invalid-fields',
      /caseRef must be 3 to 40 capital letters/,
    ],
    [
      'control characters in a field',
      message({}, { caseRef: 'DA-000\u0000\u001b[2J' }),
      'invalid-fields',
      /caseRef must be/,
    ],
    [
      'an injection-like category',
      message({}, { category: "domestic-abuse'; DROP TABLE cases;--" }),
      'invalid-fields',
      /category must be a lower-case id/,
    ],
    [
      'a template injection in a district',
      message({}, { district: '$' + '{jndi:ldap://x}' }),
      'invalid-fields',
      /district must be a district id/,
    ],
    [
      'an over-long instant',
      message({}, { stageEnteredAt: `2026-03-29T00:30:00${'0'.repeat(100)}Z` }),
      'invalid-fields',
      /stageEnteredAt is too long/,
    ],
  ];

  it.each(bad)('rejects %s with a clear reason', (_name, body, code, reason) => {
    const parsed = parseChange(body, vocabulary, NOW);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe(code);
    expect(parsed.reason).toMatch(reason);
    expect(parsed.reason.length).toBeLessThan(600);
  });

  it('accepts a stage entered within the clock-skew tolerance', () => {
    const parsed = parseChange(
      message(
        {},
        {
          stageEnteredAt: new Date(NOW + FUTURE_TOLERANCE_MS - 1000).toISOString(),
          sourceUpdatedAt: new Date(NOW).toISOString(),
        },
      ),
      vocabulary,
      NOW,
    );
    expect(parsed.ok).toBe(true);
  });

  it.each([
    ['2026-03-29T05:00:00Z', '2026-03-29T04:00:00Z'],
    ['2026-03-29T06:00:00+01:00', '2026-03-29T04:54:59Z'],
  ])(
    'rejects a stage entered after the source last changed the case (%s after %s), naming both fields, quoting neither',
    (stageEnteredAt, sourceUpdatedAt) => {
      const parsed = parseChange(message({}, { stageEnteredAt, sourceUpdatedAt }), vocabulary, NOW);

      expect(parsed).toEqual({
        ok: false,
        code: 'implausible-date',
        caseRef: 'DA-000-0000042',
        reason:
          'case: stageEnteredAt is after sourceUpdatedAt: a stage is entered by a change of the case, so it must be at most 5 minutes after the source last changed it (are the two swapped?)',
      });
    },
  );

  it('accepts a stage entered up to 5 minutes after sourceUpdatedAt, as clock skew between the two', () => {
    const parsed = parseChange(
      message({}, { stageEnteredAt: '2026-03-29T04:05:00Z', sourceUpdatedAt: '2026-03-29T05:00:00+01:00' }),
      vocabulary,
      NOW,
    );
    expect(parsed.ok).toBe(true);
  });

  it('never echoes a value outside the schema in a reason', () => {
    const body = JSON.stringify({ changeType: 'nope', subjectName: PII, case: { notes: PII, caseRef: 7 } });
    const parsed = parseChange(body, vocabulary, NOW);
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('SYNTHETIC-');
  });

  it('names the case reference in a rejection only when it is well formed', () => {
    const good = parseChange(message({}, { district: 'D99' }), vocabulary, NOW);
    const bad = parseChange(message({}, { caseRef: 'Jane Doe', district: 'D99' }), vocabulary, NOW);
    expect(good).toMatchObject({ ok: false, caseRef: 'DA-000-0000042' });
    expect(bad).not.toHaveProperty('caseRef');
  });
});

describe('validateRecord (an import line)', () => {
  it('takes a sequence from a CSV cell of digits', () => {
    const checked = validateRecord({ ...goodCase, sourceSequence: '12' }, vocabulary, NOW);
    expect(checked).toMatchObject({ ok: true, sourceSequence: 12 });
  });

  it('rejects a line whose stage was entered after its sourceUpdatedAt, as the feed does', () => {
    const checked = validateRecord(
      { ...goodCase, stageEnteredAt: '2026-03-29T00:31:12Z', sourceUpdatedAt: '2026-03-29T00:30:00Z' },
      vocabulary,
      NOW,
    );
    expect(checked).toMatchObject({ ok: true });
    const swapped = validateRecord(
      { ...goodCase, stageEnteredAt: '2026-03-29T05:00:00Z', sourceUpdatedAt: '2026-03-29T00:30:00Z' },
      vocabulary,
      NOW,
    );
    expect(swapped).toMatchObject({ ok: false, code: 'implausible-date', caseRef: 'DA-000-0000042' });
  });

  it('rejects a sequence that is not a whole number, naming the case', () => {
    const checked = validateRecord({ ...goodCase, sourceSequence: 'twelve' }, vocabulary, NOW);
    expect(checked).toMatchObject({ ok: false, code: 'invalid-fields', caseRef: 'DA-000-0000042' });
  });
});

describe('schemaFieldsOf', () => {
  it('keeps only schema fields, and of them only values the edge accepts', () => {
    const kept = schemaFieldsOf(
      {
        changeType: 'created',
        subjectName: PII,
        sourceSequence: 3,
        case: { ...goodCase, notes: PII, caseRef: `X${'Y'.repeat(5000)}`, district: { name: PII } },
      },
      vocabulary,
      NOW,
    );
    expect(JSON.stringify(kept)).not.toContain('SYNTHETIC-');
    expect(kept).toEqual({
      changeType: 'created',
      sourceSequence: 3,
      case: {
        ...goodCase,
        caseRef: '[withheld: a string of 5001 characters]',
        district: '[withheld: an object]',
      },
    });
  });

  it('withholds an out-of-vocabulary category or district: it may be a name in the wrong column', () => {
    const kept = schemaFieldsOf(
      { changeType: 'created', case: { ...goodCase, category: 'synthetic-person', district: 'Synthetic7' } },
      vocabulary,
      NOW,
    );
    expect(kept?.case).toMatchObject({
      category: '[withheld: a string of 16 characters]',
      district: '[withheld: a string of 10 characters]',
      riskLevel: 'high',
    });
    expect(JSON.stringify(kept)).not.toMatch(/synthetic/i);
  });

  it('withholds an implausible instant, an unknown changeType and a bad sequence', () => {
    const kept = schemaFieldsOf(
      {
        changeType: 'SYNTHETIC',
        sourceSequence: '19900517',
        case: { ...goodCase, stageEnteredAt: '1990-05-17T00:00:00Z', childrenInvolved: 'yes' },
      },
      vocabulary,
      NOW,
    );
    expect(kept).toEqual({
      changeType: '[withheld: a string of 9 characters]',
      sourceSequence: '[withheld: a string of 8 characters]',
      case: {
        ...goodCase,
        stageEnteredAt: '[withheld: a string of 20 characters]',
        childrenInvolved: '[withheld: a string of 3 characters]',
      },
    });
  });

  it('keeps nothing of a message that is not an object', () => {
    expect(schemaFieldsOf('SYNTHETIC-PERSON-1', vocabulary, NOW)).toBeUndefined();
  });
});
