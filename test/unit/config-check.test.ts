// `config check`'s warnings: cases only the absolute ceiling covers, said in the fewest words that
// cover them; and its summary's wording.

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configWarnings, nonWorkingRunWarnings, summariseConfig } from '#shared/cli/config-check.ts';
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

describe('what people would receive and cannot act on, or never receive', () => {
  it('warns of SMS reminders more often than hourly, day and night', () => {
    const config = configWith([
      'repeat: { warning: never, breach: never, escalation: never }',
      'repeat: { warning: never, breach: never, escalation: 5m }',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "audience 'director-childrens-services' is reminded by SMS every 5m at escalation, day and night (no quietHours): up to 12 SMS an hour to each of its phones while a case waits unacknowledged; remind less often, or take escalation by email (smsFor)",
    ]);
  });

  it('warns of quiet hours that leave less than an hour a day', () => {
    const config = configWith([
      'quietHours: { from: "23:00", to: "07:00" }',
      'quietHours: { from: "08:00", to: "07:59" }',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "audience 'duty-inspector': quietHours 08:00 to 07:59 leave 1 minutes a day outside them, and its reminders and new warnings go out only in a run that falls there: give it a shorter quiet period",
    ]);
  });

  it('warns of SMS only for levels an audience is never alerted at, but not of email only', () => {
    const director = 'repeat: { warning: never, breach: never, escalation: never }';
    const smsForWarning = configWith([director, `${director}\n    smsFor: [warning]`]);
    const emailOnly = configWith([director, `${director}\n    smsFor: []`]);

    expect(configWarnings(smsForWarning, NOW)).toEqual([
      "audience 'director-childrens-services' takes SMS for warning only, but its case alerts come at escalation: none of them goes by SMS (its silence signals still go by SMS); if email only is meant, say smsFor: []",
    ]);
    expect(configWarnings(emailOnly, NOW)).toEqual([]);
  });

  it('warns of an acknowledgement that mutes for weeks, and links that outlive their alert', () => {
    const config = configWith([
      'linkValidFor: 24h\n  pause: { warning: 24h, breach: 8h, escalation: 4h }',
      'linkValidFor: 10000d\n  pause: { warning: 24h, breach: 8h, escalation: 365d }',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      'acknowledge.pause.escalation: one acknowledgement pauses escalation reminders for 365d: a case still waiting goes unmentioned that long',
      'acknowledge.linkValidFor 10000d: an acknowledgement link works for over 30 days, long after the alert it came with',
    ]);
  });

  it('warns of links gone before most people have read the message (1m for 1h, say)', () => {
    const linkValidFor = (limit: string) =>
      configWarnings(configWith(['linkValidFor: 24h', `linkValidFor: ${limit}`]), NOW);

    expect(linkValidFor('1m')).toEqual([
      'acknowledge.linkValidFor 1m: an acknowledgement link works for less than an hour, so a person who reads the message later finds it not valid any more and cannot acknowledge until the next reminder',
    ]);
    expect(linkValidFor('59m')).toHaveLength(1);
    expect(linkValidFor('1h')).toEqual([]);
  });
});

