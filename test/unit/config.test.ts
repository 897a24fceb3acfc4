import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { type CaseKey, ConfigError, type ConfigIssue } from '#shared/config/compile.ts';
import { loadConfig, parseConfig } from '#shared/config/load.ts';
import {
  configTextWith,
  configWith,
  defaultConfig,
  defaultConfigText,
  tempDir,
} from '#test/support/fixtures.ts';

/** The issues a config text raises (fails the test if it compiles). */
function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** The 1-based line of the first occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`no ${needle} in the text`);
  return text.slice(0, index).split('\n').length;
}

const key = (overrides: Partial<CaseKey> = {}): CaseKey => ({
  category: 'domestic-abuse',
  riskLevel: 'high',
  stage: 'awaiting-risk-assessment',
  childrenInvolved: false,
  district: 'D01',
  ...overrides,
});

describe('the shipped default config', () => {
  it('compiles without issues', () => {
    const config = defaultConfig();

    expect(config.rules.map((r) => r.id)).toEqual([
      'child-immediate',
      'child-high',
      'child-medium',
      'child-standard',
      'la-decision',
      'da-high-assessment',
      'da-high-referral',
      'da-medium',
      'da-standard',
      'sh-va-high',
      'sh-va-medium',
      'sh-va-standard',
      'ceiling',
    ]);
  });

  it('maps ten districts to ten different local authorities', () => {
    const { file } = defaultConfig();
    const authorities = Object.values(file.districts).map((d) => d.localAuthority);

    expect(Object.keys(file.districts)).toHaveLength(10);
    expect(new Set(authorities).size).toBe(10);
    expect(authorities.every((la) => la in file.localAuthorities)).toBe(true);
  });

  it.each([
    ['child-immediate', '30m', '1h', '2h'],
    ['child-high', '4h', '24h', '36h'],
    ['child-medium', '24h', '48h', '72h'],
    ['child-standard', '48h', '72h', '5wd'],
    ['la-decision', '4h', '1wd', '2wd'],
    ['da-high-assessment', '4h', '24h', '48h'],
    ['da-high-referral', '24h', '48h', '72h'],
    ['da-medium', '24h', '72h', '5d'],
    ['da-standard', '72h', '7d', '14d'],
    ['sh-va-high', '4h', '24h', '48h'],
    ['sh-va-medium', '24h', '72h', '5d'],
    ['sh-va-standard', '72h', '7d', '14d'],
    ['ceiling', '14d', '30d', '30d'],
  ])('ships the domain default thresholds for %s', (id, warn, breach, escalate) => {
    const rule = defaultConfig().rules.find((r) => r.id === id);

    expect([rule?.warn.text, rule?.breach.text, rule?.escalate.text]).toEqual([warn, breach, escalate]);
  });

  it('uses working days for the local-authority decision', () => {
    const rule = defaultConfig().rules.find((r) => r.id === 'la-decision');

    expect(rule?.breach).toEqual({ kind: 'working-days', days: 1, text: '1wd' });
    expect(rule?.escalate).toEqual({ kind: 'working-days', days: 2, text: '2wd' });
  });

  it('reads the same config written as JSON', () => {
    const json = JSON.stringify(parseYaml(defaultConfigText()));

    const config = parseConfig(json, 'config.json');

    expect(config.rules).toHaveLength(defaultConfig().rules.length);
  });
});

