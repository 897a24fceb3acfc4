// The `queuewatch` command as admins run it: a real process per command (a second or two each, so
// few of them, run concurrently), checking exit codes, output, and that errors are one line
// without a stack trace.

import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRecords } from '#shared/app/evaluate.ts';
import { formatRecords } from '#shared/cli/generate-command.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { type RawRecord, readCaseFile } from '#shared/io/case-file.ts';
import {
  at,
  type CliResult,
  configTextWith,
  defaultConfig,
  PII_MARKERS,
  piiMarkerIn,
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
    expect(result.stdout).toContain('rules (10, most specific match wins):');
    expect(result.stdout).toMatch(/ {2}la-decision +warn 4h +breach 1wd +escalate 2wd +stage=referred/);
    expect(result.stdout).toContain('routes (10, every match adds its audiences):');
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
        /^ {2}rules\[1\]: thresholds out of order: warn 30h is later than breach 24h \(.*bad.yaml line \d+\)$/,
      ),
      expect.stringMatching(
        /^ {2}routes\[4\]\.audiences: unknown audience 'mash-managr' .*\(.*bad.yaml line \d+\)$/,
      ),
    ]);
    expectNoStackTrace(result);
  });

  it('routes test shows the rule and the audiences of a case at each level', async () => {
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
      '',
    ]);
  });
});
