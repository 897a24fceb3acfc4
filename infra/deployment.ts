// Where a deployment's settings come from: deploy.config.json (git-ignored, holds real contacts) or
// the committed example, validated with the shared schema, plus the admin config the subscriptions'
// filter policies are built against.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPath } from '#shared/config/load.ts';
import { type Deployment, deploymentSchema } from '#shared/delivery/subscriptions.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEPLOY_CONFIG_PATH = join(PROJECT_ROOT, 'deploy.config.json');
export const EXAMPLE_DEPLOY_CONFIG_PATH = join(PROJECT_ROOT, 'deploy.config.example.json');
export const SHIPPED_ADMIN_CONFIG_PATH = join(PROJECT_ROOT, 'config', 'queuewatch.yaml');

/** The deployment config to use: an explicit path (context `deployConfig`), else the git-ignored
 * deploy.config.json, else the committed example with its fake contacts. */
export function deployConfigPath(override?: string, root = PROJECT_ROOT): string {
  if (override) return isAbsolute(override) ? override : resolve(process.cwd(), override);
  const real = join(root, 'deploy.config.json');
  return existsSync(real) ? real : join(root, 'deploy.config.example.json');
}

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
}

/** Reads and validates a deployment config, naming the file and key of any problem. */
export function loadDeployment(path: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DeploymentConfigError(`${path}: cannot read deployment config (${(error as Error).message})`, {
      cause: error,
    });
  }
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`);
    throw new DeploymentConfigError(`${path}: invalid deployment config\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

/** Reads a CDK context value that must be a whole number in a range, failing with its name. */
export function intContext(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DeploymentConfigError(`context ${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