describe('config errors', () => {
  it('names the rule by position and id, its warn and its line when warn is later than breach', () => {
    const text = configTextWith([
      'warn: 4h\n    breach: 24h\n    escalate: 36h',
      'warn: 30h\n    breach: 24h\n    escalate: 36h',
    ]);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[1] (child-high).warn',
        message: `thresholds out of order: warn 30h is later than breach 24h (test.yaml line ${lineOf(text, 'warn: 30h')})`,
      },
    ]);
  });

  it('names the rule when breach is later than escalate', () => {
    const text = configTextWith(['breach: 72h\n    escalate: 5wd', 'breach: 6wd\n    escalate: 5wd']);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[3] (child-standard).breach',
        message: expect.stringContaining('thresholds out of order: breach 6wd is later than escalate 5wd'),
      },
    ]);
  });

  it('names both rules when two rules of equal specificity overlap', () => {
    const text = configTextWith([
      'match: { category: child-protection, riskLevel: medium, stage: *waiting }',
      'match: { category: child-protection, riskLevel: high, stage: *waiting }',
    ]);

    const issues = issuesOf(text);

    expect(issues).toContainEqual({
      path: 'rules[2] (child-medium).match',
      message: expect.stringMatching(
        new RegExp(
          `^overlaps rule 'child-high' with equal specificity .* \\(test.yaml line ${lineOf(text, 'match: { category: child-protection, riskLevel: high, stage: *waiting }\n    warn: 24h')}\\)$`,
        ),
      ),
    });
  });

  it('names a rule that more specific rules make unreachable', () => {
    const text = configTextWith([
      '  - id: ceiling\n',
      '  - id: shadowed\n    match: { category: child-protection, stage: *waiting }\n    warn: 1h\n    breach: 2h\n    escalate: 3h\n  - id: ceiling\n',
    ]);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[12] (shadowed).match',
        message: `rule 'shadowed' is unreachable: more specific or earlier rules match every case it matches (test.yaml line ${lineOf(text, 'id: shadowed') + 1})`,
      },
    ]);
  });

  it('names a route that no open case can reach', () => {
    const text = configTextWith([
      'match: { rule: la-decision }',
      'match: { rule: la-decision, stage: awaiting-referral }',
    ]);

    expect(issuesOf(text)).toEqual([
      { path: 'routes[4].match', message: expect.stringContaining('route is unreachable') },
    ]);
  });

  it.each([
    [
      'an audience',
      'audiences: [mash-manager]',
      'audiences: [mash-managr]',
      'routes[4].audiences',
      "unknown audience 'mash-managr'",
    ],
    [
      'a rule',
      'match: { rule: la-decision }',
      'match: { rule: la-decisions }',
      'routes[4].match.rule',
      "unknown rule 'la-decisions'",
    ],
    [
      'a category',
      'match: { rule: da-standard }',
      'match: { rule: da-standard, category: domestic-abus }',
      'routes[5].match.category',
      "unknown category 'domestic-abus'",
    ],
    [
      'a district',
      'match: { rule: da-standard }',
      'match: { rule: da-standard, district: D11 }',
      'routes[5].match.district',
      "unknown district 'D11'",
    ],
    [
      'a local authority',
      'match: { rule: da-standard }',
      'match: { rule: da-standard, localAuthority: la-nowhere }',
      'routes[5].match.localAuthority',
      "unknown local authority 'la-nowhere'",
    ],
  ])('names the route key and line of an unknown name: %s', (_, from, to, path, message) => {
    const text = configTextWith([from, to]);

    expect(issuesOf(text)).toEqual([
      {
        path,
        message: expect.stringMatching(
          new RegExp(`^${message} \\(known: .*\\) \\(test.yaml line ${lineOf(text, to)}\\)$`),
        ),
      },
    ]);
  });

  it('names a category listed twice', () => {
    const text = configTextWith(['categories:\n', 'categories:\n  - child-protection\n']);

    expect(issuesOf(text).map((i) => i.path.split(' ')[0])).toEqual([
      expect.stringMatching(/^categories\[\d+\]$/),
    ]);
    expect(issuesOf(text)[0]?.message).toMatch(/^category 'child-protection' is listed twice/);
  });

  it('names an unknown category in a rule', () => {
    const issues = issuesOf(
      configTextWith([
        'match: { category: domestic-abuse, riskLevel: medium',
        'match: { category: domestic-abus, riskLevel: medium',
      ]),
    );

    expect(issues[0]).toEqual({
      path: 'rules[7] (da-medium).match.category',
      message: expect.stringContaining("unknown category 'domestic-abus'"),
    });
  });

  it('names an unknown local authority of a district', () => {
    const issues = issuesOf(
      configTextWith([
        'D10: { name: Riverside, localAuthority: la-riverside }',
        'D10: { name: Riverside, localAuthority: la-nowhere }',
      ]),
    );

    expect(issues).toEqual([
      {
        path: 'districts.D10.localAuthority',
        message: expect.stringContaining("unknown local authority 'la-nowhere'"),
      },
    ]);
  });

  it('names an unknown fallback audience', () => {
    const issues = issuesOf(
      configTextWith(['fallbackAudience: district-supervisor', 'fallbackAudience: nobody']),
    );

    expect(issues).toEqual([
      { path: 'fallbackAudience', message: expect.stringContaining("unknown audience 'nobody'") },
    ]);
  });

  it('requires a catch-all rule', () => {
    const text = configTextWith([
      '    description: Any open case, absolute ceiling\n',
      '    description: Any open case, absolute ceiling\n    match: { riskLevel: [high, medium, standard] }\n',
    ]);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules',
        message: expect.stringMatching(
          /^no catch-all rule \(one with an empty match\).* \(test.yaml line \d+\)$/,
        ),
      },
    ]);
  });

  it('names the key and line of a limit that is not a limit', () => {
    const text = configTextWith(['warn: 72h', 'warn: 72 hours']);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[8] (da-standard).warn',
        message: `'72 hours' is not a limit: use a whole number and a unit, m, h, d or wd (e.g. 30m, 4h, 7d, 1wd) (test.yaml line ${lineOf(text, 'warn: 72 hours')})`,
      },
    ]);
  });

  it('says which values a match key takes when one is misspelt', () => {
    const text = configTextWith(['match: { stage: referred }', 'match: { stage: refered }']);
    const level = configTextWith([
      'match: { rule: ceiling, level: escalation }',
      'match: { rule: ceiling, level: escalate }',
    ]);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[4] (la-decision).match.stage',
        message: `'refered' is not one of awaiting-supervisor-review, awaiting-risk-assessment, awaiting-referral, referred, referral-acknowledged, closed (give one, or a list of them) (test.yaml line ${lineOf(text, 'match: { stage: refered }')})`,
      },
    ]);
    expect(issuesOf(level).map((i) => i.message)).toEqual([
      expect.stringMatching(
        /^'escalate' is not one of warning, breach, escalation \(give one, or a list of them\) \(test\.yaml line \d+\)$/,
      ),
    ]);
    // In a list, the value that is wrong; a value that is no word is not quoted.
    const inList = configTextWith(['match: { stage: referred }', 'match: { stage: [referred, refered] }']);
    const number = configTextWith(['match: { stage: referred }', 'match: { stage: 42 }']);
    expect(issuesOf(inList).map((i) => i.message)).toEqual([
      expect.stringMatching(/^'refered' is not one of /),
    ]);
    expect(issuesOf(number).map((i) => i.message)).toEqual([
      expect.stringMatching(/^must be one of awaiting-supervisor-review, .*, closed, or a list of them /),
    ]);
  });

  it('quotes a misspelt scope or smsFor level, and says which values it takes', () => {
    const text = configTextWith(
      ['  duty-inspector:\n    scope: district', '  duty-inspector:\n    scope: distrct'],
      ['smsFor: [escalation]', 'smsFor: [escalaton]'],
    );

    expect(issuesOf(text)).toEqual([
      {
        path: 'audiences.duty-inspector.scope',
        message: `'distrct' is not one of district, local-authority, force (test.yaml line ${lineOf(text, 'scope: distrct')})`,
      },
      {
        path: 'audiences.senior-officer.smsFor[0]',
        message: `'escalaton' is not one of warning, breach, escalation (test.yaml line ${lineOf(text, 'smsFor: [escalaton]')})`,
      },
    ]);
  });

  it('reports a limit that is not one once, not again as out of order', () => {
    const words = configTextWith([
      '    warn: 72h\n    breach: 7d\n    escalate: 14d',
      '    warn: 72h\n    breach: 7 days\n    escalate: 14d',
    ]);
    const huge = configTextWith([
      '    warn: 72h\n    breach: 7d\n    escalate: 14d',
      '    warn: 72h\n    breach: 7d\n    escalate: 999999d',
    ]);

    expect(issuesOf(words).map((i) => i.message)).toEqual([
      expect.stringMatching(/^'7 days' is not a limit: use a whole number and a unit/),
    ]);
    expect(issuesOf(huge).map((i) => i.message)).toEqual([
      expect.stringMatching(/^'999999d' is not a limit: at most five digits and a unit/),
    ]);
  });

  it('says a limit of the wrong type is wrong, not missing, and a bare number that its unit is', () => {
    const text = configTextWith(['warn: 72h', 'warn: 72']);
    const listed = configTextWith(['warn: 72h', 'warn: [72h]']);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[8] (da-standard).warn',
        message: `72 has no unit: write it as 72m, 72h, 72d or 72wd (test.yaml line ${lineOf(text, 'warn: 72\n')})`,
      },
    ]);
    expect(issuesOf(listed).map((i) => i.message)).toEqual([
      expect.stringMatching(/^must be a limit like 30m, 4h, 7d or 1wd \(test\.yaml line \d+\)$/),
    ]);
  });

  it('names a missing key', () => {
    const issues = issuesOf(configTextWith(['    warn: 72h\n', '']));

    expect(issues).toEqual([
      {
        path: 'rules[8] (da-standard).warn',
        message: expect.stringMatching(/^is missing \(test.yaml line \d+\)$/),
      },
    ]);
  });

  it('names the key path and line of an unknown key in a rule', () => {
    const text = configTextWith(['    warn: 72h\n', '    warm: 72h\n    warn: 72h\n']);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[8] (da-standard).warm',
        message: `unknown key 'warm' (test.yaml line ${lineOf(text, 'warm: 72h')})`,
      },
    ]);
  });

  it('names the key path and line of an unknown top-level key', () => {
    const text = `${defaultConfigText()}\nescalateEverything: true\n`;

    expect(issuesOf(text)).toEqual([
      {
        path: 'escalateEverything',
        message: `unknown key 'escalateEverything' (test.yaml line ${lineOf(text, 'escalateEverything')})`,
      },
    ]);
  });

  it('gives the line of invalid YAML', () => {
    const text = configTextWith(['force: Metro Example Police', 'force: [Metro Example Police']);

    const issues = issuesOf(text);

    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(/^test.yaml line \d+: not valid YAML or JSON(: .+)? \([A-Z_]+\)$/);
  });

  it('says in words what is wrong with the YAML people most often get wrong, with the parser’s code', () => {
    const tabbed = configTextWith([
      '  district-supervisor:\n    scope: district',
      '  district-supervisor:\n\tscope: district',
    ]);
    const line = lineOf(tabbed, '\tscope: district');

    expect(issuesOf(tabbed)).toEqual([
      {
        path: '',
        message: `test.yaml line ${line}: not valid YAML or JSON: a tab in the indentation (YAML indents with spaces only) (TAB_AS_INDENT)`,
      },
    ]);
  });

  it('says a file saved as UTF-16 is not UTF-8, rather than failing to read its value', () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'unicode.yaml');
      writeFileSync(path, Buffer.from(`\uFEFF${defaultConfigText()}`, 'utf16le'));

      expect(() => loadConfig(path)).toThrow(
        expect.objectContaining({
          name: 'ConfigError',
          issues: [
            {
              path: '',
              message: `${path} is not UTF-8 text (it has NUL bytes: saved as UTF-16, "Unicode"?): save it as UTF-8`,
            },
          ],
        }),
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('names a key given twice, and its line', () => {
    const text = configTextWith(['force: Metro Example Police', 'force: Metro Example Police\nforce: Other']);

    expect(issuesOf(text)).toEqual([
      {
        path: 'force',
        message: `the key force is given more than once (only one value can count) (test.yaml line ${lineOf(text, 'force: Other')})`,
      },
    ]);
  });

  it('names a rule by its id too when a key of it is given twice, as every other issue does', () => {
    const text = configTextWith([
      '    warn: 4h\n    breach: 24h',
      '    warn: 4h\n    warn: 5h\n    breach: 24h',
    ]);

    expect(issuesOf(text)).toEqual([
      {
        path: 'rules[1] (child-high).warn',
        message: `the key warn is given more than once (only one value can count) (test.yaml line ${lineOf(text, 'warn: 5h')})`,
      },
    ]);
  });

  it('names the whole path of a nested key given twice, in a map and in a list', () => {
    const district = configTextWith([
      '  D03: { name: Southwick, localAuthority: la-southwick }',
      '  D03: { name: Southwick, localAuthority: la-southwick }\n  D03: { name: Other, localAuthority: la-southwick }',
    ]);
    expect(issuesOf(district).map((i) => i.path)).toEqual(['districts.D03']);
    expect(issuesOf(district)[0]?.message).toBe(
      `the key D03 is given more than once (only one value can count) (test.yaml line ${lineOf(district, 'D03: { name: Other')})`,
    );

    const inList = configTextWith(['version: 1', 'version: 1\nnotes:\n  - a: 1\n    a: 2']);
    expect(issuesOf(inList).map((i) => i.path)).toEqual(['notes[0].a']);
  });

  it('does not quote the YAML source in the error', () => {
    const text = configTextWith(['force: Metro Example Police', 'force: [SYNTHETIC-PERSON-1']);

    expect(JSON.stringify(issuesOf(text))).not.toContain('SYNTHETIC-PERSON-1');
  });

  it('requires an https link base', () => {
    const issues = issuesOf(configTextWith(['linkBase: https://', 'linkBase: http://']));

    expect(issues).toEqual([{ path: 'linkBase', message: expect.stringContaining('must be an https URL') }]);
  });

  it('rejects a duplicate rule id', () => {
    const issues = issuesOf(configTextWith(['- id: da-standard', '- id: da-medium']));

    expect(issues).toContainEqual({
      path: 'rules[8] (da-medium).id',
      message: expect.stringContaining("duplicate rule id 'da-medium'"),
    });
  });

  it('rejects an extra non-working day that is not a date', () => {
    const issues = issuesOf(
      configTextWith(['extraNonWorkingDays: []', "extraNonWorkingDays: ['2027-02-30']"]),
    );

    expect(issues).toEqual([
      {
        path: 'calendar.extraNonWorkingDays[0]',
        message: expect.stringContaining('must be a date like 2027-06-07'),
      },
    ]);
  });

  it('puts every issue on its own line of the error message, path first', () => {
    const error = (() => {
      try {
        parseConfig(
          configTextWith(
            ['warn: 72h', 'warn: 72 hours'],
            ['fallbackAudience: district-supervisor', 'fallbackAudience: nobody'],
          ),
        );
      } catch (e) {
        return e as ConfigError;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message.split('\n')).toEqual([
      expect.stringMatching(/^fallbackAudience: unknown audience 'nobody'/),
      expect.stringMatching(/^rules\[8\] \(da-standard\)\.warn: '72 hours' is not a limit/),
    ]);
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments only', '# nothing here yet\n'],
  ])('says %s is empty and which keys a config needs', (_, text) => {
    expect(issuesOf(text)).toEqual([
      {
        path: '',
        message:
          'test.yaml is empty: a config is a mapping of keys, and needs version, force, linkBase, categories, localAuthorities, districts, repeat, rules, audiences, routes, fallbackAudience',
      },
    ]);
  });

  it('says a file that is a list is not a mapping of keys', () => {
    expect(issuesOf('- version: 1\n')).toEqual([
      {
        path: '',
        message: expect.stringMatching(
          /^test.yaml is a list: a config is a mapping of keys, and needs version, /,
        ),
      },
    ]);
  });

  it('names every missing top-level key', () => {
    const issues = issuesOf('version: 1\nforce: Synthetic Force\n');

    expect(issues.map((i) => i.path)).toEqual([
      'linkBase',
      'categories',
      'localAuthorities',
      'districts',
      'repeat',
      'rules',
      'audiences',
      'routes',
      'fallbackAudience',
    ]);
    expect(new Set(issues.map((i) => i.message))).toEqual(new Set(['is missing']));
  });

  it('says what an empty list of rules needs', () => {
    const text = configTextWith(['rules:\n', 'rules: []\nunused:\n']);

    expect(issuesOf(text)).toContainEqual({
      path: 'rules',
      message: expect.stringMatching(
        /^needs at least one rule \(and one of them with an empty match: the absolute ceiling\)/,
      ),
    });
  });

  it('does not repeat a rule id that is itself invalid', () => {
    const text = configTextWith(['- id: da-standard', '- id: DA Standard']);

    expect(issuesOf(text)).toContainEqual({
      path: 'rules[8].id',
      message: expect.stringContaining('must be a lower-case id'),
    });
  });

  it('reports a config file that does not exist', () => {
    const tmp = tempDir();
    try {
      expect(() => loadConfig(`${tmp.dir}/missing.yaml`)).toThrow(
        /cannot read config .*missing.yaml: no such file/,
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('loads a config from a file', () => {
    const tmp = tempDir();
    try {
      const path = tmp.file(
        'custom.yaml',
        configTextWith(['force: Metro Example Police', 'force: Synthetic Force']),
      );

      expect(loadConfig(path).file.force).toBe('Synthetic Force');
    } finally {
      tmp.cleanup();
    }
  });

  it('never quotes a phone number or email address typed where a limit, a district or a key goes', () => {
    const text = configTextWith(
      ['warn: 30m', 'warn: jane.doe@example.org'],
      ['  warning: 12h', '  warning: 07700 900123'],
      ['match: { rule: da-standard }', 'match: { rule: da-standard, district: "+447700900123" }'],
    );
    const keyed = configTextWith(
      ['version: 1', 'version: 1\nsam.smith@example.org: supervisor'],
      ['    warn: 30m', '    warn: 30m\n    "+447700900456": x'],
    );

    const issues = [...issuesOf(text), ...issuesOf(keyed)];
    const shown = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(shown).not.toMatch(/jane\.doe|example\.org|07700 900123|447700900123|sam\.smith|447700900456/);
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          path: 'rules[0] (child-immediate).warn',
          message: expect.stringContaining("'j…@e….org' is not a limit"),
        },
        { path: 'repeat.warning', message: expect.stringContaining("'077…23' is not a limit") },
        {
          path: 'routes[5].match.district',
          message: expect.stringContaining("unknown district '+44…23'"),
        },
      ]),
    );
  });
});

describe('rules', () => {
  it('picks the most specific matching rule', () => {
    const config = defaultConfig();

    expect(config.ruleFor(key())?.id).toBe('da-high-assessment');
    expect(config.ruleFor(key({ stage: 'awaiting-referral' }))?.id).toBe('da-high-referral');
    expect(config.ruleFor(key({ stage: 'referred' }))?.id).toBe('la-decision');
    expect(config.ruleFor(key({ category: 'child-protection', riskLevel: 'medium' }))?.id).toBe(
      'child-medium',
    );
    expect(config.ruleFor(key({ category: 'stalking-harassment' }))?.id).toBe('sh-va-high');
    expect(config.ruleFor(key({ category: 'vulnerable-adult', riskLevel: 'standard' }))?.id).toBe(
      'sh-va-standard',
    );
  });

  it('lets a rule for one district beat the force-wide rule', () => {
    const config = configWith([
      '  - id: da-high-referral\n',
      '  - id: da-high-assessment-d01\n    match: { category: domestic-abuse, riskLevel: high, stage: awaiting-risk-assessment, district: D01 }\n    warn: 2h\n    breach: 12h\n    escalate: 24h\n  - id: da-high-referral\n',
    ]);

    expect(config.ruleFor(key({ district: 'D01' }))?.id).toBe('da-high-assessment-d01');
    expect(config.ruleFor(key({ district: 'D02' }))?.id).toBe('da-high-assessment');
  });

  it('finds a rule for every open case the config allows', () => {
    const config = defaultConfig();
    const { file } = config;
    const missing: string[] = [];
    for (const category of file.categories)
      for (const riskLevel of ['high', 'medium', 'standard'] as const)
        for (const stage of [
          'awaiting-supervisor-review',
          'awaiting-risk-assessment',
          'awaiting-referral',
          'referred',
        ] as const)
          for (const childrenInvolved of [false, true])
            for (const district of Object.keys(file.districts)) {
              const k = { category, riskLevel, stage, childrenInvolved, district };
              if (!config.ruleFor(k)) missing.push(JSON.stringify(k));
            }

    expect(missing).toEqual([]);
  });
});

describe('routing', () => {
  it('sends a child case at escalation to the director of children’s services for its local authority', () => {
    const config = defaultConfig();
    const child = key({
      category: 'child-protection',
      stage: 'awaiting-referral',
      childrenInvolved: true,
      district: 'D03',
    });

    expect(config.audiencesFor(child, 'escalation')).toContain('director-childrens-services');
    expect(config.audiencesFor(child, 'warning')).not.toContain('director-childrens-services');
    expect(config.localAuthorityOf('D03')).toBe('la-southwick');
  });

  it('sends every case with children at escalation to the director, whatever its category', () => {
    const config = defaultConfig();

    expect(
      config.audiencesFor(key({ riskLevel: 'standard', childrenInvolved: true }), 'escalation'),
    ).toContain('director-childrens-services');
  });

  it('sends high-risk domestic abuse awaiting assessment to the MARAC coordinator from the first alert', () => {
    const config = defaultConfig();

    expect(config.audiencesFor(key(), 'warning')).toEqual(['district-supervisor', 'marac-coordinator']);
    expect(config.audiencesFor(key(), 'escalation')).toEqual(
      expect.arrayContaining(['district-supervisor', 'duty-inspector', 'marac-coordinator']),
    );
  });

  it('sends immediate child protection at escalation to the duty inspector and local-authority out of hours', () => {
    const config = defaultConfig();
    const immediate = key({
      category: 'child-immediate-protection',
      stage: 'awaiting-supervisor-review',
      childrenInvolved: true,
    });

    expect(config.audiencesFor(immediate, 'escalation')).toEqual(
      expect.arrayContaining([
        'district-supervisor',
        'duty-inspector',
        'la-out-of-hours',
        'director-childrens-services',
      ]),
    );
  });

  it('sends referrals awaiting a local-authority decision to the MASH manager, then the director', () => {
    const config = defaultConfig();
    const referred = key({ category: 'child-protection', stage: 'referred', childrenInvolved: true });

    expect(config.ruleFor(referred)?.id).toBe('la-decision');
    expect(config.audiencesFor(referred, 'breach')).toEqual(['mash-manager']);
    expect(config.audiencesFor(referred, 'escalation')).toEqual([
      'mash-manager',
      'director-childrens-services',
    ]);
  });

  it('sends standard-risk domestic abuse to triage', () => {
    expect(defaultConfig().audiencesFor(key({ riskLevel: 'standard' }), 'breach')).toEqual([
      'triage-supervisor',
    ]);
  });

  it('sends the absolute ceiling’s alerts to a senior officer, and at escalation to the director too', () => {
    expect(defaultConfig().ceilingAudiencesFor(key({ category: 'vulnerable-adult' }), 'warning')).toEqual([
      'senior-officer',
    ]);
    expect(defaultConfig().ceilingAudiencesFor(key({ category: 'vulnerable-adult' }), 'escalation')).toEqual([
      'senior-officer',
      'director-childrens-services',
    ]);
  });

  it('escalates a high-risk vulnerable adult to the inspector and the MASH manager, and stalking to the inspector', () => {
    const config = defaultConfig();

    expect(config.audiencesFor(key({ category: 'vulnerable-adult' }), 'warning')).toEqual([
      'district-supervisor',
    ]);
    expect(config.audiencesFor(key({ category: 'vulnerable-adult' }), 'escalation')).toEqual([
      'district-supervisor',
      'duty-inspector',
      'mash-manager',
    ]);
    expect(config.audiencesFor(key({ category: 'stalking-harassment' }), 'escalation')).toEqual([
      'district-supervisor',
      'duty-inspector',
    ]);
  });

  it('routes every case and level of the shipped config somewhere without the fallback', () => {
    expect(defaultConfig().fallbackCount).toBe(0);
  });

  it('sends a case and level that no route matches to the fallback audience', () => {
    const config = configWith([
      '  - description: Standard-risk domestic abuse goes to triage\n    match: { rule: da-standard }\n    audiences: [triage-supervisor]\n',
      '',
    ]);
    const standard = key({ riskLevel: 'standard' });

    expect(config.audiencesFor(standard, 'breach')).toEqual(['district-supervisor']);
    expect(config.matchingRoutes(standard, 'breach')).toEqual([]);
    expect(config.fallbackCount).toBeGreaterThan(0);
  });
});

describe('a config written from an object', () => {
  it('compiles a minimal config with one catch-all rule and one route', () => {
    const text = stringify({
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
    });

    const config = parseConfig(text);

    expect(config.ruleFor(key())?.id).toBe('ceiling');
    expect(config.audiencesFor(key(), 'breach')).toEqual(['ops']);
    expect(config.file.sms.maxPerRun).toBe(20);
    expect(config.file.calendar.extraNonWorkingDays).toEqual([]);
  });
});
