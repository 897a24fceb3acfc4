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
      /case: riskLevel must be one of high, medium, standard/,
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
      /category 'burglary' is not in the config/,
    ],
    [
      'an unknown district',
      message({}, { district: 'D99' }),
      'unknown-district',
      /district 'D99' is not in the config/,
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
      /stageEnteredAt .* is in the future/,
    ],
    [
      'a closed change that leaves the case open',
      message({ changeType: 'closed' }),
      'inconsistent-change',
      /changeType closed but case.stage awaiting-risk-assessment is an open stage/,
    ],
    [
      'a reopened change that leaves the case closed',
      message({ changeType: 'reopened' }, { stage: 'closed' }),
      'inconsistent-change',
      /not an open stage/,
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
      message({}, { stageEnteredAt: new Date(NOW + FUTURE_TOLERANCE_MS - 1000).toISOString() }),
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

  it('rejects a sequence that is not a whole number, naming the case', () => {
    const checked = validateRecord({ ...goodCase, sourceSequence: 'twelve' }, vocabulary, NOW);
    expect(checked).toMatchObject({ ok: false, code: 'invalid-fields', caseRef: 'DA-000-0000042' });
  });
});

describe('schemaFieldsOf', () => {
  it('keeps only schema fields, cuts long values and hides nested values', () => {
    const kept = schemaFieldsOf({
      changeType: 'created',
      subjectName: PII,
      sourceSequence: 3,
      case: { ...goodCase, notes: PII, caseRef: `X${'Y'.repeat(5000)}`, district: { name: PII } },
    });
    expect(JSON.stringify(kept)).not.toContain('SYNTHETIC-');
    expect(kept).toMatchObject({ changeType: 'created', sourceSequence: 3, case: { district: '[object]' } });
    const caseRef = String((kept?.case as Record<string, unknown> | undefined)?.caseRef);
    expect(caseRef.length).toBeLessThan(260);
    expect(caseRef).toMatch(/more characters cut/);
  });

  it('keeps nothing of a message that is not an object', () => {
    expect(schemaFieldsOf('SYNTHETIC-PERSON-1')).toBeUndefined();
  });
});
