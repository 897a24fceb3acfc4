import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { buildQueuewatchApp } from '#infra/queuewatch.ts';
import { loadConfig } from '#shared/config/load.ts';
import { fullCoverageDeployment } from '#test/support/deployments.ts';
import { STAND_IN_ENTRIES, tempOutdir, testApp } from './support.ts';

interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs: Array<{ constructPath: string }>;
  reason?: string;
}
interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: Violation[];
  suppressedViolations?: Violation[];
}

/** Every finding cdk-nag may report, each acknowledged in code with its reason. Adding one here is a
 * decision for review, not a way to make a test pass. */
const ACKNOWLEDGED = [
  // The acknowledgement page is public by nature: its single-use token is the authorisation.
  'AwsSolutions-APIG4 at queuewatch-dev-app/AckEndpoint/Api/GET--{token}/Resource',
  'AwsSolutions-APIG4 at queuewatch-dev-app/AckEndpoint/Api/POST--{token}/Resource',
  'AwsSolutions-IAM5[Resource::*] at queuewatch-dev-app/Ack/Role/DefaultPolicy/Resource',
  'AwsSolutions-IAM5[Resource::*] at queuewatch-dev-app/Digest/Role/DefaultPolicy/Resource',
  'AwsSolutions-IAM5[Resource::*] at queuewatch-dev-app/Ingest/Role/DefaultPolicy/Resource',
  'AwsSolutions-IAM5[Resource::*] at queuewatch-dev-app/Scan/Role/DefaultPolicy/Resource',
  'AwsSolutions-IAM5[Resource::*] at queuewatch-dev-app/Signals/Role/DefaultPolicy/Resource',
  'AwsSolutions-L1 at queuewatch-dev-app/Ack/Function/Resource',
  'AwsSolutions-L1 at queuewatch-dev-app/Digest/Function/Resource',
  'AwsSolutions-L1 at queuewatch-dev-app/Ingest/Function/Resource',
  'AwsSolutions-L1 at queuewatch-dev-app/Scan/Function/Resource',
  'AwsSolutions-L1 at queuewatch-dev-app/Signals/Function/Resource',
];

/** A deployment that subscribes every audience everywhere, so the stacks carry no warning of our own:
 * any warning left is one cdk-nag or CDK raised. */
const DEPLOY_CONFIG = join(tempOutdir(), 'deploy.config.json');
writeFileSync(DEPLOY_CONFIG, JSON.stringify(fullCoverageDeployment(loadConfig().file, 'dev')));

function appWithNag() {
  const app = testApp({ deployConfig: DEPLOY_CONFIG });
  return { app, stacks: buildQueuewatchApp(app, { entries: STAND_IN_ENTRIES })[0] };
}

function synthWithNag(extra?: (app: App) => void) {
  const { app } = appWithNag();
  extra?.(app);
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  return report.pluginReports;
}

describe('cdk-nag AWS Solutions checks', () => {
  it('run at synth and leave no unacknowledged finding, error or warning', () => {
    const reports = synthWithNag();
    const nag = reports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag, 'the AwsSolutions pack did not report: is it registered?').toBeDefined();
    expect(nag?.violations).toEqual([]);
    expect(nag?.conclusion).toBe('success');
    for (const other of reports) expect(other.violations, other.pluginName).toEqual([]);
  });

  it('acknowledge only the reviewed findings, each with a written reason', () => {
    const suppressed = synthWithNag().flatMap((r) => r.suppressedViolations ?? []);
    const acknowledged = suppressed.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`),
    );
    expect(acknowledged.sort()).toEqual(ACKNOWLEDGED);
    for (const v of suppressed) expect(v.reason?.length ?? 0, v.ruleName).toBeGreaterThan(40);
  });

  it('leave no warning or error annotations on either stack', () => {
    const { stacks } = appWithNag();
    for (const stack of [stacks.data, stacks.app]) {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    }
  });

  it('fail the synth on a finding nobody acknowledged', () => {
    expect(() => synthWithNag((app) => new Queue(new Stack(app, 'careless'), 'PlainQueue'))).toThrow(
      /AwsSolutions-SQS4/,
    );
  });
});
