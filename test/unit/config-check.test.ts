// `config check`'s warnings: cases only the absolute ceiling covers, said in the fewest words that
// cover them; and its summary's wording.

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configWarnings, summariseConfig } from '#shared/cli/config-check.ts';
import { ceilingOnlyGaps, describeGap } from '#shared/config/coverage.ts';
import { parseConfig } from '#shared/config/load.ts';
import { configWith, defaultConfig } from '#test/support/fixtures.ts';

const NOW = Date.parse('2026-11-30T09:00:00Z');

describe('levels on two clocks', () => {
  it('warns where a working-day level can come after the elapsed level that should follow it', () => {
    const config = configWith([
      '    warn: 4h\n    breach: 24h\n    escalate: 36h',
      '    warn: 1wd\n    breach: 25h\n    escalate: 36h',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "rule 'child-high': warn 1wd can come after breach 25h (1wd can take up to 5 days over weekends and bank holidays), and then breach waits for it: make breach later, or put both on the same clock",
    ]);
  });
});

describe('cases only the ceiling covers', () => {
  it('finds none in the shipped config', () => {
    expect(ceilingOnlyGaps(defaultConfig())).toEqual([]);
    expect(configWarnings(defaultConfig(), NOW)).toEqual([]);
  });

  it('names a whole category once, listing the stages no rule covers', () => {
    const config = configWith(
      [
        'category: &others [stalking-harassment, vulnerable-adult]',
        'category: &others [stalking-harassment]',
      ],
      [
        'match: { rule: sh-va-high, category: vulnerable-adult, level: escalation }',
        'match: { rule: sh-va-high, level: escalation }',
      ],
    );

    expect(ceilingOnlyGaps(config).map(describeGap)).toEqual([
      'category=vulnerable-adult stage=awaiting-supervisor-review|awaiting-risk-assessment|awaiting-referral',
    ]);
    expect(configWarnings(config, NOW)).toEqual([
      "only the ceiling rule 'ceiling' covers category=vulnerable-adult stage=awaiting-supervisor-review|awaiting-risk-assessment|awaiting-referral: its first warning comes after 14d; add a rule for it",
    ]);
  });

  it('names a risk level and a stage across categories', () => {
    const config = configWith([
      'match: { category: *others, riskLevel: medium, stage: *waiting }',
      'match: { category: *others, riskLevel: medium, stage: [awaiting-referral] }',
    ]);

    expect(ceilingOnlyGaps(config).map(describeGap)).toEqual([
      'category=stalking-harassment|vulnerable-adult riskLevel=medium stage=awaiting-supervisor-review|awaiting-risk-assessment',
    ]);
  });

  it('says when only some districts or children values of a combination are uncovered', () => {
    const config = configWith([
      'match: { category: *others, riskLevel: standard, stage: *waiting }',
      'match: { category: *others, riskLevel: standard, stage: *waiting, district: [D01, D02, D03, D04, D05, D06, D07, D08, D09] }',
    ]);

    expect(ceilingOnlyGaps(config)).toEqual([
      {
        match: {
          category: ['stalking-harassment', 'vulnerable-adult'],
          riskLevel: ['standard'],
          stage: ['awaiting-supervisor-review', 'awaiting-risk-assessment', 'awaiting-referral'],
        },
        partial: true,
      },
    ]);
    expect(describeGap(ceilingOnlyGaps(config)[0] as never)).toBe(
      'some cases of category=stalking-harassment|vulnerable-adult riskLevel=standard stage=awaiting-supervisor-review|awaiting-risk-assessment|awaiting-referral (depending on childrenInvolved or district)',
    );
  });

  it('names every category when the ceiling is the only rule', () => {
    const config = parseConfig(
      stringify({
        version: 1,
        force: 'Synthetic Force',
        linkBase: 'https://q.example/q',
        categories: ['domestic-abuse'],
        localAuthorities: { 'la-one': { name: 'One Council' } },
        districts: { D01: { name: 'One', localAuthority: 'la-one' } },
        repeat: { warning: '12h', breach: '4h', escalation: '1h' },
        rules: [{ id: 'ceiling', warn: '1d', breach: '2d', escalate: '3d' }],
        audiences: { ops: { scope: 'force', description: 'Ops' } },
        routes: [{ audiences: ['ops'] }],
        fallbackAudience: 'ops',
      }),
    );

    expect(ceilingOnlyGaps(config).map(describeGap)).toEqual(['category=domestic-abuse']);
    expect(summariseConfig(config, 'one.yaml', NOW)).toContain(
      'force: Synthetic Force; 1 category, 1 district in 1 local authority',
    );
  });
});
