// `queuewatch subscribers check` as an engineer runs it before a deploy: a real process per case,
// checking the coverage table, the warnings, the exit status and that no contact is ever printed.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fullCoverageDeployment, otherForceConfigText } from '#test/support/deployments.ts';
import { type CliResult, defaultConfig, REPO_ROOT, runCli, tempDir } from '#test/support/fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const PARTIAL = {
  stage: 'dev',
  subscribers: [
    { protocol: 'sms', endpoint: '+447700900123', audience: 'district-supervisor', district: 'D01' },
    {
      protocol: 'email',
      endpoint: 'd01-supervisors@example.org',
      audience: 'district-supervisor',
      district: 'D01',
    },
    {
      protocol: 'email',
      endpoint: 'd02-supervisors@example.org',
      audience: 'district-supervisor',
      district: 'D02',
      levels: ['escalation'],
    },
  ],
  opsEmails: ['duty@example.org'],
};
const CONTACTS = ['+447700900123', '7700900123', 'd01-supervisors@', 'd02-supervisors@', 'duty@example.org'];

let files = 0;
const check = (config: unknown, ...extra: string[]) => {
  files += 1;
  const path = tmp.file(`deploy-${files}.json`, JSON.stringify(config));
  return runCli(['subscribers', 'check', '--deploy-config', path, ...extra]);
};

const expectNoContacts = (result: CliResult) => {
  for (const contact of CONTACTS) expect(`${result.stdout}${result.stderr}`).not.toContain(contact);
};

