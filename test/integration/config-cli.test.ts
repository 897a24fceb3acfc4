// `queuewatch config push`, `config show` and `config diff` as an admin runs them, against SSM in a
// real moto_server: what is pushed is what the scan reads, and what is in force can be seen and
// compared with a file before pushing it.

import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH } from '#shared/config/load.ts';
import { configTextOf } from '#shared/config/stored.ts';
import { LOCAL_CREDENTIALS } from '#shared/local/embedded-dynamo.ts';
import { configTextWith, defaultConfigText, runCli, tempDir } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';

let moto: Moto;
let ssm: SSMClient;
const tmp = tempDir();

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient({ endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  ssm?.destroy();
  await moto?.stop();
  tmp.cleanup();
});

const config = (...args: string[]) => runCli(['config', ...args, '--endpoint', moto.endpoint]);
/** A valid config that `config check` warns of: a director reminded by SMS every 5 minutes. */
const noisyConfig = (name: string) =>
  tmp.file(
    name,
    configTextWith([
      'repeat: { warning: never, breach: never, escalation: never }',
      'repeat: { warning: never, breach: never, escalation: 5m }',
    ]),
  );

describe('queuewatch config push', () => {
  it('pushes a valid config, says which tier its size needs, and refuses an invalid one', async () => {
    const bad = tmp.file(
      'bad.yaml',
      configTextWith(['warn: 4h\n    breach: 24h', 'warn: 30h\n    breach: 24h']),
    );

    const ok = await config('push', DEFAULT_CONFIG_PATH, '--stage', 'cli');
    const refused = await config('push', bad, '--stage', 'cli');
    const stored = await ssm.send(new GetParameterCommand({ Name: '/queuewatch/cli/config' }));

    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^pushed .* to \/queuewatch\/cli\/config \(version 1\); the scan uses it within a minute\n/,
    );
    // The shipped config is over 4 KB of JSON: it is stored compressed, in a Standard parameter.
    expect(ok.stdout).toMatch(
      /\nsize: [\d,]+ bytes of JSON, stored gzip-compressed in [\d,]+ bytes: a Standard parameter \(up to 4 KB/,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /rules\[1\] \(child-high\)\.warn: thresholds out of order: warn 30h is later than breach 24h/,
    );
    expect(stored.Parameter?.Version).toBe(1);
    expect(stored.Parameter?.Value).toMatch(/^gzip:/);
    expect(JSON.parse(configTextOf(stored.Parameter?.Value ?? '{}')).force).toBe('Metro Example Police');
  });

  it('says a small config fits a Standard parameter', async () => {
    const small = tmp.file(
      'small.yaml',
      [
        'version: 1',
        'force: Synthetic Force',
        'linkBase: https://q.example/q',
        'categories: [domestic-abuse]',
        'localAuthorities: { la-one: { name: One Council } }',
        'districts: { D01: { name: One, localAuthority: la-one } }',
        'repeat: { warning: 12h, breach: 4h, escalation: 1h }',
        'rules: [{ id: ceiling, warn: 1d, breach: 2d, escalate: 3d }]',
        'audiences: { ops: { scope: force, description: Ops } }',
        'routes: [{ audiences: [ops] }]',
        'fallbackAudience: ops',
      ].join('\n'),
    );

    const pushed = await config('push', small, '--stage', 'small');

    expect(pushed.status).toBe(0);
    expect(pushed.stdout).toMatch(
      /\nsize: \d+ bytes of JSON: a Standard parameter \(up to 4 KB, no charge\)\n$/,
    );
  });

  it('says what config check would warn of, and pushes all the same', async () => {
    const pushed = await config('push', noisyConfig('noisy.yaml'), '--stage', 'noisy');

    expect(pushed.status).toBe(0);
    expect(pushed.stderr).toMatch(
      /^queuewatch: warning: audience 'director-childrens-services' is reminded by SMS every 5m at escalation, day and night/,
    );
    expect(pushed.stdout).toMatch(/^pushed .* to \/queuewatch\/noisy\/config \(version 1\)/);
  });

  it("warns when digest.at is not 15 minutes after the stage's signalsAt, as the deployment check does, and pushes all the same", async () => {
    const deploy = tmp.file(
      'deploy.config.json',
      JSON.stringify({ forces: [{ stage: 'early' }, { stage: 'late', signalsAt: '05:00' }] }),
    );
    const moved = tmp.file('digest-0640.yaml', configTextWith(['at: "07:00"', 'at: "06:40"']));

    const early = await config('push', moved, '--stage', 'early', '--deploy-config', deploy);
    const late = await config('push', moved, '--stage', 'late', '--deploy-config', deploy);
    const elsewhere = await config('push', moved, '--stage', 'other', '--deploy-config', deploy);
    const noFile = await config('push', moved, '--stage', 'nofile', '--deploy-config', `${deploy}.missing`);
    const unmoved = await config(
      'push',
      DEFAULT_CONFIG_PATH,
      '--stage',
      'unmoved',
      '--deploy-config',
      `${deploy}.missing`,
    );

    expect(early.status).toBe(0);
    expect(early.stderr).toContain(
      `queuewatch: warning: signalsAt 06:30 (the default) in ${deploy} is not at least 15 minutes before digest.at 06:40 in ${moved}: `,
    );
    expect(early.stderr).toContain('set signalsAt to 06:25 or earlier, or digest.at later');
    expect(early.stdout).toMatch(/^pushed .* to \/queuewatch\/early\/config \(version 1\)/);
    expect(late.status).toBe(0);
    expect(late.stderr).not.toContain('signalsAt');
    expect(elsewhere.stderr).toContain(
      `queuewatch: warning: digest.at moves to 06:40, not checked against the morning signals run (the deployment's signalsAt, at least 15 minutes before it): ${deploy} has no force of stage other`,
    );
    expect(noFile.stderr).toMatch(
      /digest\.at moves to 06:40, not checked against the morning signals run .*no such file/,
    );
    expect(unmoved.status).toBe(0);
    expect(unmoved.stderr).not.toContain('signalsAt');
  });

  it('needs --stage (or --parameter): there is no default stage', async () => {
    const result = await config('push', DEFAULT_CONFIG_PATH);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'queuewatch: name the stage: --stage STAGE (the parameter is /queuewatch/STAGE/config), or --parameter NAME\n',
    );
  });
});