describe('non-working days', () => {
  const weekdays = (from: string, count: number) => {
    const out: string[] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); out.length < count; t += 86_400_000) {
      const day = new Date(t).getUTCDay();
      if (day !== 0 && day !== 6) out.push(new Date(t).toISOString().slice(0, 10));
    }
    return out;
  };

  it('warns of more than ten weekdays in a row marked non-working, across weekends', () => {
    expect(nonWorkingRunWarnings(weekdays('2027-02-01', 11))).toEqual([
      'calendar.extraNonWorkingDays makes 11 weekdays in a row non-working (2027-02-01 to 2027-02-15, bank holidays included): no working-day limit can fall due in them, so cases on such limits wait the whole run out; is that meant?',
    ]);
  });

  it('counts the bank holidays a closure runs across', () => {
    // 2027-12-20 to 2027-12-24 and 2027-12-29 to 2028-01-07 marked: with Christmas, Boxing Day and
    // New Year's bank holidays (27 and 28 December, 3 January) between, 14 weekdays in a row.
    const marked = [...weekdays('2027-12-20', 5), ...weekdays('2027-12-29', 3), ...weekdays('2028-01-04', 4)];

    expect(nonWorkingRunWarnings(marked)).toEqual([
      expect.stringMatching(
        /^calendar\.extraNonWorkingDays makes 15 weekdays in a row non-working \(2027-12-20 to 2028-01-07,/,
      ),
    ]);
  });

  it('says nothing of a Christmas closure, or of scattered days', () => {
    expect(nonWorkingRunWarnings(weekdays('2027-12-27', 5))).toEqual([]);
    expect(nonWorkingRunWarnings([...weekdays('2027-02-01', 10), ...weekdays('2027-02-17', 10)])).toEqual([]);
  });

  it('is part of config check', () => {
    const config = configWith([
      'extraNonWorkingDays: []',
      `extraNonWorkingDays: [${weekdays('2027-03-01', 30).join(', ')}]`,
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      expect.stringMatching(/^calendar\.extraNonWorkingDays makes 30 weekdays in a row/),
    ]);
  });
});

describe('limits against the ceiling', () => {
  it('warns of a rule limit past the ceiling’s escalation (a typo for hours, say)', () => {
    const config = configWith([
      '    warn: 4h\n    breach: 24h\n    escalate: 36h',
      '    warn: 4h\n    breach: 24h\n    escalate: 36d',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "rule 'child-high': escalate 36d comes after the ceiling's escalate 30d, so its cases are escalated to the ceiling's audiences before this rule's own hear of them: is 36d meant?",
    ]);
  });

  it('warns of a rule that first warns no earlier than the ceiling: its cases are left to the ceiling', () => {
    // A district's own rule, more specific than the domestic abuse ones, with limits in days.
    const config = configWith([
      '  - id: ceiling\n',
      '  - id: d01-da\n    match: { category: domestic-abuse, district: D01, riskLevel: [high, medium, standard], stage: *waiting }\n    warn: 20d\n    breach: 25d\n    escalate: 30d\n  - id: ceiling\n',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "rule 'd01-da': warn 20d is no earlier than the ceiling's warn 14d, so the ceiling alone alerts on its cases (category=domestic-abuse riskLevel=high|medium|standard stage=awaiting-supervisor-review|awaiting-risk-assessment|awaiting-referral district=D01) until then, as if no rule covered them: is 20d meant?",
    ]);
  });

  it('counts working days at their shortest: 25wd always comes after 30 days', () => {
    const config = configWith(['    breach: 72h\n    escalate: 5wd', '    breach: 72h\n    escalate: 25wd']);

    expect(configWarnings(config, NOW)).toEqual([
      "rule 'child-standard': escalate 25wd comes after the ceiling's escalate 30d, so its cases are escalated to the ceiling's audiences before this rule's own hear of them: is 25wd meant?",
    ]);
  });

  it('warns of a ceiling that escalates after more than 90 days', () => {
    const config = configWith([
      '    breach: 30d\n    escalate: 30d',
      '    breach: 30d\n    escalate: 99999d',
    ]);

    expect(configWarnings(config, NOW)).toEqual([
      "the ceiling rule 'ceiling' escalates only after 99999d: a case no other rule alerts on in time can wait over 90 days before anyone senior hears of it",
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
    const summary = summariseConfig(config, 'one.yaml', NOW);
    expect(summary).toContain('force: Synthetic Force; 1 category, 1 district in 1 local authority');
    // With no signals section, nothing watches for silence: said in the summary and warned.
    expect(summary).toContain('\nsignals: none (no signals section)\n');
    expect(configWarnings(config, NOW)).toContain(
      'no signals section: nothing watches for referrals that fall or flow that stops (silence detection is off); the shipped config has one to start from',
    );
    expect(summariseConfig(defaultConfig(), 'shipped.yaml', NOW)).toMatch(
      /\nsignals: referrals, high-risk-da-referrals, child-referrals, flow-stopped, feed-stopped$/m,
    );
  });
});