describe.concurrent('queuewatch subscribers check', { timeout: 60_000 }, () => {
  it('prints phones and inboxes per audience and place, what nobody receives, and exits 0', async () => {
    const result = await check(PARTIAL);

    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      /deploy-\d+\.json against .*config\/queuewatch\.yaml: OK; 3 subscribers \(1 phone, 2 inboxes\), 1 ops email$/,
    );
    expect(lines[2]).toMatch(/^audience +place +phones +inboxes +alerted at +nobody receives$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^district-supervisor +D01 Northgate +1 +1 +warning, breach, escalation +-$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^district-supervisor +D02 Eastmoor +0 +1 +warning, breach, escalation +warning, breach$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^director-childrens-services +la-riverside Riverside City Council +0 +0 /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^senior-officer +force \(Metro Example Police\) +0 +0 /),
    );
    expect(lines).toContain(
      'hear of silence signals only, no case alert (see `queuewatch signals show`): ops',
    );
    expect(lines).not.toContainEqual(expect.stringMatching(/^not alerted by any route/));
    // The digest goes to inboxes only: PARTIAL has none for its audiences.
    expect(lines).toContain(
      'daily digest at 07:00 London time (inboxes only): director-childrens-services, inboxes in 0 of 10 places; senior-officer, no inbox (force-wide)',
    );
    expect(lines).toContain(
      '  daily digest for senior-officer: nobody receives it (force-wide): it goes to email subscribers only, never to phones',
    );
    expect(lines).toContain(
      '  district-supervisor: nobody receives warning, breach in D02; warning, breach, escalation in D03, D04, D05, D06, D07, D08, D09, D10',
    );
    expect(result.stderr).toBe('');
    expectNoContacts(result);
  });

  it('exits 1 with every problem listed on stderr, contacts masked, without a stack trace', async () => {
    const result = await check({
      stage: 'prod',
      production: true,
      subscribers: [
        { protocol: 'sms', endpoint: '07700900123', audience: 'district-supervisor', district: 'D01' },
        {
          protocol: 'email',
          endpoint: 'd01-supervisors@example',
          audience: 'duty-inspectr',
          district: 'D01',
        },
      ],
    });

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^queuewatch: .*deploy-\d+\.json: invalid deployment config \(4 problems\):$/),
      expect.stringMatching(/^ {2}subscribers\[0\]\.endpoint: 077…23 is not an E\.164 phone number/),
      '  subscribers[1].endpoint: d…@… is not an email address',
      expect.stringMatching(/^ {2}subscribers\[1\]\.audience: unknown audience 'duty-inspectr'/),
      expect.stringMatching(/^ {2}opsEmails: production needs at least one ops email/),
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at |Error:|node_modules/);
    expectNoContacts(result);
  });

  it('with --strict, exits 1 when a place goes unreceived and 0 when everything is covered', async () => {
    const partial = await check(PARTIAL, '--strict');
    const covered = await check(fullCoverageDeployment(defaultConfig().file), '--strict');

    expect(partial.status).toBe(1);
    expect(partial.stdout).toMatch(/\nwarnings \(12\):\n/);
    expect(partial.stdout).toContain(
      "  no smsSpendLimitUsd: nothing warns before the account's SMS spend limit",
    );
    expect(partial.stdout).toContain(
      '  ops: nobody receives its silence signals at breach, escalation (force-wide)\n',
    );
    expect(covered.status).toBe(0);
    expect(covered.stdout).toMatch(/\nevery audience is received wherever the config alerts it\n$/);
  });

  it('with --strict, exits 1 when a digest audience has only phones: the digest goes to inboxes only', async () => {
    // Every audience received everywhere, but Northgate's director and the senior officer by phone.
    const covered = fullCoverageDeployment(defaultConfig().file) as {
      subscribers: Array<{ audience: string; localAuthority?: string }>;
    };
    const phones = {
      ...covered,
      smsSpendLimitUsd: 50,
      subscribers: covered.subscribers.map((s, i) =>
        s.audience === 'senior-officer' ||
        (s.audience === 'director-childrens-services' && s.localAuthority === 'la-northgate')
          ? { ...s, protocol: 'sms', endpoint: `+4477009002${String(i).padStart(2, '0')}` }
          : s,
      ),
    };
    const [plain, strict] = await Promise.all([check(phones), check(phones, '--strict')]);

    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(
      /^director-childrens-services +la-northgate Northgate City Council +1 +0 +escalation +-$/m,
    );
    expect(plain.stdout).toContain(
      'daily digest at 07:00 London time (inboxes only): director-childrens-services, inboxes in 9 of 10 places; senior-officer, no inbox (force-wide)',
    );
    expect(plain.stdout).toContain(
      [
        'warnings (2):',
        '  daily digest for director-childrens-services: nobody receives it in la-northgate: it goes to email subscribers only, never to phones',
        '  daily digest for senior-officer: nobody receives it (force-wide): it goes to email subscribers only, never to phones',
      ].join('\n'),
    );
    expect(strict.status).toBe(1);
  });

  it('checks each force of a file of several against its own admin config, or one with --force', async () => {
    tmp.file('other-force.yaml', otherForceConfigText());
    const forces = {
      forces: [
        PARTIAL,
        {
          stage: 'south',
          adminConfig: 'other-force.yaml',
          subscribers: [
            { protocol: 'sms', endpoint: '+447700900123', audience: 'district-supervisor', district: 'S01' },
          ],
        },
      ],
    };
    const [every, south, json] = await Promise.all([
      check(forces),
      check(forces, '--force', 'south'),
      check(forces, '--json', '--strict'),
    ]);

    expect(every.status).toBe(0);
    const headings = every.stdout.split('\n').filter((l) => / against .*: OK; /.test(l));
    expect(headings).toEqual([
      expect.stringMatching(
        /deploy-\d+\.json forces\[0\] \(dev\) against .*config\/queuewatch\.yaml: OK; 3 subscribers/,
      ),
      expect.stringMatching(
        /deploy-\d+\.json forces\[1\] \(south\) against .*other-force\.yaml: OK; 1 subscriber \(1 phone/,
      ),
    ]);
    expect(every.stdout).toMatch(/^district-supervisor +S01 Northgate +1 +0 /m);
    expect(south.stdout).not.toMatch(/\(dev\)/);
    expect(south.stdout).toMatch(/forces\[1\] \(south\) against /);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).forces.map((f: { stage: string }) => f.stage)).toEqual(['dev', 'south']);
    for (const result of [every, south, json]) expectNoContacts(result);
  });

  it('warns that an unchanged copy of the example has fictional contacts (the synth refuses it); the example itself previews as is', async () => {
    const copy = tmp.file('copied.json', readFileSync(join(REPO_ROOT, 'deploy.config.example.json'), 'utf8'));
    const [copied, example] = await Promise.all([
      runCli(['subscribers', 'check', '--deploy-config', copy]),
      runCli(['subscribers', 'check', '--deploy-config', 'deploy.config.example.json']),
    ]);

    expect([copied.status, example.status]).toEqual([0, 0]);
    expect(copied.stderr).toContain(
      `queuewatch: WARNING: ${copy} is an unchanged copy of deploy.config.example.json: its contacts are fictional, and the synth refuses it`,
    );
    expect(example.stderr).not.toContain('unchanged copy');
  });

  it('names a deployment config that cannot be read, or a force it does not have: usage errors, exit 2', async () => {
    const [missing, directory, noForce] = await Promise.all([
      runCli(['subscribers', 'check', '--deploy-config', `${tmp.dir}/missing.json`]),
      runCli(['subscribers', 'check', '--deploy-config', tmp.dir]),
      check({ forces: [PARTIAL] }, '--force', 'nowhere'),
    ]);

    expect([missing.status, directory.status, noForce.status]).toEqual([2, 2, 2]);
    expect(missing.stderr).toBe(`queuewatch: ${tmp.dir}/missing.json: no such file\n`);
    expect(directory.stderr).toBe(`queuewatch: ${tmp.dir}: not a file\n`);
    expect(noForce.stderr).toMatch(/: no force 'nowhere' here \(its forces: dev\)\n$/);
  });
});
