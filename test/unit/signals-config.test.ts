// The `signals` section of the admin config: the shipped defaults, the checks `config check`
// makes (each naming the key path and line), and `signals show`.

import { describe, expect, it } from 'vitest';
import { showSignals } from '#shared/cli/signals-command.ts';
import { parseConfig } from '#shared/config/load.ts';
import type { FlowKey } from '#shared/domain/flow.ts';
import { configTextWith, configWith, defaultConfig, defaultConfigText } from '#test/support/fixtures.ts';

const issuesOf = (text: string): string[] => {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    return (error as { issues: Array<{ path: string; message: string }> }).issues.map(
      (i) => `${i.path}: ${i.message}`,
    );
  }
  throw new Error('expected the config to be rejected');
};

const key = (overrides: Partial<FlowKey>): FlowKey => ({
  from: 'awaiting-risk-assessment',
  to: 'referred',
  category: 'domestic-abuse',
  riskLevel: 'high',
  childrenInvolved: false,
  ...overrides,
});

describe('the shipped signals', () => {
  const { signals } = defaultConfig();

  it('watches all referrals, high-risk domestic abuse referrals, the child referral share and stopped flow', () => {
    expect(signals.configured).toBe(true);
    expect(signals.ids).toEqual([
      'referrals',
      'high-risk-da-referrals',
      'child-referrals',
      'flow-stopped',
      'feed-stopped',
    ]);
    expect(signals.settings).toEqual({ baselineWeeks: 8, minBaselineWeeks: 4, falseAlarmDays: 3000 });
    expect(signals.repeatMs).toBe(24 * 3_600_000);
    expect(signals.flowRepeatMs).toBe(4 * 3_600_000);
  });

  it('counts referrals and high-risk domestic abuse referrals by the stage entered', () => {
    const [all, highRisk] = signals.rates;
    expect(all?.counts(key({}))).toBe(true);
    expect(all?.counts(key({ to: 'closed' }))).toBe(false);
    expect(highRisk?.counts(key({}))).toBe(true);
    expect(highRisk?.counts(key({ riskLevel: 'medium' }))).toBe(false);
    expect(highRisk?.counts(key({ category: 'child-protection' }))).toBe(false);
  });

  it('judges child-involved cases leaving assessment, referred or closed without a referral', () => {
    const [child] = signals.proportions;
    const childCase = (k: Partial<FlowKey>) =>
      key({ childrenInvolved: true, category: 'child-protection', ...k });
    expect(child?.judged(childCase({}))).toBe(true);
    expect(child?.referred(childCase({}))).toBe(true);
    expect(child?.judged(childCase({ to: 'closed' }))).toBe(true);
    expect(child?.referred(childCase({ to: 'closed' }))).toBe(false);
    // Closing after a referral is not leaving assessment; nor is a case first seen already closed.
    expect(child?.judged(childCase({ from: 'referred', to: 'closed' }))).toBe(false);
    expect(child?.judged(childCase({ from: 'new', to: 'closed' }))).toBe(false);
    expect(child?.judged(key({ childrenInvolved: false }))).toBe(false);
    expect(child?.floor).toBe(0.6);
  });

  it('names its audiences by route, per district, and the whole feed’s separately', () => {
    expect(signals.audiencesFor('child-referrals', 'D07')).toEqual([
      'district-supervisor',
      'director-childrens-services',
      'mash-manager',
    ]);
    expect(signals.audiencesFor('high-risk-da-referrals', 'D02')).toEqual([
      'district-supervisor',
      'duty-inspector',
      'marac-coordinator',
    ]);
    expect(signals.audiencesFor('feed-stopped', undefined)).toEqual(['ops', 'senior-officer']);
    expect(signals.matchingRoutes('flow-stopped', 'D04')).toEqual([0, 4]);
  });
});

