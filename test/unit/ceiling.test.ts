// The absolute ceiling applies to every open case on top of its own rule: a months-old backlog
// case reaches the senior officer and the director, not only its own rule's audience.

import { describe, expect, it } from 'vitest';
import { testRoutes } from '#shared/cli/routes-command.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseView } from '#shared/domain/case.ts';
import { audienceLevels, evaluateCase } from '#shared/domain/engine.ts';
import { aCaseView, iso } from '#test/support/fixtures.ts';

const config = loadConfig();
const NOW = Date.parse('2026-11-27T09:00:00Z');
const DAY = 86_400_000;
const daStandard = (caseRef: string, days: number): CaseView =>
  aCaseView({ caseRef, riskLevel: 'standard', district: 'D02', stageEnteredAt: iso(NOW - days * DAY) });

function evaluate(c: CaseView) {
  const evaluation = evaluateCase(c, config, NOW);
  if (!evaluation) throw new Error(`${c.caseRef} is not open`);
  return evaluation;
}

describe('the absolute ceiling', () => {
  it('escalates a 90-day standard-risk case to the senior officer and the director as well as triage', () => {
    const evaluation = evaluate(daStandard('DA-000-0000090', 90));

    expect(evaluation.rule.id).toBe('da-standard');
    expect(evaluation.ruleLevel).toBe('escalation');
    expect(evaluation.ceilingLevel).toBe('escalation');
    expect(Object.fromEntries(audienceLevels(evaluation, config))).toEqual({
      'triage-supervisor': 'escalation',
      'senior-officer': 'escalation',
      'director-childrens-services': 'escalation',
    });
  });

  it('warns the senior officer at 14 days while the own rule is already at escalation', () => {
    const evaluation = evaluate(daStandard('DA-000-0000015', 15));

    expect(evaluation.level).toBe('escalation');
    expect(evaluation.ceilingLevel).toBe('warning');
    // The director hears of the ceiling at escalation only, and reads the rest in the daily picture.
    expect(Object.fromEntries(audienceLevels(evaluation, config))).toEqual({
      'senior-officer': 'warning',
      'triage-supervisor': 'escalation',
    });
  });

  it('adds nothing before the ceiling falls due, and says when it will', () => {
    const evaluation = evaluate(daStandard('DA-000-0000004', 4));

    expect(evaluation.ceilingLevel).toBe('none');
    expect([...audienceLevels(evaluation, config).keys()]).toEqual(['triage-supervisor']);
    expect(evaluation.next).toEqual({ level: 'breach', at: NOW - 4 * DAY + 7 * DAY });
  });

  it('is shown by routes test', () => {
    const result = testRoutes(config, ['category=domestic-abuse', 'riskLevel=standard', 'district=D02']);

    expect(result.ceiling?.rule.id).toBe('ceiling');
    expect(result.ceiling?.levels.find((l) => l.level === 'escalation')?.audiences).toEqual([
      'senior-officer',
      'director-childrens-services',
    ]);
  });
});
