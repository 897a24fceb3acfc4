// `routes test`: asks only for the attributes rules and routes tell cases apart by, and checks
// the audiences against expected ones for CI (like amtool's --verify.receivers).

import { describe, expect, it } from 'vitest';
import { keysInUse, parseExpectation, testRoutes, unmetExpectations } from '#shared/cli/routes-command.ts';
import { configWith, defaultConfig } from '#test/support/fixtures.ts';

describe('routes test', () => {
  it('knows which attributes the shipped rules and routes match on', () => {
    expect([...keysInUse(defaultConfig())].sort()).toEqual([
      'category',
      'childrenInvolved',
      'riskLevel',
      'stage',
    ]);
  });

  it('takes any district when nothing matches on one, and says so', () => {
    const result = testRoutes(defaultConfig(), ['category=domestic-abuse', 'riskLevel=medium']);

    expect(result.rule.id).toBe('da-medium');
    expect(result.unused).toEqual(['district']);
    expect(result.assumed).toEqual(['stage=awaiting-risk-assessment', 'childrenInvolved=false']);
  });

  it('asks for a district once a route matches on its local authority', () => {
    const config = configWith([
      'match: { rule: la-decision }',
      'match: { rule: la-decision, localAuthority: [la-northgate, la-eastmoor, la-southwick, la-westbrook, la-kingsford, la-ashworth, la-millbrook, la-harrowfield, la-stonebridge, la-riverside] }',
    ]);

    expect(() => testRoutes(config, ['category=domestic-abuse', 'riskLevel=medium'])).toThrow(
      'missing district=...: rules or routes tell cases apart by it',
    );
  });

  it('names every missing attribute at once', () => {
    expect(() => testRoutes(defaultConfig(), ['stage=referred'])).toThrow(
      'missing category=... riskLevel=...: rules or routes tell cases apart by them',
    );
  });

  it('checks expected audiences as sets, at one level or at every level', () => {
    const result = testRoutes(defaultConfig(), ['category=domestic-abuse', 'riskLevel=standard']);
    const expect_ = (...texts: string[]) => texts.map((t) => parseExpectation(t, defaultConfig()));

    expect(unmetExpectations(result, expect_('triage-supervisor'), 'da-standard')).toEqual([]);
    expect(
      unmetExpectations(result, expect_('breach=triage-supervisor,senior-officer'), 'da-medium'),
    ).toEqual([
      'rule: expected da-medium, got da-standard',
      'breach: expected triage-supervisor, senior-officer; got triage-supervisor (missing senior-officer)',
    ]);
  });

  it.each([
    ['escalaton=ops', "--expect 'escalaton=ops': the level must be one of warning, breach, escalation"],
    ['warning=', "--expect 'warning=': name at least one audience"],
    ['warning=opps', "--expect 'warning=opps': unknown audience 'opps' (known: "],
  ])('refuses an expectation it cannot check: %s', (text, message) => {
    expect(() => parseExpectation(text, defaultConfig())).toThrow(message);
  });
});
