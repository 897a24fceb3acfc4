// Where a deployment's settings come from: deploy.config.json (git-ignored, holds real contacts) or
// a file named with `-c deployConfig=PATH`, checked against the admin config its subscriptions'
// filter policies are built from. Never the committed example: its contacts are fictional.

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledConfig } from '#shared/config/compile.ts';
import {
  DEPLOY_CONFIG_FILE,
  type DeploymentCheck,
  DeploymentConfigError,
  EXAMPLE_DEPLOY_CONFIG_FILE,
  exampleCopy,
  loadDeploymentFile,
  sameFile,
} from '#shared/delivery/deploy-config.ts';

export { DeploymentConfigError };

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export { DEPLOY_CONFIG_FILE, EXAMPLE_DEPLOY_CONFIG_FILE };
export const EXAMPLE_DEPLOY_CONFIG_PATH = join(PROJECT_ROOT, EXAMPLE_DEPLOY_CONFIG_FILE);
export const SHIPPED_ADMIN_CONFIG_PATH = join(PROJECT_ROOT, 'config', 'queuewatch.yaml');

/** The deployment config to use: an explicit path (context `deployConfig`), else deploy.config.json.
 * Refuses, saying what to do, when there is none or when it is the committed example (a synth must
 * never subscribe the example's fictional contacts). */
export function deployConfigPath(override?: string, root = PROJECT_ROOT): string {
  const path = override
    ? isAbsolute(override)
      ? override
      : resolve(process.cwd(), override)
    : join(root, DEPLOY_CONFIG_FILE);
  if (sameFile(path, join(root, EXAMPLE_DEPLOY_CONFIG_FILE))) {
    throw new DeploymentConfigError(path, [
      {
        path: '',
        message: `this is the example, and its contacts are fictional: copy it to ${DEPLOY_CONFIG_FILE} and put your stage, subscribers and opsEmails in it`,
      },
    ]);
  }
  if (existsSync(path) && exampleCopy(path, join(root, EXAMPLE_DEPLOY_CONFIG_FILE))) {
    throw new DeploymentConfigError(path, [
      {
        path: '',
        message: `this is an unchanged copy of ${EXAMPLE_DEPLOY_CONFIG_FILE}, and its contacts are fictional: put your stage, subscribers and opsEmails in it (a deployment with these would alert nobody)`,
      },
    ]);
  }
  if (!override && !existsSync(path)) {
    throw new DeploymentConfigError(path, [
      {
        path: '',
        message: `no deployment config. Copy ${EXAMPLE_DEPLOY_CONFIG_FILE} to ${DEPLOY_CONFIG_FILE} and put your stage, subscribers and opsEmails in it (README: Deploy), or pass -c deployConfig=PATH. Nothing is deployed without one: the example's contacts are fictional.`,
      },
    ]);
  }
  return path;
}

/** Reads a deployment config and checks it against the admin config: every problem at once, as a
 * DeploymentConfigError naming the file and each key. */
export function loadDeployment(path: string, adminConfig: CompiledConfig): DeploymentCheck {
  return loadDeploymentFile(path, adminConfig);
}

/** A `-c key=value` the app cannot use. */
export class ContextError extends Error {
  override name = 'ContextError';
}

/** Reads a CDK context value that must be a whole number in a range, failing with its name. */
export function intContext(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ContextError(`context ${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
