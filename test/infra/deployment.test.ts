import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  DeploymentConfigError,
  deployConfigPath,
  EXAMPLE_DEPLOY_CONFIG_PATH,
  loadDeployment,
  PROJECT_ROOT,
} from '#infra/deployment.ts';
import { buildQueuewatchApp } from '#infra/queuewatch.ts';
import { CDK_JSON_CONTEXT, STAND_IN_ENTRIES, testApp } from './support.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'queuewatch-deploy-'));

describe('deployment config', () => {
  it('ships an example that validates and holds only fictional contacts', () => {
    const example = loadDeployment(EXAMPLE_DEPLOY_CONFIG_PATH);
    expect(example.production).toBe(false);
    for (const s of example.subscribers) {
      // Ofcom's drama range, and example.org (RFC 2606).
      if (s.protocol === 'sms') expect(s.endpoint).toMatch(/^\+447700900\d{3}$/);
      else expect(s.endpoint).toMatch(/@example\.org$/);
    }
    for (const email of example.opsEmails) expect(email).toMatch(/@example\.org$/);
  });

  it('prefers deploy.config.json, then falls back to the example', () => {
    const root = scratch();
    expect(deployConfigPath(undefined, root)).toBe(join(root, 'deploy.config.example.json'));
    writeFileSync(join(root, 'deploy.config.json'), '{}');
    expect(deployConfigPath(undefined, root)).toBe(join(root, 'deploy.config.json'));
    expect(deployConfigPath('/elsewhere/x.json', root)).toBe('/elsewhere/x.json');
  });

  it('names the file and the key of an invalid setting', () => {
    const path = join(scratch(), 'bad.json');
    writeFileSync(path, JSON.stringify({ stage: 'dev', scheduleMinutes: 0 }));
    expect(() => loadDeployment(path)).toThrow(DeploymentConfigError);
    expect(() => loadDeployment(path)).toThrow(/bad\.json: invalid deployment config\n {2}scheduleMinutes: /);
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
    return buildQueuewatchApp(testApp(context), { entries: STAND_IN_ENTRIES });
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
    expect(() => appWith({ deployConfig: EXAMPLE_DEPLOY_CONFIG_PATH, feedSilenceHours: '2.5' })).toThrow(
      /context feedSilenceHours must be a whole number from 1 to 168/,
    );
  });
});