describe('checking the signals section', () => {
  it('is optional: a config without it watches for no silence', () => {
    const text = defaultConfigText();
    const without = text.slice(0, text.indexOf('\n# Silence:'));
    expect(parseConfig(without, 'test.yaml').signals.configured).toBe(false);
  });

  it('names unknown audiences, categories, signals and districts, with their lines', () => {
    const issues = issuesOf(
      configTextWith(
        [
          'audiences: [marac-coordinator]\n    - description: Falling child',
          'audiences: [marac]\n    - description: Falling child',
        ],
        [
          'count: { to: referred, category: domestic-abuse, riskLevel: high }',
          'count: { to: referred, category: burglary }',
        ],
        ['match: { signal: feed-stopped }', 'match: { signal: feed-stoped, district: D77 }'],
      ),
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^signals\.rates\[1\]\.count\.category: unknown category 'burglary' .*\(test\.yaml line \d+\)$/,
      ),
      expect.stringMatching(/^signals\.routes\[2\]\.audiences: unknown audience 'marac' .*line \d+\)$/),
      expect.stringMatching(/^signals\.routes\[5\]\.match\.signal: unknown signal 'feed-stoped' /),
      expect.stringMatching(/^signals\.routes\[5\]\.match\.district: unknown district 'D77'/),
      expect.stringMatching(/^signals\.routes\[5\]: route is unreachable/),
    ]);
  });

  it('refuses a share that cannot move: referred outside the cases judged, or all of them', () => {
    expect(
      issuesOf(configTextWith(['referred: { to: referred }', 'referred: { to: awaiting-referral }'])),
    ).toEqual([
      expect.stringMatching(/^signals\.proportions\[0\]\.referred: matches none of the cases judged/),
    ]);
    expect(
      issuesOf(configTextWith(['referred: { to: referred }', 'referred: { childrenInvolved: true }'])),
    ).toEqual([expect.stringMatching(/^signals\.proportions\[0\]\.referred: matches every case judged/)]);
  });

  it('refuses a floor that is not a share, a fall that is not a fall, and a label that would not fit an SMS', () => {
    const issues = issuesOf(
      configTextWith(
        ['floor: 0.6', 'floor: 60'],
        ['count: { to: referred }\n', 'count: { to: referred }\n      fall: 2\n'],
        ['label: child referrals', 'label: child referrals to children’s social care in the district'],
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^signals\.rates\[0\]\.fall: must be below 1/),
        expect.stringMatching(/^signals\.proportions\[0\]\.label: must be at most 30 characters/),
        expect.stringMatching(/^signals\.proportions\[0\]\.floor: must be a share below 1/),
      ]),
    );
  });

  it('refuses duplicate or reserved ids, working-day repeats and a minimum longer than the baseline', () => {
    const issues = issuesOf(
      configTextWith(
        ['- id: high-risk-da-referrals', '- id: referrals'],
        ['- id: child-referrals', '- id: flow-stopped'],
        ['repeat: 24h # a raised', 'repeat: 1wd # a raised'],
        ['minWeeks: 4 # until', 'minWeeks: 10 # until'],
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^signals\.rates\[1\]\.id: duplicate or reserved signal id 'referrals'/),
        expect.stringMatching(
          /^signals\.proportions\[0\]\.id: duplicate or reserved signal id 'flow-stopped'/,
        ),
        expect.stringMatching(/^signals\.repeat: must be elapsed time/),
        expect.stringMatching(/^signals\.baseline\.minWeeks: is more than baseline\.weeks/),
      ]),
    );
  });

  it('sends a signal no route matches to the fallback audience', () => {
    const config = configWith([
      '    - description: The whole feed stopping goes to ops and the senior officer\n      match: { signal: feed-stopped }\n      audiences: [ops, senior-officer]\n',
      '',
    ]);
    expect(config.signals.audiencesFor('feed-stopped', undefined)).toEqual(['district-supervisor']);
    expect(config.signals.matchingRoutes('feed-stopped', undefined)).toEqual([]);
  });
});

describe('signals show', () => {
  it('lists each signal with what it watches and who hears of it in each district', () => {
    const views = showSignals(defaultConfig());
    expect(views.map((v) => `${v.id}/${v.kind}/${v.level}`)).toEqual([
      'referrals/rate/breach',
      'high-risk-da-referrals/rate/breach',
      'child-referrals/proportion/escalation',
      'flow-stopped/flow-stopped/breach',
      'feed-stopped/feed-stopped/escalation',
    ]);
    const child = views.find((v) => v.id === 'child-referrals');
    expect(child?.watches).toMatch(/raised below 60% from day one/);
    expect(child?.audiences).toHaveLength(10);
    expect(views.find((v) => v.id === 'feed-stopped')?.audiences).toEqual([
      { audiences: ['ops', 'senior-officer'], routes: [5] },
    ]);
  });

  it('narrows to one signal and district, and names what it does not know', () => {
    const [view] = showSignals(defaultConfig(), { signal: 'child-referrals', district: 'D07' });
    expect(view?.audiences).toEqual([
      {
        district: 'D07',
        audiences: ['district-supervisor', 'director-childrens-services', 'mash-manager'],
        routes: [0, 3],
      },
    ]);
    expect(() => showSignals(defaultConfig(), { signal: 'nope' })).toThrow(/unknown signal 'nope'/);
    expect(() => showSignals(defaultConfig(), { district: 'D77' })).toThrow(/unknown district 'D77'/);
  });
});
