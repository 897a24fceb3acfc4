// The deployment config as an engineer writes it: every problem reported at once with its key path,
// contacts masked in every message, and the coverage (who receives what) the synth warns about.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { maskContacts } from '#shared/config/contacts.ts';
import { DEFAULT_CONFIG_PATH } from '#shared/config/load.ts';
import { coverageOf } from '#shared/delivery/coverage.ts';
import {
  checkDeployment,
  checkForces,
  DeploymentConfigError,
  loadDeploymentFile,
  loadForcesFile,
} from '#shared/delivery/deploy-config.ts';
import { deploymentSchema, maskContact } from '#shared/delivery/subscriptions.ts';
import { digestGroups } from '#shared/digest/picture.ts';
import { fullCoverageDeployment, otherForceConfigText } from '#test/support/deployments.ts';
import { configWith, defaultConfig, REPO_ROOT, tempDir } from '#test/support/fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const config = defaultConfig();
const supervisor = (district: string, extra: Record<string, unknown> = {}) => ({
  protocol: 'email',
  endpoint: `supervisor-${district.toLowerCase()}@example.org`,
  audience: 'district-supervisor',
  district,
  ...extra,
});

/** The problems checkDeployment reports, as `path: message` lines. */
function problemsOf(raw: unknown): string[] {
  try {
    checkDeployment(raw, config, 'deploy.json');
  } catch (error) {
    if (error instanceof DeploymentConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('phone numbers and addresses', () => {
  const smsTo = (endpoint: string) =>
    problemsOf({
      stage: 'dev',
      subscribers: [{ protocol: 'sms', endpoint, audience: 'district-supervisor', district: 'D01' }],
    });
  const emailTo = (endpoint: string) =>
    problemsOf({
      stage: 'dev',
      subscribers: [{ protocol: 'email', endpoint, audience: 'district-supervisor', district: 'D01' }],
    });

  it('accepts E.164 numbers', () => {
    for (const n of ['+447700900123', '+12025550143', '+3531234567']) expect(smsTo(n), n).toEqual([]);
  });

  it('refuses numbers that are not E.164: national form, spaces, a leading 0, too short or too long', () => {
    for (const n of [
      '07700900123',
      '+44 7700 900123',
      '+0447700900123',
      '+44770',
      '+4477009001234567',
      '447700900123',
    ]) {
      expect(smsTo(n), n).toEqual([
        expect.stringMatching(/^subscribers\[0\]\.endpoint: .* is not an E\.164 phone number/),
      ]);
    }
  });

  it('accepts addresses and refuses what is not one', () => {
    expect(emailTo('d01-supervisors@example.org')).toEqual([]);
    for (const a of [
      'd01-supervisors.example.org',
      'd01@example',
      '@example.org',
      'd01 supervisors@example.org',
    ]) {
      expect(emailTo(a), a).toEqual([
        expect.stringMatching(/^subscribers\[0\]\.endpoint: .* is not an email address$/),
      ]);
    }
  });

  it('masks a contact so an error shows enough to find it and never the whole', () => {
    expect(maskContact('+447700900123')).toBe('+44…23');
    expect(maskContact('d01-supervisors@example.org')).toBe('d…@e….org');
    expect(maskContact('d01-supervisors.example.org')).toBe('d01…rg');
    expect(maskContact('0770')).toBe('…');
    expect(maskContact(447700900123)).toBe('a number');
  });

  it('masks a phone number in a message however its digits are grouped, and leaves references, dates and limits', () => {
    for (const phone of [
      '07700 900999',
      '07700-900-999',
      '+44-7700-900999',
      '(07700) 900999',
      '07700.900.999',
      '07700 900-999',
    ]) {
      expect(maskContacts(`unknown district '${phone}'`), phone).toMatch(
        /^unknown district '(\(07|077|\+44)…99'$/,
      );
    }
    const plain = 'case DA-001-0000140 from 2026-03-29 (2026-03-29T00:30:00Z): warn 1000h';
    expect(maskContacts(plain)).toBe(plain);
  });
});

describe('a deployment config with many problems', () => {
  const raw = {
    stage: 'prod',
    production: true,
    subscribers: [
      { protocol: 'sms', endpoint: '07700 900123', audience: 'district-supervisor', district: 'D01' },
      { protocol: 'sms', endpoint: '+447700900124', audience: 'district-supervisr', district: 'D01' },
      { protocol: 'email', endpoint: 'inspector.example.org', audience: 'duty-inspector' },
      {
        protocol: 'email',
        endpoint: 'dcs@example.org',
        audience: 'director-childrens-services',
        district: 'D01',
      },
      { protocol: 'fax', endpoint: '+447700900125', audience: 'triage-supervisor' },
      { protocol: 'sms', endpoint: '+447700900124', audience: 'triage-supervisor', levels: ['urgent'] },
      { protocol: 'email', endpoint: 'DCS@example.org', audience: 'senior-officer', district: 'D99' },
    ],
    opsEmails: [],
    colour: 'blue',
  };

  it('reports every problem at once, in file order, each with its key path', () => {
    expect(problemsOf(raw)).toEqual([
      expect.stringMatching(/^subscribers\[0\]\.endpoint: 077…23 is not an E\.164 phone number/),
      expect.stringMatching(/^subscribers\[1\]\.audience: unknown audience 'district-supervisr' \(known: /),
      expect.stringMatching(/^subscribers\[2\]\.endpoint: ins…rg is not an email address$/),
      expect.stringMatching(
        /^subscribers\[2\]\.district: audience 'duty-inspector' is per district: set district/,
      ),
      expect.stringMatching(
        /^subscribers\[3\]\.localAuthority: audience 'director-childrens-services' is per local authority: set localAuthority/,
      ),
      expect.stringMatching(/^subscribers\[3\]\.district: .* is per local authority .*: remove district$/),
      "subscribers[4].protocol: must be 'sms' or 'email'",
      expect.stringMatching(/^subscribers\[5\]\.levels\[0\]: /),
      expect.stringMatching(/^subscribers\[5\]\.endpoint: same sms endpoint as subscribers\[1\]: /),
      expect.stringMatching(/^subscribers\[6\]\.endpoint: same email endpoint as subscribers\[3\]: /),
      expect.stringMatching(/^subscribers\[6\]\.district: audience 'senior-officer' is force-wide/),
      expect.stringMatching(/^opsEmails: production needs at least one ops email/),
      "colour: unknown key 'colour'",
    ]);
  });

  it('never quotes a whole phone number or address', () => {
    const message = (() => {
      try {
        checkDeployment(raw, config, 'deploy.json');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(
      /^deploy\.json: invalid deployment config \(13 problems\):\n {2}subscribers\[0\]/,
    );
    for (const { endpoint } of raw.subscribers) {
      expect(message).not.toContain(endpoint);
      const digits = endpoint.replace(/\D/g, '');
      if (digits.length > 0) expect(message).not.toContain(digits.slice(-6));
    }
  });
});

describe('what production needs', () => {
  it('refuses production without ops emails or subscribers, and says why', () => {
    expect(problemsOf({ stage: 'prod', production: true })).toEqual([
      expect.stringMatching(/^subscribers: production needs subscribers: alerts would reach nobody$/),
      expect.stringMatching(/^opsEmails: production needs at least one ops email: the alarms .* go nowhere/),
    ]);
    // The schema alone says the same, for code that builds a deployment without the file.
    expect(deploymentSchema.safeParse({ stage: 'prod', production: true }).success).toBe(false);
  });

  it('lets a trial deployment go without subscribers or ops emails, warning loudly', () => {
    const { warnings } = checkDeployment({ stage: 'dev' }, config);
    expect(warnings.map((w) => w.id)).toEqual(['no-subscribers', 'no-ops-emails']);
    expect(warnings[0]?.message).toMatch(/^no subscribers: every alert goes to nobody/);
  });
});

describe('the SMS spend limit', () => {
  const phone = {
    protocol: 'sms',
    endpoint: '+447700900123',
    audience: 'district-supervisor',
    district: 'D01',
  };
  const ids = (raw: Record<string, unknown>) =>
    checkDeployment({ stage: 'dev', opsEmails: ['ops@example.org'], ...raw }, config).warnings.map(
      (w) => w.id,
    );

  it('is asked for when a subscriber takes SMS: at the limit SNS stops sending every SMS', () => {
    expect(ids({ subscribers: [phone] })).toContain('no-sms-spend-limit');
    expect(ids({ subscribers: [phone], smsSpendLimitUsd: 50 })).not.toContain('no-sms-spend-limit');
    expect(
      ids({ subscribers: [{ ...phone, protocol: 'email', endpoint: 'd01@example.org' }] }),
    ).not.toContain('no-sms-spend-limit');
  });

  it('is a positive number of dollars', () => {
    expect(problemsOf({ stage: 'dev', smsSpendLimitUsd: 0 })).toEqual([
      'smsSpendLimitUsd: must be the limit in US dollars, above 0',
    ]);
  });
});

describe('coverage', () => {
  it('counts phones and inboxes per audience and place, and the levels nobody receives', () => {
    const deployment = deploymentSchema.parse({
      stage: 'dev',
      subscribers: [
        supervisor('D01'),
        { protocol: 'sms', endpoint: '+447700900123', audience: 'district-supervisor', district: 'D01' },
        supervisor('D02', { levels: ['escalation'] }),
        {
          protocol: 'email',
          endpoint: 'inspector-d01@example.org',
          audience: 'duty-inspector',
          district: 'D01',
        },
      ],
    });
    const { rows, neverAlerted, signalsOnly, gaps } = coverageOf(deployment, config);
    const row = (audience: string, place: string) =>
      rows.find((r) => r.audience === audience && r.place === place);

    expect(row('district-supervisor', 'D01')).toEqual({
      audience: 'district-supervisor',
      scope: 'district',
      place: 'D01',
      placeName: 'Northgate',
      alertedAt: ['warning', 'breach', 'escalation'],
      phones: 1,
      inboxes: 1,
      nobodyAt: [],
    });
    expect(row('district-supervisor', 'D02')).toMatchObject({ inboxes: 1, nobodyAt: ['warning', 'breach'] });
    expect(row('district-supervisor', 'D03')).toMatchObject({ phones: 0, inboxes: 0 });
    // The inspector hears of cases only at escalation (the shipped routes), and of falling referrals
    // (a silence signal, sent at breach): its subscriber, taking every level, receives both.
    expect(row('duty-inspector', 'D01')).toMatchObject({ alertedAt: ['breach', 'escalation'], nobodyAt: [] });
    expect(row('senior-officer', 'force')).toMatchObject({
      placeName: 'Metro Example Police',
      nobodyAt: ['warning', 'breach', 'escalation'],
    });
    expect(row('la-out-of-hours', 'la-northgate')).toMatchObject({ alertedAt: ['escalation'] });
    // Ops hears of the flow and the feed stopping (signal routes), never of a case.
    expect(neverAlerted).toEqual([]);
    expect(signalsOnly).toEqual(['ops']);
    // Which no subscriber here receives: the flow and the feed stopping would reach nobody.
    expect(row('ops', 'force')).toMatchObject({ alertedAt: ['breach', 'escalation'], phones: 0, inboxes: 0 });
    expect(gaps.find((g) => g.audience === 'ops')?.message).toBe(
      'ops: nobody receives its silence signals at breach, escalation (force-wide)',
    );
    expect(gaps.find((g) => g.audience === 'district-supervisor')?.message).toBe(
      'district-supervisor: nobody receives warning, breach in D02; warning, breach, escalation in D03, D04, D05, D06, D07, D08, D09, D10',
    );
  });

  it('follows the routes: an audience routed only in some districts is expected only there', () => {
    const narrowed = configWith(
      [
        'match: { rule: la-decision }\n    audiences: [mash-manager]',
        'match: { rule: la-decision, district: [D01, D02] }\n    audiences: [mash-manager]',
      ],
      [
        'match: { rule: sh-va-high, category: vulnerable-adult, level: escalation }',
        'match: { rule: sh-va-high, category: vulnerable-adult, level: escalation, district: [D01, D02] }',
      ],
      // Its silence signal too (falling child referrals), or it would be expected everywhere.
      ['match: { signal: child-referrals }', 'match: { signal: child-referrals, district: [D01, D02] }'],
    );
    const { rows } = coverageOf(deploymentSchema.parse({ stage: 'dev' }), narrowed);
    expect(rows.filter((r) => r.audience === 'mash-manager').map((r) => r.place)).toEqual([
      'la-northgate',
      'la-eastmoor',
    ]);
  });

  it('warns about each audience with a gap, and about subscribers no route alerts (signal routes count)', () => {
    const withUnused = configWith([
      '  ops: { scope: force',
      '  unused: { scope: force, description: Nobody routes here }\n  ops: { scope: force',
    ]);
    const { warnings } = checkDeployment(
      {
        stage: 'dev',
        subscribers: [
          supervisor('D01'),
          { protocol: 'email', endpoint: 'ops@example.org', audience: 'ops' },
          { protocol: 'email', endpoint: 'unused@example.org', audience: 'unused' },
        ],
        opsEmails: ['duty@example.org'],
      },
      withUnused,
    );
    expect(warnings.map((w) => w.id)).toEqual([
      'uncovered-district-supervisor',
      'uncovered-duty-inspector',
      'uncovered-la-out-of-hours',
      'uncovered-director-childrens-services',
      'uncovered-mash-manager',
      'uncovered-marac-coordinator',
      'uncovered-triage-supervisor',
      'uncovered-senior-officer',
      'undelivered-digest-director-childrens-services',
      'undelivered-digest-senior-officer',
      'unrouted-subscriber-2',
    ]);
    expect(warnings.at(-1)?.message).toBe(
      "subscribers[2]: no route alerts audience 'unused', so this subscriber receives nothing",
    );
  });

  it('warns about a subscriber whose levels take none its audience is alerted at there, naming it', () => {
    const covered = fullCoverageDeployment(config.file) as { subscribers: unknown[] };
    const { warnings } = checkDeployment(
      {
        ...covered,
        smsSpendLimitUsd: 50,
        subscribers: [
          ...covered.subscribers,
          // Directors hear of escalations only; a phone and an inbox that take warnings alone.
          {
            protocol: 'sms',
            endpoint: '+447700900999',
            audience: 'director-childrens-services',
            localAuthority: 'la-northgate',
            levels: ['warning'],
          },
          {
            protocol: 'email',
            endpoint: 'dcs-warnings@example.org',
            audience: 'director-childrens-services',
            localAuthority: 'la-northgate',
            levels: ['warning', 'breach'],
          },
        ],
      },
      config,
    );
    const count = covered.subscribers.length;

    expect(warnings).toEqual([
      {
        id: `unheard-subscriber-${count}`,
        path: `subscribers[${count}]`,
        message: `subscribers[${count}]: levels warning, but audience 'director-childrens-services' is alerted there at escalation only, so this subscriber receives nothing`,
      },
      {
        id: `unheard-subscriber-${count + 1}`,
        path: `subscribers[${count + 1}]`,
        message: `subscribers[${count + 1}]: levels warning, breach, but audience 'director-childrens-services' is alerted there at escalation only, so this subscriber receives nothing but the daily digest`,
      },
    ]);
  });

  it('has nothing to warn about when every routed audience is received everywhere', () => {
    const { warnings, coverage } = checkDeployment(fullCoverageDeployment(config.file), config);
    expect(warnings).toEqual([]);
    expect(coverage.rows.every((r) => r.nobodyAt.length === 0)).toBe(true);
  });
});

describe('the daily digest', () => {
  type Entry = { protocol: string; audience: string; localAuthority?: string; levels?: string[] };
  const covered = fullCoverageDeployment(config.file) as { subscribers: Entry[] };
  /** Full coverage, with the senior officer and Northgate's director on a phone instead of an inbox,
   * and Eastmoor's director on an inbox that takes escalations only. */
  const phonesForTwo = {
    ...covered,
    smsSpendLimitUsd: 50,
    subscribers: covered.subscribers.map((s, i) => {
      const director = s.audience === 'director-childrens-services';
      if (s.audience === 'senior-officer' || (director && s.localAuthority === 'la-northgate'))
        return { ...s, protocol: 'sms', endpoint: `+4477009001${String(i).padStart(2, '0')}` };
      if (director && s.localAuthority === 'la-eastmoor') return { ...s, levels: ['escalation'] };
      return s;
    }),
  };

  it('warns about each digest audience with places no inbox receives it in: phones never do', () => {
    const { warnings, coverage } = checkDeployment(phonesForTwo, config);

    // The phones receive every alert their audience is sent: no gap but the digest's.
    expect(coverage.gaps).toEqual([]);
    expect(warnings).toEqual([
      {
        id: 'undelivered-digest-director-childrens-services',
        message:
          'daily digest for director-childrens-services: nobody receives it in la-northgate: it goes to email subscribers only, never to phones',
      },
      {
        id: 'undelivered-digest-senior-officer',
        message:
          'daily digest for senior-officer: nobody receives it (force-wide): it goes to email subscribers only, never to phones',
      },
    ]);
  });

  it('counts the inboxes of each digest as the digest groups its recipients, whatever their levels', () => {
    const { coverage } = checkDeployment(phonesForTwo, config);

    expect(coverage.digest.at).toBe('07:00');
    expect(coverage.digest.rows.map((r) => `${r.audience}@${r.place}`)).toEqual(
      digestGroups(config).map((g) => `${g.audience}@${g.place}`),
    );
    const inboxes = (audience: string, place: string) =>
      coverage.digest.rows.find((r) => r.audience === audience && r.place === place)?.inboxes;
    expect(inboxes('director-childrens-services', 'la-northgate')).toBe(0);
    // The digest carries every level, so an inbox taking escalations only receives it.
    expect(inboxes('director-childrens-services', 'la-eastmoor')).toBe(1);
    expect(inboxes('senior-officer', 'force')).toBe(0);
  });

  it('finds the digests of a district-scoped audience per district', () => {
    const perDistrict = configWith([
      'audiences: [director-childrens-services, senior-officer]',
      'audiences: [district-supervisor]',
    ]);
    const { coverage, warnings } = checkDeployment(
      { stage: 'dev', subscribers: [supervisor('D01'), supervisor('D02', { levels: ['warning'] })] },
      perDistrict,
    );

    expect(coverage.digest.rows.map((r) => `${r.audience}@${r.place}`)).toEqual(
      digestGroups(perDistrict).map((g) => `${g.audience}@${g.place}`),
    );
    expect(warnings.find((w) => w.id === 'undelivered-digest-district-supervisor')?.message).toBe(
      'daily digest for district-supervisor: nobody receives it in D03, D04, D05, D06, D07, D08, D09, D10: it goes to email subscribers only, never to phones',
    );
  });

  it('says nothing of the digest with no subscribers at all: the one warning says it', () => {
    const { warnings } = checkDeployment({ stage: 'dev', opsEmails: ['ops@example.org'] }, config);
    expect(warnings.map((w) => w.id)).toEqual(['no-subscribers']);
  });
});

describe('the morning signals run and the daily digest', () => {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const covered = { ...fullCoverageDeployment(config.file), smsSpendLimitUsd: 50 };
  const late = (raw: Record<string, unknown>, admin = config) =>
    checkDeployment({ ...covered, ...raw }, admin, 'deploy.json', 'queuewatch.yaml').warnings.filter(
      (w) => w.id === 'signals-after-digest',
    );

  it('ship a signals run a whole digest cycle (15 minutes) before the digest, after the day it judges ends', () => {
    const { signalsAt } = deploymentSchema.parse({ stage: 'dev' });
    expect(minutes(signalsAt)).toBeGreaterThan(0);
    expect(minutes(signalsAt) + 15).toBeLessThanOrEqual(minutes(config.file.digest.at));
    expect(late({})).toEqual([]);
  });

  it('warn when signalsAt is less than 15 minutes before digest.at, naming both keys and files', () => {
    expect(late({ signalsAt: '07:00' })).toEqual([
      {
        id: 'signals-after-digest',
        path: 'signalsAt',
        message:
          'signalsAt 07:00 in deploy.json is not at least 15 minutes before digest.at 07:00 in queuewatch.yaml: the daily digest reads the signals once, when it goes out, so what the morning signals run judges would reach it a day late (a fall shown the next day, a cleared signal still shown as raised); set signalsAt to 06:45 or earlier, or digest.at later',
      },
    ]);
    expect(late({ signalsAt: '06:45' })).toEqual([]);
    expect(late({ signalsAt: '06:46' })).toHaveLength(1);
  });

  it('refuse a morning run in the hour London skips when the clocks go forward (the schedule would skip it)', () => {
    const check = (signalsAt: string) => () =>
      checkDeployment({ ...covered, signalsAt }, config, 'deploy.json', 'queuewatch.yaml');

    expect(check('01:30')).toThrow(
      /signalsAt: must not be between 01:00 and 01:59: that hour does not exist in London on the day the clocks go forward/,
    );
    expect(check('01:00')).toThrow(DeploymentConfigError);
    expect(check('00:59')).not.toThrow();
    expect(check('02:00')).not.toThrow();
  });

  it('warn when the signals run after the digest, or before midnight: it shows the morning before', () => {
    expect(late({ signalsAt: '08:00' })).toHaveLength(1);
    expect(late({ signalsAt: '23:50' })).toHaveLength(1);
    expect(late({ signalsAt: '00:00' })).toEqual([]);
  });

  it('warn when an admin moves digest.at onto the default signals run', () => {
    const earlier = configWith(['at: "07:00"', 'at: "06:30"']);
    expect(late({}, earlier).map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^signalsAt 06:30 \(the default\) in deploy\.json is not at least 15 minutes before digest\.at 06:30 in queuewatch\.yaml: .*; set signalsAt to 06:15 or earlier, or digest\.at later$/,
      ),
    ]);
    const midnight = configWith(['at: "07:00"', 'at: "00:10"']);
    expect(late({}, midnight).map((w) => w.message)).toEqual([
      expect.stringMatching(
        /; set digest\.at to 00:15 or later and signalsAt between midnight and 15 minutes before it$/,
      ),
    ]);
  });

  it('say nothing when no digest is sent', () => {
    const noDigest = configWith([
      'audiences: [director-childrens-services, senior-officer]',
      'audiences: []',
    ]);
    expect(late({ signalsAt: '07:00' }, noDigest)).toEqual([]);
  });

  it("name the deployment config and the force's admin config files, and the line of signalsAt", () => {
    const text = JSON.stringify({ ...covered, signalsAt: '07:30' }, null, 2);
    const path = tmp.file('late-signals.json', text);
    const [force] = loadForcesFile(path);
    const line = text.split('\n').findIndex((l) => l.includes('"signalsAt"')) + 1;
    expect(force?.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^signalsAt 07:30 in ${path} is not at least 15 minutes before digest\\.at 07:00 in ${DEFAULT_CONFIG_PATH}: .* \\(line ${line}\\)$`,
        ),
      ),
    ]);
  });
});

describe('the file', () => {
  it('names a missing file, and a malformed one by line and column without quoting it', () => {
    expect(() => loadDeploymentFile(`${tmp.dir}/nope.json`, config)).toThrow(/nope\.json: no such file$/);
    const path = tmp.file(
      'broken.json',
      '{\n  "stage": "dev",\n  "opsEmails": ["duty@example.org" "x"]\n}\n',
    );
    let message = '';
    try {
      loadDeploymentFile(path, config);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/broken\.json: not valid JSON \(line 3, column \d+\)$/);
    expect(message).not.toContain('duty@');
  });

  /** The problems of a file, as `path: message` lines, through the loader the CLI and CDK use. */
  const fileProblems = (name: string, text: string): string[] => {
    try {
      loadForcesFile(tmp.file(name, text));
    } catch (error) {
      if (error instanceof DeploymentConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };

  it('places each problem on its line, in the order of the file, a key left out by its entry', () => {
    const text = JSON.stringify(
      {
        stage: 'dev',
        subscribers: [
          supervisor('D01'),
          { protocol: 'email', endpoint: 'inspector@example.org', audience: 'duty-inspector' },
          supervisor('D99'),
        ],
        opsEmails: ['ops@example.org', 'OPS@example.org'],
      },
      null,
      2,
    );
    const lines = text.split('\n');
    const lineOf = (fragment: string, from = 0) =>
      lines.findIndex((l, i) => i >= from && l.includes(fragment)) + 1;
    const secondEntry = lineOf('{', lineOf('"district": "D01"'));
    expect(fileProblems('placed.json', text)).toEqual([
      `subscribers[1].district: audience 'duty-inspector' is per district: set district (one of D01, D02, D03, D04, D05, D06, D07, D08, D09, D10) (line ${secondEntry})`,
      `subscribers[2].district: unknown district 'D99' (known: D01, D02, D03, D04, D05, D06, D07, D08, D09, D10) (line ${lineOf('"D99"')})`,
      `opsEmails[1]: same address as opsEmails[0] (line ${lineOf('"OPS@example.org"')})`,
    ]);
  });

  it('refuses a key given twice in one entry, which JSON.parse would keep the last of', () => {
    const text = [
      '{',
      '  "stage": "dev",',
      '  "subscribers": [',
      '    { "protocol": "email", "endpoint": "a@example.org", "audience": "district-supervisor",',
      '      "district": "D01", "levels": ["breach", "escalation"], "levels": ["warning"] }',
      '  ],',
      '  "opsEmails": ["ops@example.org"]',
      '}',
    ].join('\n');
    expect(fileProblems('twice.json', text)).toEqual([
      'subscribers[0].levels: the key levels is given more than once (only one value can count) (line 5)',
    ]);
    // The same file without the repeat passes.
    expect(fileProblems('once.json', text.replace(', "levels": ["warning"]', ''))).toEqual([]);
  });

  it('masks a phone number or address written where a key goes, in the path and the message', () => {
    const text = [
      '{',
      '  "stage": "dev",',
      '  "+447700900123": 1,',
      '  "+447700900123": 2,',
      '  "subscribers": [{ "duty@example.org": "x", "protocol": "email", "endpoint": "a@example.org",',
      '    "audience": "district-supervisor", "district": "D01" }]',
      '}',
    ].join('\n');

    const problems = fileProblems('contact-keys.json', text);

    expect(problems.join('\n')).not.toMatch(/447700900123|duty@example\.org/);
    expect(problems).toContain(
      '+44…23: the key +44…23 is given more than once (only one value can count) (line 4)',
    );
    expect(problems).toContain("subscribers[0].d…@e….org: unknown key 'd…@e….org' (line 5)");
  });

  it('reads a file saved with a byte-order mark', () => {
    const text = `\uFEFF${JSON.stringify({ stage: 'dev', subscribers: [supervisor('D99')] }, null, 2)}`;
    expect(fileProblems('bom.json', text)).toEqual([
      "subscribers[0].district: unknown district 'D99' (known: D01, D02, D03, D04, D05, D06, D07, D08, D09, D10) (line 8)",
    ]);
  });

  it('gives no line in a file written on one line, and keeps the check order there', () => {
    expect(
      fileProblems('one-line.json', JSON.stringify({ stage: 'dev', subscribers: [supervisor('D99')] })),
    ).toEqual([
      "subscribers[0].district: unknown district 'D99' (known: D01, D02, D03, D04, D05, D06, D07, D08, D09, D10)",
    ]);
  });

  it("adds the subscriber's line to a warning about it, in each force of a list", () => {
    const deaf = { ...supervisor('D02'), audience: 'duty-inspector', levels: ['warning'] };
    const force = (stage: string) => ({
      stage,
      subscribers: [supervisor('D01'), deaf],
      opsEmails: [`ops-${stage}@example.org`],
    });
    const text = JSON.stringify({ forces: [force('one'), force('two')] }, null, 2);
    const lines = text.split('\n');
    const deafLines = lines.flatMap((l, i) => (l.includes('"duty-inspector"') ? [i + 1] : []));
    const entryLine = (audienceLine: number) =>
      lines.slice(0, audienceLine).findLastIndex((l) => l.trim() === '{') + 1;
    const checks = loadForcesFile(tmp.file('forces-warned.json', text));
    const unheard = checks.map((c) => c.warnings.find((w) => w.id === 'unheard-subscriber-1')?.message);
    expect(unheard).toEqual(
      deafLines.map((l) => expect.stringMatching(new RegExp(`receives nothing \\(line ${entryLine(l)}\\)$`))),
    );
    expect(new Set(unheard).size).toBe(2);
  });

  it('checks the committed example against the shipped config', () => {
    const example = JSON.parse(readFileSync(`${REPO_ROOT}/deploy.config.example.json`, 'utf8'));
    expect(() => checkDeployment(example, config)).not.toThrow();
  });
});

describe('a file of several forces', () => {
  const south = tmp.file('south.yaml', otherForceConfigText());
  const force = (stage: string, extra: Record<string, unknown> = {}) => ({
    stage,
    subscribers: [supervisor('D01')],
    opsEmails: [`ops-${stage}@example.org`],
    ...extra,
  });
  const forcesFrom = (raw: unknown, options: { only?: string } = {}) =>
    checkForces(raw, { source: 'forces.json', baseDir: tmp.dir, ...options });
  /** The problems checkForces reports, as `path: message` lines. */
  const forceProblems = (raw: unknown, options: { only?: string } = {}): string[] => {
    try {
      forcesFrom(raw, options);
    } catch (error) {
      if (error instanceof DeploymentConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };

  it('checks each force against its own admin config, read relative to the file', () => {
    const forces = forcesFrom({
      forces: [
        force('north'),
        force('south', { adminConfig: 'south.yaml', subscribers: [supervisor('S01')] }),
      ],
    });

    expect(forces.map((f) => [f.where, f.deployment.stage, f.adminConfigPath])).toEqual([
      ['forces[0]', 'north', DEFAULT_CONFIG_PATH],
      ['forces[1]', 'south', south],
    ]);
    expect(forces[1]?.adminConfig.file.force).toBe('Shire Example Police');
    expect(
      forceProblems({
        forces: [
          force('north', { subscribers: [supervisor('S01')] }),
          force('south', { adminConfig: 'south.yaml' }),
        ],
      }),
    ).toEqual([
      expect.stringMatching(
        /^forces\[0\]\.subscribers\[0\]\.district: unknown district 'S01' \(known: D01, /,
      ),
      expect.stringMatching(
        /^forces\[1\]\.subscribers\[0\]\.district: unknown district 'D01' \(known: S01, /,
      ),
    ]);
  });

  it("reports every force's problems at once, each under its place in the list", () => {
    const problems = forceProblems({
      forces: [
        force('north', { opsEmails: ['not-an-address'] }),
        force('south', { production: true, subscribers: [], account: '12345' }),
      ],
    });

    expect(problems).toEqual([
      'forces[0].opsEmails[0]: not…ss is not an email address',
      'forces[1].account: must be a 12-digit AWS account id',
      'forces[1].subscribers: production needs subscribers: alerts would reach nobody',
    ]);
  });

  it('refuses two forces with one stage, or a stage that is another plus a dash', () => {
    expect(forceProblems({ forces: [force('north'), force('north')] })).toEqual([
      'forces[1].stage: same stage as forces[0]: each force needs its own (it names every resource of the force)',
    ]);
    // queuewatch-north-* (a key policy's pattern, `cdk deploy 'queuewatch-north-*'`) would take in
    // queuewatch-north-east-*.
    expect(forceProblems({ forces: [force('north-east'), force('north')] })).toEqual([
      "forces[1].stage: 'north-east' is 'north' plus a dash (with forces[0]), so whatever names all of queuewatch-north-* (a key policy, a cdk deploy selector) would take in the other force too: rename one",
    ]);
    expect(forceProblems({ forces: [force('north'), force('northeast')] })).toEqual([]);
  });

  it('holds only the list, and at least one force', () => {
    expect(forceProblems({ forces: [force('north')], opsEmails: ['ops@example.org'] })).toEqual([
      'opsEmails: a file with "forces" holds only the list: put opsEmails in each force it is for',
    ]);
    expect(forceProblems({ forces: [] })).toEqual(['forces: must be a list of one or more forces']);
    expect(forceProblems({ forces: [force('north'), 'south'] })).toEqual([
      'forces[1]: must be a JSON object',
    ]);
  });

  it("names a force's admin config that cannot be used, beside the force's other problems", () => {
    tmp.file('broken.yaml', 'version: 1\n');
    const problems = forceProblems({
      forces: [
        force('north', { adminConfig: 'missing.yaml' }),
        force('south', { adminConfig: 'broken.yaml' }),
      ],
    });

    expect(problems[0]).toMatch(
      /^forces\[0\]\.adminConfig: missing\.yaml: cannot read config .*missing\.yaml: no such file$/,
    );
    expect(problems.slice(1).every((p) => p.startsWith('forces[1].adminConfig: broken.yaml: '))).toBe(true);
    expect(problems.length).toBeGreaterThan(2);
  });

  it('checks one force alone when asked, reading only the stages of the others', () => {
    const raw = { forces: [force('north', { subscribers: [{ protocol: 'pigeon' }] }), force('south')] };
    expect(forcesFrom(raw, { only: 'south' }).map((f) => f.deployment.stage)).toEqual(['south']);
    expect(forceProblems(raw, { only: 'east' })).toEqual([
      ": no force 'east' here (its forces: north, south)",
    ]);
  });

  it('reads a file that is one force as before: its problems have no prefix', () => {
    expect(forcesFrom(force('dev')).map((f) => [f.where, f.deployment.stage])).toEqual([['', 'dev']]);
    expect(forceProblems({ stage: 'dev', scheduleMinutes: 0 })).toEqual([
      expect.stringMatching(/^scheduleMinutes: /),
    ]);
    expect(forceProblems(force('dev'), { only: 'prod' })).toEqual([
      ": no force 'prod' here (its forces: dev)",
    ]);
  });
});
