import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  DeploymentConfigError,
  deployConfigPath,
  EXAMPLE_DEPLOY_CONFIG_PATH,
  loadDeployment,
  PROJECT_ROOT,
} from '#infra/deployment.ts';
import { buildQueuewatch, buildQueuewatchApp } from '#infra/queuewatch.ts';
import { loadConfig } from '#shared/config/load.ts';
import { deploymentSchema } from '#shared/delivery/subscriptions.ts';
import { CDK_JSON_CONTEXT, DEPLOYMENT, STAND_IN_ENTRIES, testApp } from './support.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'queuewatch-deploy-'));
const adminConfig = loadConfig();

describe('deployment config', () => {
  it('ships an example that validates and holds only fictional contacts', () => {
    const example = loadDeployment(EXAMPLE_DEPLOY_CONFIG_PATH, adminConfig).deployment;
    expect(example.production).toBe(false);
    for (const s of example.subscribers) {
      // Ofcom's drama range, and example.org (RFC 2606).
      if (s.protocol === 'sms') expect(s.endpoint).toMatch(/^\+447700900\d{3}$/);
      else expect(s.endpoint).toMatch(/@example\.org$/);
    }
    for (const email of example.opsEmails) expect(email).toMatch(/@example\.org$/);
  });

  it('uses deploy.config.json or the file named, and never falls back to the example', () => {
    const root = scratch();
    copyFileSync(EXAMPLE_DEPLOY_CONFIG_PATH, join(root, 'deploy.config.example.json'));
    expect(() => deployConfigPath(undefined, root)).toThrow(DeploymentConfigError);
    expect(() => deployConfigPath(undefined, root)).toThrow(
      /deploy\.config\.json: no deployment config\. Copy deploy\.config\.example\.json to deploy\.config\.json .* or pass -c deployConfig=PATH\. Nothing is deployed without one/,
    );
    expect(() => deployConfigPath(join(root, 'deploy.config.example.json'), root)).toThrow(
      /deploy\.config\.example\.json: this is the example, and its contacts are fictional: copy it to deploy\.config\.json/,
    );
    // A copy never filled in is the example still, under either name (whitespace aside).
    const example = JSON.parse(readFileSync(EXAMPLE_DEPLOY_CONFIG_PATH, 'utf8'));
    writeFileSync(join(root, 'deploy.config.json'), JSON.stringify(example));
    expect(() => deployConfigPath(undefined, root)).toThrow(
      /deploy\.config\.json: this is an unchanged copy of deploy\.config\.example\.json, and its contacts are fictional/,
    );
    writeFileSync(join(root, 'mine.json'), JSON.stringify(example, null, 4));
    expect(() => deployConfigPath(join(root, 'mine.json'), root)).toThrow(/unchanged copy/);
    // Filled in (here only the stage changed): used.
    writeFileSync(join(root, 'deploy.config.json'), JSON.stringify({ ...example, stage: 'north' }));
    expect(deployConfigPath(undefined, root)).toBe(join(root, 'deploy.config.json'));
    writeFileSync(join(root, 'deploy.config.json'), '{}');
    expect(deployConfigPath(undefined, root)).toBe(join(root, 'deploy.config.json'));
    expect(deployConfigPath('/elsewhere/x.json', root)).toBe('/elsewhere/x.json');
  });

  it('names the file and the key of an invalid setting', () => {
    const path = join(scratch(), 'bad.json');
    writeFileSync(path, JSON.stringify({ stage: 'dev', scheduleMinutes: 0 }));
    expect(() => loadDeployment(path, adminConfig)).toThrow(DeploymentConfigError);
    expect(() => loadDeployment(path, adminConfig)).toThrow(
      /bad\.json: invalid deployment config \(1 problem\):\n {2}scheduleMinutes: /,
    );
  });

  it('keeps the real deployment config out of git', () => {
    const ignored = readFileSync(join(PROJECT_ROOT, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain('deploy.config.json');
  });

  it('sets in cdk.json every feature flag cdk init sets for this aws-cdk-lib, at its value', () => {
    const recommended = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'node_modules/aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
    ) as Record<string, unknown>;
    // Except one, on purpose: exports keep the data stack from being deleted while the app stack
    // uses it (weak references would let it go; see infra/queuewatch.ts).
    expect(CDK_JSON_CONTEXT).toEqual({
      ...recommended,
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
    });
  });

  it('runs the app through tsx from cdk.json', () => {
    const cdk = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string };
    expect(cdk.app).toBe('npx tsx infra/app.ts');
  });
});

describe('the app from context', () => {
  const appWith = (context: Record<string, unknown>) => {
    return buildQueuewatchApp(testApp(context), { entries: STAND_IN_ENTRIES })[0];
  };

  it('reads -c deployConfig and -c feedSilenceHours', () => {
    const path = join(scratch(), 'deploy.json');
    writeFileSync(path, JSON.stringify({ stage: 'ctx', scheduleMinutes: 10 }));
    const stacks = appWith({ deployConfig: path, feedSilenceHours: '3' });
    expect(stacks.data.stackName).toBe('queuewatch-ctx-data');
    expect(stacks.app.stackName).toBe('queuewatch-ctx-app');
    const template = Template.fromStack(stacks.app);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'queuewatch-ctx-feed-silence',
      EvaluationPeriods: 3,
      Period: 3600,
    });
  });

  it('refuses a feed-silence window that is not a whole number of hours, naming the setting', () => {
    const path = join(scratch(), 'deploy.json');
    writeFileSync(path, JSON.stringify({ stage: 'ctx' }));
    expect(() => appWith({ deployConfig: path, feedSilenceHours: '2.5' })).toThrow(
      /context feedSilenceHours must be a whole number from 1 to 168/,
    );
  });

  it('refuses a deployment with problems before building anything, listing every one', () => {
    const path = join(scratch(), 'deploy.json');
    writeFileSync(
      path,
      JSON.stringify({
        stage: 'ctx',
        subscribers: [
          { protocol: 'sms', endpoint: '07700900123', audience: 'district-supervisor', district: 'D01' },
          { protocol: 'email', endpoint: 'dcs@example.org', audience: 'director-childrens-services' },
        ],
      }),
    );
    const app = testApp({ deployConfig: path });
    expect(() => buildQueuewatchApp(app, { entries: STAND_IN_ENTRIES })).toThrow(
      /invalid deployment config \(2 problems\):\n {2}subscribers\[0\]\.endpoint: 077…23 is not an E\.164 phone number.*\n {2}subscribers\[1\]\.localAuthority: /,
    );
    expect(app.node.children).toEqual([]);
  });
});

