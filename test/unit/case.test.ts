import { describe, expect, it } from 'vitest';
import { COVERED_FROM } from '#shared/domain/bank-holidays.ts';
import {
  type CaseCheck,
  checkCase,
  EARLIEST_INSTANT,
  FUTURE_TOLERANCE_MS,
  isOpenStage,
  STAGES,
} from '#shared/domain/case.ts';
import { aCase, at, defaultConfig, MINUTE } from '#test/support/fixtures.ts';

const vocabulary = () => defaultConfig().vocabulary;
const NOW = at('2026-03-29T12:00:00Z');

function reasonOf(check: CaseCheck): string {
  if (check.ok) throw new Error('expected the record to be rejected');
  return check.reason;
}

describe('checkCase', () => {
  it('accepts a valid record and returns exactly the schema fields', () => {
    const record = aCase();

    const check = checkCase(record, vocabulary(), NOW);

    expect(check).toEqual({ ok: true, value: record });
  });

  it.each([
    'caseRef',
    'category',
    'riskLevel',
    'district',
    'stage',
    'stageEnteredAt',
    'childrenInvolved',
    'sourceUpdatedAt',
  ] as const)('rejects a record missing %s and names the field', (field) => {
    const record: Record<string, unknown> = { ...aCase() };
    delete record[field];

    const reason = reasonOf(checkCase(record, vocabulary(), NOW));

    expect(reason).toBe(`${field} is missing`);
  });

  it.each([
    ['caseRef', 1234567, 'caseRef must be a string'],
    ['riskLevel', 'very-high', 'riskLevel must be one of high, medium, standard'],
    ['stage', 'pending', 'stage must be one of'],
    ['childrenInvolved', 'yes', 'childrenInvolved must be true or false'],
    ['childrenInvolved', 1, 'childrenInvolved must be true or false'],
    ['stageEnteredAt', 1774744200000, 'stageEnteredAt must be an ISO 8601 instant string'],
    ['sourceUpdatedAt', 'yesterday', 'sourceUpdatedAt is not an ISO 8601 instant'],
    ['category', 'Domestic Abuse', 'category must be a lower-case id'],
    ['district', 'D 01', 'district must be a district id'],
  ])('rejects %s of the wrong type or form (%j)', (field, value, expected) => {
    const reason = reasonOf(checkCase({ ...aCase(), [field]: value }, vocabulary(), NOW));

    expect(reason).toContain(expected);
  });

  it('rejects a record that is not an object', () => {
    for (const raw of [null, 42, 'DA-000-0000001', [aCase()]]) {
      expect(checkCase(raw, vocabulary(), NOW)).toEqual({
        ok: false,
        code: 'not-an-object',
        reason: 'a case record must be a JSON object',
      });
    }
  });

  it('stores an instant given with an offset as UTC', () => {
    const check = checkCase(
      aCase({ stageEnteredAt: '2026-03-29T02:30:00+01:00', sourceUpdatedAt: '2026-03-29T03:00:00.5+01:00' }),
      vocabulary(),
      NOW,
    );

    expect(check.ok && check.value.stageEnteredAt).toBe('2026-03-29T01:30:00.000Z');
    expect(check.ok && check.value.sourceUpdatedAt).toBe('2026-03-29T02:00:00.500Z');
  });

  it('rejects an instant without an offset, naming the field and why', () => {
    const reason = reasonOf(checkCase(aCase({ stageEnteredAt: '2026-03-29T01:30:00' }), vocabulary(), NOW));

    expect(reason).toBe('stageEnteredAt has no UTC offset (add Z or +01:00): a local time is ambiguous');
  });

  it.each([
    ['2026-03-29T02:30:00-00:00', '2026-03-29T02:30:00.000Z'],
    ['2026-03-29T12:00:00+10:30', '2026-03-29T01:30:00.000Z'],
    ['2026-03-28T21:30:00-05:00', '2026-03-29T02:30:00.000Z'],
    ['2026-03-29T02:30:00.123456Z', '2026-03-29T02:30:00.123Z'],
  ])('reads the instant %s as %s', (stageEnteredAt, stored) => {
    const check = checkCase(aCase({ stageEnteredAt, sourceUpdatedAt: stageEnteredAt }), vocabulary(), NOW);

    expect(check.ok && check.value.stageEnteredAt).toBe(stored);
  });

  it.each([
    ['no seconds', '2026-03-29T02:30Z'],
    ['a lower-case z', '2026-03-29T02:30:00z'],
    ['a lower-case t', '2026-03-29t02:30:00Z'],
    ['a space for the T', '2026-03-29 02:30:00Z'],
    ['an offset without a colon', '2026-03-29T02:30:00+0100'],
    ['an offset in hours only', '2026-03-29T02:30:00+01'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['hour 24', '2026-03-29T24:00:00Z'],
    ['a day the month lacks', '2026-02-29T02:30:00Z'],
    ['the basic format', '20260329T023000Z'],
    ['a week date', '2026-W13-7T02:30:00Z'],
    ['a comma before the fraction', '2026-03-29T02:30:00,5Z'],
    ['spaces around it', ' 2026-03-29T02:30:00Z '],
  ])(
    'refuses an instant with %s, naming the field and the form it takes, not the value',
    (_what, instant) => {
      const check = checkCase(aCase({ sourceUpdatedAt: instant }), vocabulary(), NOW);

      expect(check).toMatchObject({ ok: false, code: 'invalid-fields', caseRef: 'DA-000-0000001' });
      expect(reasonOf(check)).toBe('sourceUpdatedAt is not an ISO 8601 instant (e.g. 2026-03-29T00:30:00Z)');
    },
  );

  it('rejects a date without a time', () => {
    const reason = reasonOf(checkCase(aCase({ sourceUpdatedAt: '2026-03-29' }), vocabulary(), NOW));

    expect(reason).toContain('sourceUpdatedAt');
  });

  it('rejects an unknown category, naming the field and the allowed ones but not the value', () => {
    const check = checkCase(aCase({ category: 'burglary' }), vocabulary(), NOW);

    expect(check).toMatchObject({ ok: false, code: 'unknown-category', caseRef: 'DA-000-0000001' });
    expect(reasonOf(check)).toMatch(/^category is not one of the config's categories \(domestic-abuse, /);
    expect(reasonOf(check)).not.toContain('burglary');
  });

  it('rejects an unknown district, naming the field but not the value', () => {
    const check = checkCase(aCase({ district: 'D11' }), vocabulary(), NOW);

    expect(check).toMatchObject({ ok: false, code: 'unknown-district' });
    expect(reasonOf(check)).toBe("district is not one of the config's districts");
  });

  it('does not quote a name typed into the category or district column', () => {
    for (const field of ['category', 'district'] as const) {
      const check = checkCase(aCase({ [field]: 'synthetic-person-3' }), vocabulary(), NOW);

      expect(reasonOf(check)).toContain(field);
      expect(JSON.stringify(check)).not.toContain('synthetic-person-3');
    }
  });

  it('rejects a stageEnteredAt more than 5 minutes in the future, naming the range, not the value', () => {
    const stageEnteredAt = new Date(NOW + FUTURE_TOLERANCE_MS + 1000).toISOString();

    const check = checkCase(aCase({ stageEnteredAt }), vocabulary(), NOW);

    expect(FUTURE_TOLERANCE_MS).toBe(5 * MINUTE);
    expect(check).toMatchObject({ ok: false, code: 'future-stage', caseRef: 'DA-000-0000001' });
    expect(reasonOf(check)).toBe(
      'stageEnteredAt is in the future: it must be from 2018-01-01T00:00:00.000Z to 5 minutes after now (2026-03-29T12:05:00.000Z)',
    );
  });

  it('rejects a sourceUpdatedAt more than 5 minutes in the future as an implausible date', () => {
    const sourceUpdatedAt = new Date(NOW + FUTURE_TOLERANCE_MS + 1).toISOString();

    const check = checkCase(aCase({ sourceUpdatedAt }), vocabulary(), NOW);

    expect(check).toMatchObject({ ok: false, code: 'implausible-date' });
    expect(reasonOf(check)).toMatch(/^sourceUpdatedAt is in the future: it must be from 2018-01-01T/);
  });

  it.each([
    ['stageEnteredAt', '2017-12-31T23:59:59.999Z'],
    ['stageEnteredAt', '1990-05-17T00:00:00Z'],
    ['sourceUpdatedAt', '0001-01-01T00:00:00Z'],
    ['stageEnteredAt', '2018-01-01T00:30:00+01:00'],
  ] as const)('rejects a %s of %s as before the start of the bank-holiday list', (field, instant) => {
    const check = checkCase(aCase({ [field]: instant }), vocabulary(), NOW);

    expect(check).toMatchObject({ ok: false, code: 'implausible-date', caseRef: 'DA-000-0000001' });
    expect(reasonOf(check)).toBe(
      `${field} is too early: it must be from ${EARLIEST_INSTANT} to 5 minutes after now (2026-03-29T12:05:00.000Z)`,
    );
    expect(reasonOf(check)).not.toContain(instant);
  });

  it('accepts instants from the first moment of the bank-holiday list', () => {
    const first = '2018-01-01T00:00:00Z';

    expect(EARLIEST_INSTANT).toBe(`${COVERED_FROM}T00:00:00.000Z`);
    expect(checkCase(aCase({ stageEnteredAt: first, sourceUpdatedAt: first }), vocabulary(), NOW).ok).toBe(
      true,
    );
  });

  it('rejects a date before the floor even when no now is given', () => {
    const check = checkCase(aCase({ stageEnteredAt: '2010-01-01T00:00:00Z' }), vocabulary());

    expect(check).toMatchObject({ ok: false, code: 'implausible-date' });
    expect(reasonOf(check)).toBe(`stageEnteredAt is too early: it must be from ${EARLIEST_INSTANT}`);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'rejects a record with a %s key, naming the key',
    (key) => {
      const raw = JSON.parse(`{"${key}": {"caseRef": "DA-000-0000009"}, ${JSON.stringify(aCase()).slice(1)}`);

      const check = checkCase(raw, vocabulary(), NOW);

      expect(check).toEqual({
        ok: false,
        code: 'invalid-fields',
        caseRef: 'DA-000-0000001',
        reason: `${key} is not allowed as a field name`,
      });
    },
  );

  it('accepts a stageEnteredAt up to 5 minutes ahead as clock skew', () => {
    const stageEnteredAt = new Date(NOW + FUTURE_TOLERANCE_MS).toISOString();

    expect(checkCase(aCase({ stageEnteredAt }), vocabulary(), NOW).ok).toBe(true);
  });

  it('does not check for the future when no now is given', () => {
    expect(checkCase(aCase({ stageEnteredAt: '2029-01-01T00:00:00Z' }), vocabulary()).ok).toBe(true);
  });

  it.each(['DA-000-0000001', 'CP-123-9999999', 'ABC', 'A'.repeat(40)])(
    'accepts the caseRef %s',
    (caseRef) => {
      expect(checkCase(aCase({ caseRef }), vocabulary(), NOW).ok).toBe(true);
    },
  );

  it.each(['da-000-0000001', 'AB', 'A'.repeat(41), '-DA-000', 'DA 000 0000001', 'DA/000/0000001'])(
    'rejects the caseRef %j without echoing it',
    (caseRef) => {
      const check = checkCase(aCase({ caseRef }), vocabulary(), NOW);

      expect(reasonOf(check)).toBe(
        'caseRef must be 3 to 40 capital letters, digits and dashes (an opaque reference)',
      );
      expect(check).not.toHaveProperty('caseRef');
    },
  );

  it('strips fields outside the schema, such as names, addresses and notes', () => {
    const raw = {
      ...aCase(),
      subjectName: 'SYNTHETIC-PERSON-1',
      address: 'SYNTHETIC-ADDRESS-1',
      notes: 'SYNTHETIC-NOTE-1: free text',
      dateOfBirth: '1990-01-01',
    };

    const check = checkCase(raw, vocabulary(), NOW);

    expect(check).toEqual({ ok: true, value: aCase() });
    expect(JSON.stringify(check)).not.toContain('SYNTHETIC-');
  });

  it('never echoes a field outside the schema in a reason', () => {
    const raw = { ...aCase({ riskLevel: 'unknown' as 'high' }), subjectName: 'SYNTHETIC-PERSON-2' };

    expect(JSON.stringify(checkCase(raw, vocabulary(), NOW))).not.toContain('SYNTHETIC-PERSON-2');
  });

  it('lists every problem of a record in one reason', () => {
    const reason = reasonOf(
      checkCase({ ...aCase(), riskLevel: 'urgent', childrenInvolved: 'no' }, vocabulary(), NOW),
    );

    expect(reason).toContain('riskLevel');
    expect(reason).toContain('childrenInvolved');
  });
});

describe('open stages', () => {
  it('treats closed and referral-acknowledged as not open, and every other stage as open', () => {
    expect(STAGES.filter((s) => !isOpenStage(s))).toEqual(['referral-acknowledged', 'closed']);
  });
});
