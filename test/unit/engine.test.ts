import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '#shared/config/compile.ts';
import { createWorkingCalendar } from '#shared/domain/calendar.ts';
import { type Limit, parseLimit } from '#shared/domain/duration.ts';
import { evaluateAll, evaluateCase, levelDeadlines } from '#shared/domain/engine.ts';
import { aCase, at, DAY, defaultConfig, HOUR, iso, MINUTE, ref } from '#test/support/fixtures.ts';

const START = '2026-03-29T00:30:00.000Z'; // half an hour before the clocks go forward
const startMs = at(START);

const limit = (text: string): Limit => {
  const parsed = parseLimit(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

const aRule = (warn: string, breach: string, escalate: string): CompiledRule => ({
  index: 0,
  id: 'test-rule',
  description: undefined,
  match: {},
  specificity: 0,
  warn: limit(warn),
  breach: limit(breach),
  escalate: limit(escalate),
  elapsedOffsets: undefined,
});

const levelAt = (offsetMs: number, overrides = {}) =>
  evaluateCase(aCase({ stageEnteredAt: START, ...overrides }), defaultConfig(), startMs + offsetMs)?.level;

describe('evaluateCase: a high-risk domestic abuse case awaiting risk assessment (4h / 24h / 48h)', () => {
  it('raises nothing just before 4h', () => {
    expect(levelAt(4 * HOUR - 1)).toBe('none');
  });

  it('warns at 4h of real time, across the March clock change', () => {
    expect(levelAt(4 * HOUR)).toBe('warning');
  });

  it('is still a warning just before 24h', () => {
    expect(levelAt(24 * HOUR - 1)).toBe('warning');
  });

  it('breaches at 24h', () => {
    expect(levelAt(24 * HOUR)).toBe('breach');
  });

  it('is still a breach just before 48h', () => {
    expect(levelAt(48 * HOUR - 1)).toBe('breach');
  });

  it('escalates a high-risk case at 48h', () => {
    expect(levelAt(48 * HOUR)).toBe('escalation');
  });

  it('stays at escalation long after', () => {
    expect(levelAt(90 * DAY)).toBe('escalation');
  });

  it('names the rule that matched', () => {
    const evaluation = evaluateCase(aCase(), defaultConfig(), startMs);

    expect(evaluation?.rule.id).toBe('da-high-assessment');
  });
});

describe('evaluateCase: next level and age', () => {
  it('says the warning falls due 4h after the stage began', () => {
    const evaluation = evaluateCase(aCase({ stageEnteredAt: START }), defaultConfig(), startMs + HOUR);

    expect(evaluation?.next).toEqual({ level: 'warning', at: at('2026-03-29T04:30:00Z') });
  });

  it('says the breach falls due next once warned', () => {
    const evaluation = evaluateCase(aCase({ stageEnteredAt: START }), defaultConfig(), startMs + 5 * HOUR);

    expect(evaluation?.next).toEqual({ level: 'breach', at: startMs + 24 * HOUR });
  });

  it('says the escalation falls due next once breached', () => {
    const evaluation = evaluateCase(aCase({ stageEnteredAt: START }), defaultConfig(), startMs + 25 * HOUR);

    expect(evaluation?.next).toEqual({ level: 'escalation', at: startMs + 48 * HOUR });
  });

  it('has no next level at escalation', () => {
    const evaluation = evaluateCase(aCase({ stageEnteredAt: START }), defaultConfig(), startMs + 50 * HOUR);

    expect(evaluation).not.toHaveProperty('next');
  });

  it('measures age from when the case entered its current stage', () => {
    const evaluation = evaluateCase(
      aCase({ stageEnteredAt: '2026-03-28T22:00:00Z', sourceUpdatedAt: '2026-03-29T06:00:00Z' }),
      defaultConfig(),
      at('2026-03-29T07:15:00Z'),
    );

    expect(evaluation?.ageMs).toBe(9 * HOUR + 15 * MINUTE);
  });

  it('gives an age of zero for a stage that starts a little in the future', () => {
    const evaluation = evaluateCase(aCase({ stageEnteredAt: START }), defaultConfig(), startMs - 2 * MINUTE);

    expect(evaluation).toMatchObject({ ageMs: 0, level: 'none' });
  });

  it('restarts the clock when the case moves to a new stage', () => {
    const now = at('2026-04-02T12:00:00Z');
    const oldStage = aCase({ stage: 'awaiting-risk-assessment', stageEnteredAt: '2026-03-30T12:00:00Z' });
    const newStage = aCase({ stage: 'awaiting-referral', stageEnteredAt: '2026-04-02T11:00:00Z' });

    expect(evaluateCase(oldStage, defaultConfig(), now)?.level).toBe('escalation');
    expect(evaluateCase(newStage, defaultConfig(), now)?.level).toBe('none');
  });
});

describe('evaluateCase: cases that raise nothing', () => {
  it.each(['closed', 'referral-acknowledged'] as const)(
    'raises nothing for a %s case, however old',
    (stage) => {
      const record = aCase({ stage, stageEnteredAt: '2026-01-01T00:00:00Z' });

      expect(evaluateCase(record, defaultConfig(), at('2026-03-29T00:30:00Z'))).toBeUndefined();
    },
  );

  it('raises nothing for a category the config does not know (the edge rejects those first)', () => {
    expect(
      evaluateCase(aCase({ category: 'burglary' }), defaultConfig(), startMs + 90 * DAY),
    ).toBeUndefined();
  });
});

describe('evaluateCase: working-day rules', () => {
  // Referred to the local authority at 15:00 on Thursday 24 December 2026 (4h / 1wd / 2wd).
  const referred = aCase({
    caseRef: 'CP-000-0000001',
    category: 'child-protection',
    stage: 'referred',
    childrenInvolved: true,
    stageEnteredAt: '2026-12-24T15:00:00Z',
    sourceUpdatedAt: '2026-12-24T15:00:00Z',
  });
  const levelOn = (instant: string) => evaluateCase(referred, defaultConfig(), at(instant))?.level;

  it('uses the la-decision rule with working days', () => {
    expect(evaluateCase(referred, defaultConfig(), at('2026-12-24T16:00:00Z'))?.rule.id).toBe('la-decision');
  });

  it('warns after 4 elapsed hours', () => {
    expect(levelOn('2026-12-24T18:59:59Z')).toBe('none');
    expect(levelOn('2026-12-24T19:00:00Z')).toBe('warning');
  });

  it('does not breach over Christmas and the Boxing Day substitute holiday', () => {
    expect(levelOn('2026-12-28T23:59:59Z')).toBe('warning');
    expect(levelOn('2026-12-29T14:59:59Z')).toBe('warning');
  });

  it('breaches at the same time on the next working day, Tuesday 29 December', () => {
    expect(levelOn('2026-12-29T15:00:00Z')).toBe('breach');
  });

  it('escalates on the second working day, Wednesday 30 December', () => {
    const evaluation = evaluateCase(referred, defaultConfig(), at('2026-12-29T15:00:00Z'));

    expect(iso(evaluation?.next?.at ?? 0)).toBe('2026-12-30T15:00:00.000Z');
    expect(levelOn('2026-12-30T15:00:00Z')).toBe('escalation');
  });

  it('escalates a child-standard case on the fifth working day, across New Year', () => {
    const record = aCase({
      caseRef: 'CP-000-0000002',
      category: 'child-protection',
      riskLevel: 'standard',
      childrenInvolved: true,
      stageEnteredAt: '2026-12-24T15:00:00Z',
    });
    // 29, 30, 31 December, 4 and 5 January.
    const evaluation = evaluateCase(record, defaultConfig(), at('2026-12-31T00:00:00Z'));

    expect(evaluation).toMatchObject({
      level: 'breach',
      next: { level: 'escalation', at: at('2027-01-05T15:00:00Z') },
    });
  });
});

describe('levelDeadlines', () => {
  const calendar = createWorkingCalendar();

  it('gives the three deadlines of a rule', () => {
    const deadlines = levelDeadlines(startMs, aRule('4h', '24h', '48h'), calendar);

    expect(deadlines).toEqual([startMs + 4 * HOUR, startMs + 24 * HOUR, startMs + 48 * HOUR]);
  });

  it('never puts a breach before the warning, even when one working day is only 23 hours', () => {
    // 00:30 GMT on Sunday 29 March -> 00:30 BST on Monday 30 March is 23 hours: shorter than 24h.
    const [warn, breach, escalate] = levelDeadlines(startMs, aRule('24h', '1wd', '2wd'), calendar);

    expect(calendar.addWorkingDays(startMs, 1) - startMs).toBe(23 * HOUR);
    expect(warn).toBe(startMs + 24 * HOUR);
    expect(breach).toBe(warn);
    expect(escalate).toBeGreaterThanOrEqual(breach);
  });

  it('never puts an escalation before the breach', () => {
    const [, breach, escalate] = levelDeadlines(
      at('2026-03-28T00:30:00Z'),
      aRule('1h', '48h', '1wd'),
      calendar,
    );

    expect(escalate).toBe(breach);
  });
});

describe('evaluateAll', () => {
  it('evaluates open cases, counts the closed and lists the alerting ones oldest first', () => {
    const now = at('2026-03-31T00:30:00Z');
    const records = [
      aCase({ caseRef: ref(1), stageEnteredAt: '2026-03-30T20:00:00Z' }), // 4.5h: warning
      aCase({ caseRef: ref(2), stageEnteredAt: '2026-03-29T00:30:00Z' }), // 48h: escalation
      aCase({ caseRef: ref(3), stageEnteredAt: '2026-03-31T00:00:00Z' }), // 30m: none
      aCase({ caseRef: ref(4), stage: 'closed', stageEnteredAt: '2026-01-01T00:00:00Z' }),
      aCase({ caseRef: ref(5), stageEnteredAt: '2026-03-30T00:00:00Z' }), // 24.5h: breach
    ];

    const result = evaluateAll(records, defaultConfig(), now);

    expect(result.evaluations).toHaveLength(4);
    expect(result.closed).toBe(1);
    expect(result.alerting.map((e) => [e.record.caseRef, e.level])).toEqual([
      [ref(2), 'escalation'],
      [ref(5), 'breach'],
      [ref(1), 'warning'],
    ]);
  });

  it('orders cases of the same age by reference', () => {
    const records = [ref(3), ref(1), ref(2)].map((caseRef) => aCase({ caseRef }));

    const result = evaluateAll(records, defaultConfig(), startMs + 30 * HOUR);

    expect(result.alerting.map((e) => e.record.caseRef)).toEqual([ref(1), ref(2), ref(3)]);
  });
});