describe('queuewatch config show', () => {
  it('shows the config in force: parameter, version, size and tier, validity, and the config itself', async () => {
    await config('push', DEFAULT_CONFIG_PATH, '--stage', 'show');

    const shown = await config('show', '--stage', 'show');
    const json = await config('show', '--stage', 'show', '--json');

    expect(shown.status).toBe(0);
    const [header, validity, separator, ...yaml] = shown.stdout.split('\n');
    expect(header).toMatch(
      /^\/queuewatch\/show\/config: version 1, pushed \d{4}-\d\d-\d\dT[\d:.]+Z, [\d,]+ bytes of JSON, stored gzip-compressed in [\d,]+ bytes: a Standard parameter/,
    );
    expect(validity).toBe('valid: 13 rules, 11 routes, 9 audiences; the scan uses it');
    expect(separator).toBe('---');
    expect(yaml.join('\n')).toMatch(/^version: 1\nforce: Metro Example Police\n/);
    expect(JSON.parse(json.stdout).force).toBe('Metro Example Police');
  });

  it('says when nothing has been pushed, and that the bundled config is in force', async () => {
    const shown = await config('show', '--stage', 'never-pushed');

    expect(shown.status).toBe(0);
    expect(shown.stdout).toBe(
      'nothing has been pushed to /queuewatch/never-pushed/config: the scan runs on the config bundled at its last deploy (if no stage of that name is deployed, check the stage)\n',
    );
  });

  it('says what is wrong with a value written by hand or damaged, exits 0, and push replaces it', async () => {
    const put = (stage: string, value: string) =>
      ssm.send(
        new PutParameterCommand({ Name: `/queuewatch/${stage}/config`, Value: value, Type: 'String' }),
      );
    await put('damaged', 'gzip:AAAAnotgzip');
    await put('by-hand', 'version: 1 # YAML, not the JSON push writes');

    const damaged = await config('show', '--stage', 'damaged');
    const damagedJson = await config('show', '--stage', 'damaged', '--json');
    const byHand = await config('show', '--stage', 'by-hand');
    const diffed = await config('diff', DEFAULT_CONFIG_PATH, '--stage', 'by-hand');
    const pushed = await config('push', DEFAULT_CONFIG_PATH, '--stage', 'damaged');

    expect(damaged.status).toBe(0);
    expect(damaged.stdout.split('\n').slice(1)).toEqual([
      'NOT VALID: the scan ignores it and keeps its last good config (or the bundled one):',
      '  the stored value begins gzip: but its gzip data is damaged: not one `config push` wrote',
      '`config push` replaces it.',
      '',
    ]);
    expect(damagedJson.status).toBe(1);
    expect(byHand.status).toBe(0);
    expect(byHand.stdout).toContain(
      '  the stored value is not JSON (a value written by hand? `config push` stores JSON)\n',
    );
    expect(byHand.stdout).not.toContain('# YAML');
    expect(diffed.status).toBe(1);
    expect(diffed.stdout).toMatch(
      /^\/queuewatch\/by-hand\/config \(version 1\) holds no config that can be compared: /,
    );
    expect(pushed.status).toBe(0);
    expect((await config('show', '--stage', 'damaged')).stdout.split('\n')[1]).toMatch(/^valid: /);
  });

  it('refuses a malformed endpoint or stage as a usage error, before calling anything', async () => {
    const endpoint = await runCli(['config', 'show', '--stage', 'x', '--endpoint', '127.0.0.1:4566']);
    const stage = await runCli(['config', 'show', '--stage', '../prod', '--endpoint', moto.endpoint]);

    expect([endpoint.status, stage.status]).toEqual([2, 2]);
    expect(endpoint.stderr).toContain("'127.0.0.1:4566' is not a server address like http://localhost:4566");
    expect(stage.stderr).toContain(
      "'../prod' must be 1 to 16 lower-case letters, digits or dashes, beginning with a letter",
    );
  });

  it('says which endpoint refused the connection and how to start a local server', async () => {
    const result = await runCli(['config', 'show', '--stage', 'x', '--endpoint', 'http://127.0.0.1:9']);

    expect(result.status).toBe(4);
    expect(result.stderr).toBe(
      'queuewatch: cannot connect to SSM at http://127.0.0.1:9 (connection refused): start a local one with `moto_server -p 9`, or leave out --endpoint to use AWS\n',
    );
  });
});

