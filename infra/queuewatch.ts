// Builds queuewatch's two stacks for each force into an app: the stateful data stack and the
// stateless app stack that depends on it, with cdk-nag's AWS Solutions checks. A force's stacks
// refer to nothing of another force's. app.ts calls this; so do the tests.

import { resolve } from 'node:path';
import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '#shared/config/load.ts';
import { checkDeployment, loadForcesFile } from '#shared/delivery/deploy-config.ts';
import { prefix, stackName } from '#shared/delivery/names.ts';
import type { Deployment } from '#shared/delivery/subscriptions.ts';
import { AppStack, type AppStackProps } from './app-stack.ts';
import { DataStack } from './data-stack.ts';
import { deployConfigPath, intContext, SHIPPED_ADMIN_CONFIG_PATH } from './deployment.ts';

export interface QueuewatchOptions {
  deployment: Deployment;
  /** Admin config for the subscriptions' filter policies and the scan's shipped default. */
  adminConfigPath?: string;
  feedSilenceHours?: number;
  entries?: AppStackProps['entries'];
  env?: { account?: string; region?: string };
}

export interface QueuewatchStacks {
  data: DataStack;
  app: AppStack;
  /** What deploys but reaches nobody (no subscribers, no ops email, audiences with no subscriber
   * in a place), also added to the data stack as CDK warnings. */
  warnings: string[];
}

/** Strong references (exports and imports) keep the data stack from being deleted while the app
 * stack still uses it: the producer-protecting choice for a stack that holds the data. */
const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';
/** Which stacks' assets are bundled; an empty list skips esbuild. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

export function buildQueuewatch(app: App, options: QueuewatchOptions): QueuewatchStacks {
  const { deployment } = options;
  if (app.node.tryGetContext(CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(CROSS_STACK_REFERENCES, 'strong');
  }
  const adminConfigPath = resolve(options.adminConfigPath ?? SHIPPED_ADMIN_CONFIG_PATH);
  const compiled = loadConfig(adminConfigPath);
  const adminConfig = compiled.file;
  // Every problem at once, before any construct exists (a DeploymentConfigError lists them).
  const checked = checkDeployment(deployment, compiled, `deployment '${deployment.stage}'`, adminConfigPath);
  const name = prefix(deployment.stage);
  const env = options.env ?? {};
  const tags = { project: 'queuewatch', stage: deployment.stage };

  const data = new DataStack(app, stackName(deployment.stage, 'data'), {
    stackName: stackName(deployment.stage, 'data'),
    description: `queuewatch ${deployment.stage}: key, tables, topics and the ingest queue (stateful)`,
    deployment,
    adminConfig,
    env,
    tags,
    terminationProtection: deployment.production,
  });
  const stateless = new AppStack(app, stackName(deployment.stage, 'app'), {
    stackName: stackName(deployment.stage, 'app'),
    description: `queuewatch ${deployment.stage}: functions, schedule and alarms (stateless)`,
    deployment,
    data,
    adminConfigPath,
    ...(options.feedSilenceHours !== undefined ? { feedSilenceHours: options.feedSilenceHours } : {}),
    ...(options.entries ? { entries: options.entries } : {}),
    env,
    tags,
  });
  stateless.addStackDependency(data);
  // On the data stack, which holds the subscriptions. `cdk synth --strict` fails on them.
  for (const warning of checked.warnings) {
    Annotations.of(data).addWarningV2(`queuewatch:${warning.id}`, warning.message);
  }
  return { data, app: stateless, warnings: checked.warnings.map((w) => `${name}: ${w.message}`) };
}

/** A list with at least one entry: the app always builds at least one force. */
export type Forces = [QueuewatchStacks, ...QueuewatchStacks[]];

/**
 * The whole app, from context: `-c deployConfig=PATH` (else deploy.config.json; never the example),
 * one force or a list of them (`forces`), each its own stack pair; `-c force=STAGE` builds that
 * force alone; `-c adminConfig=PATH` is the admin config of a force that names none (default
 * config/queuewatch.yaml); `-c feedSilenceHours=N` (default 6); `-c bundling=false` to skip esbuild
 * (a quick synth or check: the CLI reserves the `aws:` context keys that say the same). A force
 * without its own account or region deploys where the credentials in use point. Adds cdk-nag's AWS
 * Solutions checks: any finding not acknowledged with a reason fails the synth. Returns each force's
 * stacks, in the file's order.
 */
export function buildQueuewatchApp(app: App, overrides: Pick<QueuewatchOptions, 'entries'> = {}): Forces {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  if (context('bundling') === 'false') app.node.setContext(BUNDLING_STACKS, []);
  const adminConfigPath = context('adminConfig');
  const feedSilenceHours = intContext(context('feedSilenceHours'), 'feedSilenceHours', 1, 168);
  const only = context('force');
  // Every force's problems at once, before any construct exists.
  const forces = loadForcesFile(deployConfigPath(context('deployConfig')), {
    defaultAdminConfig: resolve(adminConfigPath ?? SHIPPED_ADMIN_CONFIG_PATH),
    ...(only !== undefined ? { only } : {}),
  });
  const built = forces.map(({ deployment, adminConfigPath: forceAdminConfig }) => {
    const account = deployment.account ?? process.env.CDK_DEFAULT_ACCOUNT;
    const region = deployment.region ?? process.env.CDK_DEFAULT_REGION;
    return buildQueuewatch(app, {
      deployment,
      adminConfigPath: forceAdminConfig,
      ...(feedSilenceHours !== undefined ? { feedSilenceHours } : {}),
      ...overrides,
      env: { ...(account ? { account } : {}), ...(region ? { region } : {}) },
    });
  });
  const [first, ...rest] = built;
  if (!first) throw new Error('a deployment config with no force passed its check');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return [first, ...rest];
}
