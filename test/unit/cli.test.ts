// The `queuewatch` command as admins run it: a real process per command (the bundle the test setup
// builds), run concurrently, checking exit statuses, output, and that errors are one line without
// a stack trace.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRecords } from '#shared/app/evaluate.ts';
import { formatRecords } from '#shared/cli/generate-command.ts';
import { packageVersion } from '#shared/cli/main.ts';
import { EXIT_STATUS_HELP } from '#shared/cli/output.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import {
  at,
  type CliResult,
  configTextWith,
  defaultConfig,
  PII_MARKERS,
  piiMarkerIn,
  REPO_ROOT,
  runCli,
  tempDir,
} from '#test/support/fixtures.ts';

const AT = '2026-11-27T09:00:00Z';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const expectNoStackTrace = (result: CliResult) => {
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at |Error:|node_modules/);
};

/** A generated queue, started once and shared by the tests that read it. */
const GENERATE = `generate --open 400 --closed 40 --seed 5 --at ${AT} --with-source-fields`.split(' ');
let generated: Promise<{ result: CliResult; path: string }> | undefined;
function generatedQueue() {
  generated ??= runCli(GENERATE).then((result) => ({ result, path: tmp.file('queue.jsonl', result.stdout) }));
  return generated;
}

describe.concurrent('queuewatch', { timeout: 60_000 }, () => {
  it('generate writes the queue its seed determines, with the synthetic source fields', async () => {
    const { result } = await generatedQueue();
    const sameSeed = generateQueue({
      open: 400,
      closed: 40,
      seed: 5,
      nowMs: at(AT),
      districts: Object.keys(defaultConfig().file.districts),
      withSourceFields: true,
    });

    expect(result.status).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(440);
    expect(result.stdout).toBe([...formatRecords(sameSeed, 'jsonl')].join(''));
    for (const marker of PII_MARKERS) expect(result.stdout).toContain(marker);
  });

  it('evaluate --json prints one JSON document, as the use case gives, with no personal data', async () => {
    const { path } = await generatedQueue();

    const result = await runCli(['evaluate', '--cases', path, '--at', AT, '--json']);

    const records: RawRecord[] = [];
    for await (const record of readCaseFile(path)) records.push(record);
    const expected = await evaluateRecords(records, defaultConfig(), at(AT));
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(report.cases).toMatchObject({ total: 440, invalid: 0 });
    expect(report.messages.length).toBeGreaterThan(0);
    expect(Object.keys(report.messages[0])).toEqual(
      expect.arrayContaining(['groups', 'audience', 'place', 'levels', 'caseRefs', 'email', 'sms']),
    );
    expect(piiMarkerIn(result.stdout + result.stderr)).toBeUndefined();
  });

  it('evaluate prints a readable summary with the messages and no personal data', async () => {
    const { path } = await generatedQueue();

    const result = await runCli(['evaluate', '--cases', path, '--at', AT, '--full']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^as of 2026-11-27T09:00:00.000Z: 440 records, 400 open, 40 closed or acknowledged, 0 invalid\n/,
    );
    expect(result.stdout).toMatch(/\n\d+ messages would be sent \(\d+ by SMS\)\n/);
    expect(result.stdout).toContain('-- SMS --');
    expect(piiMarkerIn(result.stdout + result.stderr)).toBeUndefined();
  });

  it('evaluate says what config check would warn of, on stderr, and previews all the same', async () => {
    const { path } = await generatedQueue();
    const noisy = tmp.file(
      'noisy.yaml',
      configTextWith([
        'repeat: { warning: never, breach: never, escalation: never }',
        'repeat: { warning: never, breach: never, escalation: 5m }',
      ]),
    );

    const result = await runCli(['evaluate', '--cases', path, '--at', AT, '-c', noisy]);

    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /^queuewatch: warning: audience 'director-childrens-services' is reminded by SMS every 5m at escalation/,
    );
    expect(result.stdout).toMatch(/^as of 2026-11-27T09:00:00.000Z: 440 records/);
  });

  it('evaluate exits non-zero with one line when the case file is missing', async () => {
    const result = await runCli(['evaluate', '--cases', `${tmp.dir}/missing.jsonl`, '--at', AT]);

    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`queuewatch: cannot read ${tmp.dir}/missing.jsonl: no such file\n`);
  });

  it('config check summarises the shipped config', async () => {
    const result = await runCli(['config', 'check']);

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/config\/queuewatch.yaml: OK\n/);
    expect(result.stdout).toContain('rules (13, most specific match wins):');
    expect(result.stdout).toMatch(/ {2}la-decision +warn 4h +breach 1wd +escalate 2wd +stage=referred/);
    expect(result.stdout).toContain('routes (11, every match adds its audiences):');
    expect(result.stdout).not.toContain('warning:');
  });

  it('config check exits non-zero with one line per issue, naming key path and line, without a stack trace', async () => {
    const path = tmp.file(
      'bad.yaml',
      configTextWith(
        ['warn: 4h\n    breach: 24h\n    escalate: 36h', 'warn: 30h\n    breach: 24h\n    escalate: 36h'],
        ['audiences: [mash-manager]', 'audiences: [mash-managr]'],
      ),
    );

    const result = await runCli(['config', 'check', path]);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'queuewatch: invalid config:',
      expect.stringMatching(
        /^ {2}rules\[1\] \(child-high\)\.warn: thresholds out of order: warn 30h is later than breach 24h \(.*bad.yaml line \d+\)$/,
      ),
      expect.stringMatching(
        /^ {2}routes\[4\]\.audiences: unknown audience 'mash-managr' .*\(.*bad.yaml line \d+\)$/,
      ),
    ]);
    expectNoStackTrace(result);
  });

  it('routes test shows the rule, the audiences of a case at each level, and when each hears again', async () => {
    const result = await runCli([
      'routes',
      'test',
      'category=child-protection',
      'riskLevel=high',
      'stage=awaiting-referral',
      'childrenInvolved=true',
      'district=D03',
    ]);

    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'case: category=child-protection riskLevel=high stage=awaiting-referral childrenInvolved=true district=D03 (local authority la-southwick)',
      'rule: child-high (warn 4h, breach 24h, escalate 36h)',
      '  warning    -> district-supervisor  (routes 0)',
      '  breach     -> district-supervisor  (routes 0)',
      '  escalation -> district-supervisor, director-childrens-services  (routes 0, 8, 9)',
      'and the absolute ceiling, for every open case: ceiling (warn 14d, breach 30d, escalate 30d)',
      '  warning    -> senior-officer  (routes 6)',
      '  breach     -> senior-officer  (routes 6)',
      '  escalation -> senior-officer, director-childrens-services  (routes 6, 7, 8)',
      'when each audience hears (reminders are for cases nobody has acknowledged; London time):',
      '  district-supervisor at D03 Southwick',
      '    warning:    sent once, no reminders (SMS and email)',
      '    breach:     reminded every 8h (SMS and email)',
      '    escalation: reminded every 4h (SMS and email)',
      '    quiet hours: none (day and night alike)',
      '  director-childrens-services at Southwick Metropolitan Borough',
      '    escalation: sent once, no reminders (SMS and email)',
      '    quiet hours: none (day and night alike)',
      '  senior-officer at Metro Example Police',
      '    warning:    sent once, no reminders (email only)',
      '    breach:     sent once, no reminders (email only)',
      '    escalation: sent once, no reminders (SMS and email)',
      '    quiet hours: none (day and night alike)',
      "acknowledging a message pauses its cases' reminders to that audience and place for 24h at warning, 8h at breach, 4h at escalation; a case reaching a new level is still sent at once",
      '',
    ]);
  });

  it('routes test shows what quiet hours hold back and what still goes at once', async () => {
    const result = await runCli([
      'routes',
      'test',
      'category=domestic-abuse',
      'riskLevel=high',
      'district=D01',
    ]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      [
        '  marac-coordinator at Northgate City Council',
        '    warning:    sent once, no reminders (email only)',
        '    breach:     reminded every 24h (SMS and email)',
        '    escalation: reminded every 8h (SMS and email)',
        '    quiet hours 20:00 to 08:00: reminders (breach, escalation) and new warnings wait until 08:00; a new breach or escalation still goes at once',
        '  duty-inspector at D01 Northgate',
        '    escalation: reminded every 4h (SMS and email)',
        '    quiet hours 23:00 to 07:00: reminders (escalation) wait until 07:00; a new escalation still goes at once',
      ].join('\n'),
    );
  });
});

