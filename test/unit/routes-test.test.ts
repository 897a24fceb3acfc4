// `routes test`: asks only for the attributes rules and routes tell cases apart by, shows when each
// audience hears again (reminders, quiet hours, SMS), and checks the audiences against expected
// ones for CI (like amtool's --verify.receivers).

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

  it('refuses a value a case record could not carry, naming what may be given', () => {
    const given = ['category=domestic-abuse', 'riskLevel=medium', 'district=D01'];
    const refused = (pair: string) => () =>
      testRoutes(defaultConfig(), [...given.filter((g) => g.split('=')[0] !== pair.split('=')[0]), pair]);

    expect(refused('category=burglary')).toThrow(/^unknown category 'burglary' \(known: domestic-abuse, /);
    expect(refused('riskLevel=urgent')).toThrow('riskLevel must be one of high, medium, standard');
    expect(refused('stage=lost')).toThrow(/^stage must be one of awaiting-supervisor-review, /);
    expect(refused('stage=closed')).toThrow("stage 'closed' is not open: it raises nothing");
    expect(refused('childrenInvolved=yes')).toThrow('childrenInvolved must be true or false');
    expect(refused('district=Z99')).toThrow(/^unknown district 'Z99' \(known: D01, /);
    expect(testRoutes(defaultConfig(), [...given, 'childrenInvolved=true']).case.childrenInvolved).toBe(true);
  });

  it('never quotes a phone number or email address typed as a value or a key', () => {
    const given = ['category=domestic-abuse', 'riskLevel=medium'];
    const refused = (pair: string) => () => testRoutes(defaultConfig(), [...given, pair]);

    expect(refused('district=+447700900123')).toThrow(/^unknown district '\+44…23' \(known: D01, /);
    expect(() => testRoutes(defaultConfig(), ['category=jane.doe@example.org', 'riskLevel=high'])).toThrow(
      /^unknown category 'j…@e….org' \(known: /,
    );
    expect(refused('jane.doe@example.org=1')).toThrow(/^unknown key 'j…@e….org' \(use /);
    expect(refused('07700900123')).toThrow("'077…23' is not key=value");
    expect(() => parseExpectation('+447700900999', defaultConfig())).toThrow(
      /^--expect '\+44…99': unknown audience '\+44…99' \(known: /,
    );
    expect(() => parseExpectation('warning=jane.doe@example.org', defaultConfig())).toThrow(
      /^--expect 'w…@e….org': unknown audience 'j…@e….org'/,
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

  it("shows each audience's reminders, quiet hours and SMS at the levels the case reaches it", () => {
    const result = testRoutes(defaultConfig(), ['category=domestic-abuse', 'riskLevel=high', 'district=D01']);
    const policy = (audience: string) => result.policies.find((p) => p.audience === audience);

    expect(result.policies.map((p) => p.audience)).toEqual([
      'district-supervisor',
      'marac-coordinator',
      'duty-inspector',
      'senior-officer',
      'director-childrens-services',
    ]);
    expect(policy('marac-coordinator')).toEqual({
      audience: 'marac-coordinator',
      scope: 'local-authority',
      place: 'la-northgate',
      placeName: 'Northgate City Council',
      levels: ['warning', 'breach', 'escalation'],
      repeat: { warning: 'never', breach: '24h', escalation: '8h' },
      sms: ['breach', 'escalation'],
      emailOnly: ['warning'],
      quietHours: {
        from: '20:00',
        to: '08:00',
        remindersWait: ['breach', 'escalation'],
        newWarningsWait: true,
        newAtOnce: ['breach', 'escalation'],
      },
    });
    expect(policy('duty-inspector')).toMatchObject({
      levels: ['escalation'],
      repeat: { escalation: '4h' },
      quietHours: { from: '23:00', to: '07:00', remindersWait: ['escalation'], newWarningsWait: false },
    });
    // Reached only through the ceiling's escalation, and never reminded.
    expect(policy('director-childrens-services')).toMatchObject({
      levels: ['escalation'],
      repeat: { escalation: 'never' },
      quietHours: null,
    });
    expect(result.acknowledgePause).toEqual({ warning: '24h', breach: '8h', escalation: '4h' });
  });

  it('shows the levels level=... keeps, and no place when the district is not needed', () => {
    const result = testRoutes(defaultConfig(), [
      'category=child-protection',
      'stage=referred',
      'riskLevel=medium',
      'level=breach',
    ]);

    expect(result.policies).toEqual([
      expect.objectContaining({
        audience: 'mash-manager',
        place: undefined,
        levels: ['breach'],
        repeat: { breach: '24h' },
        quietHours: expect.objectContaining({ remindersWait: ['breach'], newWarningsWait: false }),
      }),
      expect.objectContaining({ audience: 'senior-officer', place: undefined, levels: ['breach'] }),
    ]);
    expect(result.acknowledgePause).toEqual({ breach: '8h' });
  });

  it("takes an audience's own repeat over the top-level one, and the top-level one where it has none", () => {
    const config = configWith([
      'repeat: { warning: never, breach: 8h, escalation: 4h }',
      'repeat: { escalation: 2wd }',
    ]);
    const result = testRoutes(config, ['category=domestic-abuse', 'riskLevel=high', 'district=D02']);

    expect(result.policies.find((p) => p.audience === 'district-supervisor')?.repeat).toEqual({
      warning: '12h',
      breach: '4h',
      escalation: '2wd',
    });
  });
});
