// Builds queuewatch's two stacks into an app: the stateful data stack and the stateless app stack
// that depends on it, with cdk-nag's AWS Solutions checks. app.ts calls this; so do the tests.

import { resolve } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '#shared/config/load.ts';
import type { Deployment } from '#shared/delivery/subscriptions.ts';
import { AppStack } from './app-stack.ts';
import { DataStack } from './data-stack.ts';
import { deployConfigPath, intContext, loadDeployment, SHIPPED_ADMIN_CONFIG_PATH } from './deployment.ts';
import { prefix } from './limits.ts';

export interface QueuewatchOptions {
  deployment: Deployment;
  /** Admin config for the subscriptions' filter policies and the scan's shipped default. */
  adminConfigPath?: string;
  feedSilenceHours?: number;
  entries?: { scan: string; ingest: string; signals?: string };
  env?: { account?: string; region?: string };
}

export interface QueuewatchStacks {
  data: DataStack;
  app: AppStack;
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
  const adminConfig = loadConfig(adminConfigPath).file;
  const name = prefix(deployment.stage);
  const env = options.env ?? {};
  const tags = { project: 'queuewatch', stage: deployment.stage };

  const data = new DataStack(app, `${name}-data`, {
    stackName: `${name}-data`,
    description: `queuewatch ${deployment.stage}: key, tables, topics and the ingest queue (stateful)`,
    deployment,
    adminConfig,
    env,
    tags,
    terminationProtection: deployment.production,
  });
  const stateless = new AppStack(app, `${name}-app`, {
    stackName: `${name}-app`,
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
  return { data, app: stateless };
}

/**
 * The whole app, from context: `-c deployConfig=PATH` (else deploy.config.json, else the example),
 * `-c adminConfig=PATH` (default config/queuewatch.yaml), `-c feedSilenceHours=N` (default 6),
 * `-c bundling=false` to skip esbuild (a quick synth or check: the CLI reserves the `aws:` context
 * keys that say the same). Adds cdk-nag's AWS Solutions checks: any finding not acknowledged with a
 * reason fails the synth.
 */
export function buildQueuewatchApp(
  app: App,
  overrides: Pick<QueuewatchOptions, 'entries'> = {},
): QueuewatchStacks {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  if (context('bundling') === 'false') app.node.setContext(BUNDLING_STACKS, []);
  const adminConfigPath = context('adminConfig');
  const feedSilenceHours = intContext(context('feedSilenceHours'), 'feedSilenceHours', 1, 168);
  const stacks = buildQueuewatch(app, {
    deployment: loadDeployment(deployConfigPath(context('deployConfig'))),
    ...(adminConfigPath ? { adminConfigPath } : {}),
    ...(feedSilenceHours !== undefined ? { feedSilenceHours } : {}),
    ...overrides,
    env: {
      ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}),
      ...(process.env.CDK_DEFAULT_REGION ? { region: process.env.CDK_DEFAULT_REGION } : {}),
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stacks;
}