describe('queuewatch config diff', () => {
  it('exits 0 when the file is what is in force, and 1 listing each difference when it is not', async () => {
    await config('push', DEFAULT_CONFIG_PATH, '--stage', 'diff');
    const tuned = tmp.file(
      'tuned.yaml',
      defaultConfigText()
        .replace('maxPerRun: 20', 'maxPerRun: 7')
        .replace(
          '    warn: 24h\n    breach: 72h\n    escalate: 5d\n  - id: da-standard',
          '    warn: 12h\n    breach: 72h\n    escalate: 5d\n  - id: da-standard',
        )
        .replace(
          '  - id: sh-va-standard',
          '  - id: sh-va-low\n    match: { category: stalking-harassment, riskLevel: standard, stage: referred, district: D01 }\n    warn: 1h\n    breach: 2h\n    escalate: 3h\n  - id: sh-va-standard',
        ),
    );

    const same = await config('diff', DEFAULT_CONFIG_PATH, '--stage', 'diff');
    const differs = await config('diff', tuned, '--stage', 'diff');

    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(
      /config\/queuewatch.yaml is what is in force on \/queuewatch\/diff\/config \(version 1\)\n$/,
    );
    expect(differs.status).toBe(1);
    expect(differs.stdout.split('\n')).toEqual([
      `/queuewatch/diff/config (version 1, in force) -> ${tuned}: 3 differences`,
      '  ~ rules[7] (da-medium).warn: 24h -> 12h',
      '  + rules[11] (sh-va-low): {"id":"sh-va-low","match":{"category":"stalking-harassment","riskLevel":"standard","stage":"referre…',
      '  ~ sms.maxPerRun: 20 -> 7',
      '',
    ]);
    expect(same.stderr).toBe('');
  });

  it('says what config check would warn of, on stderr, beside the differences', async () => {
    await config('push', DEFAULT_CONFIG_PATH, '--stage', 'diff-warn');

    const differs = await config('diff', noisyConfig('noisy-diff.yaml'), '--stage', 'diff-warn');

    expect(differs.status).toBe(1);
    expect(differs.stderr).toMatch(
      /^queuewatch: warning: audience 'director-childrens-services' is reminded by SMS every 5m at escalation/,
    );
    expect(differs.stdout).toMatch(/: 1 difference\n/);
  });

  it('exits 1 when nothing has been pushed: pushing would change what is in force', async () => {
    const result = await config('diff', DEFAULT_CONFIG_PATH, '--stage', 'never-pushed');

    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /^nothing has been pushed to \/queuewatch\/never-pushed\/config: .*; pushing .* would change what is in force\n$/,
    );
  });
});