/** Runs a shell pipeline from the repository root; resolves with the status of its last command
 * and its stderr (stdout is the reader's, e.g. `head`). */
function pipeline(command: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `set -o pipefail; ${command}`],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, QUEUEWATCH_DEBUG: '' } },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** No AWS credentials anywhere the SDK looks, and no instance metadata to ask. */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_SHARED_CREDENTIALS_FILE: `${tmp.dir}/no-credentials`,
  AWS_CONFIG_FILE: `${tmp.dir}/no-config`,
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe.concurrent('queuewatch exit statuses and output', { timeout: 120_000 }, () => {
  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);

    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${packageVersion()}\n`);
  });

  it('--help lists every command and the exit-status table, and so does each command’s help', async () => {
    const [top, sub] = await Promise.all([runCli(['--help']), runCli(['audit', '--help'])]);

    expect(top.status).toBe(0);
    for (const command of [
      'config',
      'routes',
      'evaluate',
      'generate',
      'import',
      'local',
      'audit',
      'status',
    ]) {
      expect(top.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    expect(top.stdout).toContain(EXIT_STATUS_HELP);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain(EXIT_STATUS_HELP);
  });

  it.each([
    ['an unknown command', ['nope'], /^error: unknown command 'nope'\n/],
    ['an unknown option', ['generate', '--opne', '3'], /^error: unknown option '--opne'/],
    ['a missing required option', ['evaluate'], /^error: required option '--cases <file>' not specified\n/],
    [
      'a bad option value',
      ['generate', '--open', 'many'],
      /^error: option '--open <n>' argument 'many' is invalid/,
    ],
    ['a command group without its command', ['config'], /^Usage: queuewatch config /],
    ['a bad instant', ['local', '--start', 'Monday'], /is not an ISO 8601 instant with an offset/],
    [
      'a day the calendar does not have',
      ['evaluate', '--cases', 'x.jsonl', '--at', '2026-02-30T00:00:00Z'],
      /'2026-02-30T00:00:00Z' is not an ISO 8601 instant with an offset/,
    ],
    ['an hour past 23', ['generate', '--at', '2026-11-30T24:00:00Z'], /is not an ISO 8601 instant/],
    [
      'a queue as of a time whose cases the tool refuses',
      ['generate', '--open', '3', '--at', '2017-06-01T00:00:00Z'],
      /^queuewatch: --at must be 2019-01-02T00:00:00\.000Z or later/,
    ],
    ['a date the calendar does not have', ['audit', '--day', '2026-04-31'], /'2026-04-31' is not a date/],
    ['an endpoint without a scheme', ['status', '--endpoint', 'localhost:4566'], /is not a server address/],
    ['a stage that names no stack', ['status', '--stage', 'PROD X'], /must be 1 to 16 lower-case letters/],
    [
      'a case attribute given twice',
      ['routes', 'test', 'category=domestic-abuse', 'riskLevel=high', 'riskLevel=medium'],
      /^queuewatch: riskLevel is given twice/,
    ],
    [
      'a rule the config does not have',
      ['routes', 'test', 'category=domestic-abuse', 'riskLevel=high', '--expect-rule', 'nonexistent'],
      /^queuewatch: --expect-rule nonexistent: the config has no such rule/,
    ],
    [
      'a case attribute missing',
      ['routes', 'test', 'category=domestic-abuse'],
      /^queuewatch: missing riskLevel=\.\.\./,
    ],
  ])('exits 2 on a usage error: %s', async (_, args, message) => {
    const result = await runCli(args);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expectNoStackTrace(result);
  });

  it.each([
    [
      'config check',
      ['config', 'check', `${tmp.dir}/absent.yaml`],
      `cannot read config ${tmp.dir}/absent.yaml: no such file`,
    ],
    [
      'evaluate',
      ['evaluate', '--cases', `${tmp.dir}/absent.jsonl`],
      `cannot read ${tmp.dir}/absent.jsonl: no such file`,
    ],
    [
      'import',
      ['import', `${tmp.dir}/absent.jsonl`, '--endpoint', 'http://127.0.0.1:9'],
      `cannot read ${tmp.dir}/absent.jsonl: no such file`,
    ],
  ])('exits 2 naming a file that does not exist: %s', async (_, args, message) => {
    const result = await runCli(args);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`queuewatch: ${message}\n`);
  });

  it.each([
    ['status', ['status']],
    ['audit', ['audit', '--day', '2026-11-30']],
    [
      'import',
      [
        'import',
        'examples/synthetic-queue.jsonl',
        // Resumable state goes to the test's folder, not beside the example in the repository.
        '--checkpoint',
        `${tmp.dir}/import.checkpoint.json`,
        '--rejects',
        `${tmp.dir}/import.rejects.jsonl`,
      ],
    ],
  ])(
    '%s on a local endpoint that refuses says which, and how to start one, with status 4',
    async (_, args) => {
      const result = await runCli([...args, '--endpoint', 'http://127.0.0.1:9']);

      expect(result.status).toBe(4);
      expect(result.stderr).toMatch(
        /^queuewatch: (import stopped after line 0: )?cannot connect to DynamoDB at http:\/\/127\.0\.0\.1:9 \(connection refused\): start a local one with `npx dynalite --port 9` \(then load cases with `npx queuewatch import FILE --endpoint http:\/\/127\.0\.0\.1:9 --create-tables`\), or leave out --endpoint to use AWS/,
      );
      expect(result.stderr).not.toContain('internal error');
      expectNoStackTrace(result);
    },
  );

  it('says there are no AWS credentials, with status 4', async () => {
    const result = await runCli(['audit', '--stage', 'test', '--region', 'eu-west-2'], NO_CREDENTIALS);

    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(
      /^queuewatch: no AWS credentials found for AWS DynamoDB in eu-west-2: set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/,
    );
    expectNoStackTrace(result);
  });

  it('ends quietly with status 0 when the reader closes the pipe early', async () => {
    const [generated, local] = await Promise.all([
      pipeline('node bin/queuewatch.js generate --open 100000 | head -1'),
      pipeline('node bin/queuewatch.js local --open 50 --closed 0 --hours 2 --seconds 0 | head -2'),
    ]);

    expect(generated.status).toBe(0);
    expect(generated.stdout.split('\n')).toHaveLength(2);
    expect(generated.stderr).toBe('');
    expect(local.status).toBe(0);
    expect(local.stdout).toMatch(/^seeded an embedded DynamoDB/);
    expect(local.stderr).toBe('');
  });

  it('says what to run when the CLI has not been built', async () => {
    const bin = `${tmp.dir}/unbuilt/bin/queuewatch.js`;
    mkdirSync(dirname(bin), { recursive: true });
    copyFileSync(`${REPO_ROOT}bin/queuewatch.js`, bin);

    const result = await pipeline(`node ${bin} --help`);

    expect(result.status).toBe(70);
    expect(result.stderr).toBe(
      'queuewatch: the CLI is not built (no dist/cli/main.js): run `npm run build` (npm ci does it too), then try again\n',
    );
  });

  it('exits 2 naming an output file it cannot write', async () => {
    const result = await runCli(['generate', '--open', '3', '-o', `${tmp.dir}/no-such-folder/queue.jsonl`]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `queuewatch: cannot write ${tmp.dir}/no-such-folder/queue.jsonl: no such folder\n`,
    );
  });

  it('local starts at a fixed Monday morning unless told otherwise', async () => {
    const result = await runCli(['local', '--once', '--open', '20', '--closed', '0']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('once, at 2026-11-30 08:00 UTC\n');
  });

  it('local --show refuses a pair that names no audience and district (it would print nothing)', async () => {
    const result = await runCli(['local', '--show', 'district-supervisor@D01,nobody@D99', '--hours', '0']);

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^queuewatch: --show: nobody@D99 is not an audience@district of the config \(audiences: district-supervisor, /,
    );
    expect(result.stdout).toBe('');
  });

  it('config check warns about cases only the ceiling covers, and fails on warnings with --strict', async () => {
    const path = tmp.file(
      'no-adult-rules.yaml',
      configTextWith(
        ['  - id: sh-va-medium', '  - id: sh-va-medium\n    # removed:'],
        [
          '    match: { category: *others, riskLevel: medium, stage: *waiting }',
          '    match: { category: *others, riskLevel: medium, stage: [awaiting-referral] }',
        ],
      ),
    );

    const [checked, strict] = await Promise.all([
      runCli(['config', 'check', path]),
      runCli(['config', 'check', path, '--strict']),
    ]);

    const warning =
      "warning: only the ceiling rule 'ceiling' covers category=stalking-harassment|vulnerable-adult riskLevel=medium stage=awaiting-supervisor-review|awaiting-risk-assessment: its first warning comes after 14d; add a rule for it";
    expect(checked.status).toBe(0);
    expect(checked.stdout).toContain(`\n${warning}\n`);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toContain(warning);
  });

  it('routes test does without attributes no rule or route matches on', async () => {
    const result = await runCli(['routes', 'test', 'category=domestic-abuse', 'riskLevel=high']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('assumed: stage=awaiting-risk-assessment childrenInvolved=false\n');
    expect(result.stdout).toContain(
      'not needed: district (no rule or route matches on it, so any value gives the same answer)\n',
    );
    expect(result.stdout).toContain('rule: da-high-assessment (warn 4h, breach 24h, escalate 48h)\n');
  });

  it('routes test --expect exits 0 when the audiences are as expected and 1, saying how, when not', async () => {
    const test = ['routes', 'test', 'category=domestic-abuse', 'riskLevel=high', 'district=D01'];

    const [met, unmet] = await Promise.all([
      runCli([
        ...test,
        '--expect-rule',
        'da-high-assessment',
        '--expect',
        'warning=district-supervisor,marac-coordinator',
        '--expect',
        'escalation=marac-coordinator,district-supervisor,duty-inspector',
      ]),
      runCli([...test, '--expect', 'escalation=district-supervisor,director-childrens-services']),
    ]);

    expect(met.status).toBe(0);
    expect(met.stdout).toMatch(/\nas expected\n$/);
    expect(unmet.status).toBe(1);
    expect(unmet.stderr).toBe(
      'queuewatch: routes differ from the expected:\n  escalation: expected district-supervisor, director-childrens-services; got district-supervisor, duty-inspector, marac-coordinator (missing director-childrens-services) (unexpected duty-inspector, marac-coordinator)\n',
    );
  });
});