describe('a deployment that reaches nobody', () => {
  it('deploys with no subscribers, saying so as a CDK warning on the data stack and in its warnings', () => {
    const stacks = buildQueuewatch(testApp(), {
      deployment: deploymentSchema.parse({ stage: 'lonely' }),
      entries: STAND_IN_ENTRIES,
    });

    expect(stacks.warnings).toEqual([
      'queuewatch-lonely: no subscribers: every alert goes to nobody (add them under "subscribers")',
      'queuewatch-lonely: no opsEmails: the alarms (a stopped scan, a silent feed, failed deliveries) go to nobody',
    ]);
    const warnings = Annotations.fromStack(stacks.data).findWarning('*', Match.stringLikeRegexp('nobody'));
    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringMatching(/^no subscribers: every alert goes to nobody/),
      expect.stringMatching(/^no opsEmails: /),
    ]);
    Template.fromStack(stacks.data).resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('warns about each audience with places nobody receives', () => {
    const stacks = buildQueuewatch(testApp(), { deployment: DEPLOYMENT, entries: STAND_IN_ENTRIES });

    expect(stacks.warnings).toContain(
      'queuewatch-test: district-supervisor: nobody receives warning, breach, escalation in D03, D04, D05, D06, D07, D08, D09, D10',
    );
    expect(
      Annotations.fromStack(stacks.data)
        .findWarning('*', Match.stringLikeRegexp('^director-childrens-services: '))
        .map((w) => w.entry.data),
    ).toEqual([
      'director-childrens-services: nobody receives escalation in la-eastmoor, la-southwick, la-westbrook, la-kingsford, la-ashworth, la-millbrook, la-harrowfield, la-stonebridge, la-riverside [ack: queuewatch:uncovered-director-childrens-services]',
    ]);
  });
});

describe('a daily digest that reaches nobody', () => {
  it('is a CDK warning naming the digest audience and the places with no inbox', () => {
    const stacks = buildQueuewatch(testApp(), { deployment: DEPLOYMENT, entries: STAND_IN_ENTRIES });

    // Northgate's director has an inbox (taking escalations only: the digest still reaches it).
    expect(
      Annotations.fromStack(stacks.data)
        .findWarning('*', Match.stringLikeRegexp('^daily digest for '))
        .map((w) => w.entry.data),
    ).toEqual([
      'daily digest for director-childrens-services: nobody receives it in la-eastmoor, la-southwick, la-westbrook, la-kingsford, la-ashworth, la-millbrook, la-harrowfield, la-stonebridge, la-riverside: it goes to email subscribers only, never to phones [ack: queuewatch:undelivered-digest-director-childrens-services]',
    ]);
  });
});

describe('a morning signals run too late for the digest', () => {
  it('is a CDK warning naming signalsAt, digest.at and the admin config', () => {
    const stacks = buildQueuewatch(testApp(), {
      deployment: { ...DEPLOYMENT, signalsAt: '07:00' },
      entries: STAND_IN_ENTRIES,
    });

    expect(
      Annotations.fromStack(stacks.data)
        .findWarning('*', Match.stringLikeRegexp('^signalsAt '))
        .map((w) => w.entry.data),
    ).toEqual([
      expect.stringMatching(
        /^signalsAt 07:00 in deployment 'test' is not at least 15 minutes before digest\.at 07:00 in \/.*config\/queuewatch\.yaml: .* \[ack: queuewatch:signals-after-digest\]$/,
      ),
    ]);
  });
});

describe('cdk synth', () => {
  it('prints every problem of a deployment config and exits non-zero, without a stack trace', async () => {
    const dir = scratch();
    const path = join(dir, 'deploy.json');
    writeFileSync(
      path,
      JSON.stringify({
        stage: 'prod',
        production: true,
        subscribers: [
          { protocol: 'sms', endpoint: '+44 7700 900123', audience: 'district-supervisor', district: 'D01' },
          { protocol: 'email', endpoint: 'triage@example.org', audience: 'triage-supervisr' },
        ],
      }),
    );
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((done) => {
      execFile(
        'npx',
        [
          'cdk',
          'synth',
          '-q',
          '--no-notices',
          '-c',
          'bundling=false',
          '-c',
          `deployConfig=${path}`,
          '-o',
          join(dir, 'out'),
        ],
        { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });

    expect(result.code).not.toBe(0);
    const lines = result.stderr.split('\n');
    const start = lines.indexOf(`queuewatch: ${path}: invalid deployment config (3 problems):`);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start + 1, start + 4)).toEqual([
      '  subscribers[0].endpoint: +44…23 is not an E.164 phone number (a plus, the country code and the number: no spaces, no leading 0)',
      expect.stringMatching(/^ {2}subscribers\[1\]\.audience: unknown audience 'triage-supervisr' \(known: /),
      expect.stringMatching(/^ {2}opsEmails: production needs at least one ops email/),
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at |node_modules|triage@example/);
  });
});
