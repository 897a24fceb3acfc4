// Checks a deployment config (deploy.config.json) against the admin config it will be deployed
// with, and reports every problem at once: the schema's (phone numbers, addresses, keys), the
// admin config's (audience, district, local authority), duplicates and what production needs.
// The CDK app and `queuewatch subscribers check` both use it, so they agree.

import { readFileSync } from 'node:fs';
import type { CompiledConfig } from '../config/compile.ts';
import { formatPath, zodIssues } from '../config/load.ts';
import { type Coverage, coverageOf } from './coverage.ts';
import { type Deployment, deploymentSchema, productionIssues } from './subscriptions.ts';

export interface DeploymentIssue {
  /** Key path in the file, like `subscribers[2].endpoint`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** A deployment config that cannot be deployed: every problem, each with its key path. Never
 * carries a whole phone number or address. */
export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
  constructor(
    readonly source: string,
    readonly issues: DeploymentIssue[],
    options?: ErrorOptions,
  ) {
    const n = issues.length;
    const [only] = issues;
    super(
      n === 1 && only && !only.path
        ? `${source}: ${only.message}`
        : `${source}: invalid deployment config (${n} problem${n === 1 ? '' : 's'}):\n${issues
            .map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`)
            .join('\n')}`,
      options,
    );
  }
}

export interface DeploymentWarning {
  id: string;
  message: string;
}

export interface DeploymentCheck {
  deployment: Deployment;
  coverage: Coverage;
  /** What deploys but should be known: no subscribers, no ops email, places nobody hears about.
   * Each has a stable id (for a CDK annotation) and a message. */
  warnings: DeploymentWarning[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What the schema cannot see: names the admin config must know, the scope each audience needs,
 * and one entry per endpoint. Runs on the raw value, so it reports beside the schema's issues. */
function crossCheck(raw: Record<string, unknown>, config: CompiledConfig): DeploymentIssue[] {
  const { file } = config;
  const issues: DeploymentIssue[] = [];
  const districts = Object.keys(file.districts);
  const authorities = Object.keys(file.localAuthorities);
  const seen = new Map<string, string>();

  const subscribers = Array.isArray(raw.subscribers) ? raw.subscribers : [];
  subscribers.forEach((entry: unknown, i) => {
    if (!isRecord(entry)) return;
    const where = `subscribers[${i}]`;
    const { audience, district, localAuthority, protocol, endpoint } = entry;
    if (typeof protocol === 'string' && typeof endpoint === 'string') {
      // Addresses compare without case; SNS would treat two spellings as two subscriptions.
      const key = `${protocol}:${protocol === 'email' ? endpoint.toLowerCase() : endpoint}`;
      const first = seen.get(key);
      if (first) {
        issues.push({
          path: `${where}.endpoint`,
          message: `same ${protocol} endpoint as ${first}: SNS keeps one subscription per endpoint and topic, so give each endpoint one entry (list several levels in its "levels", or leave "levels" out for all)`,
        });
      } else {
        seen.set(key, where);
      }
    }
    if (typeof audience !== 'string') return;
    const scope = file.audiences[audience]?.scope;
    if (!scope) {
      issues.push({
        path: `${where}.audience`,
        message: `unknown audience '${audience}' (known: ${Object.keys(file.audiences).join(', ')})`,
      });
      return;
    }
    const needs = (key: 'district' | 'localAuthority', value: unknown, known: string[], what: string) => {
      if (value === undefined) {
        issues.push({
          path: `${where}.${key}`,
          message: `audience '${audience}' is per ${what}: set ${key} (one of ${known.join(', ')})`,
        });
      } else if (typeof value === 'string' && !known.includes(value)) {
        issues.push({
          path: `${where}.${key}`,
          message: `unknown ${what} '${value}' (known: ${known.join(', ')})`,
        });
      }
    };
    const ignored = (key: 'district' | 'localAuthority', value: unknown, reason: string) => {
      if (value !== undefined) {
        issues.push({
          path: `${where}.${key}`,
          message: `audience '${audience}' is ${reason}: remove ${key}`,
        });
      }
    };
    if (scope === 'district') {
      needs('district', district, districts, 'district');
      ignored('localAuthority', localAuthority, 'per district (its alerts carry the district)');
    } else if (scope === 'local-authority') {
      needs('localAuthority', localAuthority, authorities, 'local authority');
      ignored('district', district, 'per local authority (it hears about all its districts)');
    } else {
      ignored('district', district, 'force-wide (it hears about every district)');
      ignored('localAuthority', localAuthority, 'force-wide (it hears about every district)');
    }
  });

  const opsSeen = new Map<string, string>();
  (Array.isArray(raw.opsEmails) ? raw.opsEmails : []).forEach((email: unknown, i) => {
    if (typeof email !== 'string') return;
    const first = opsSeen.get(email.toLowerCase());
    if (first) issues.push({ path: `opsEmails[${i}]`, message: `same address as ${first}` });
    else opsSeen.set(email.toLowerCase(), `opsEmails[${i}]`);
  });

  for (const issue of productionIssues(raw))
    issues.push({ path: formatPath(issue.path), message: issue.message });
  return issues;
}

/**
 * Validates a deployment config (parsed JSON, or a Deployment built in code) against the admin
 * config. Throws a DeploymentConfigError listing every problem; returns the deployment, its
 * coverage and the warnings a deploy should print.
 */
export function checkDeployment(
  raw: unknown,
  config: CompiledConfig,
  source = 'deployment config',
): DeploymentCheck {
  if (!isRecord(raw)) {
    throw new DeploymentConfigError(source, [{ path: '', message: 'must be a JSON object' }]);
  }
  const parsed = deploymentSchema.safeParse(raw, { reportInput: true });
  const issues: DeploymentIssue[] = parsed.success ? [] : zodIssues(parsed.error);
  // The schema's own production check repeats the cross-check's when the rest parses: keep one.
  const known = new Set(issues.map((i) => `${i.path}\n${i.message}`));
  for (const issue of crossCheck(raw, config)) {
    if (!known.has(`${issue.path}\n${issue.message}`)) issues.push(issue);
  }
  if (issues.length > 0 || !parsed.success) throw new DeploymentConfigError(source, inFileOrder(issues));

  const deployment = parsed.data;
  const coverage = coverageOf(deployment, config);
  const warnings: DeploymentWarning[] = [];
  if (deployment.subscribers.length === 0) {
    warnings.push({
      id: 'no-subscribers',
      message: 'no subscribers: every alert goes to nobody (add them under "subscribers")',
    });
  }
  if (deployment.opsEmails.length === 0) {
    warnings.push({
      id: 'no-ops-emails',
      message: 'no opsEmails: the alarms (a stopped scan, a silent feed, failed deliveries) go to nobody',
    });
  }
  // With no subscribers at all, one warning says it; a line per audience would only repeat it.
  if (deployment.subscribers.length > 0) {
    for (const gap of coverage.gaps) warnings.push({ id: `uncovered-${gap.audience}`, message: gap.message });
  }
  deployment.subscribers.forEach((s, i) => {
    if (coverage.neverAlerted.includes(s.audience)) {
      warnings.push({
        id: `unrouted-subscriber-${i}`,
        message: `subscribers[${i}]: no route alerts audience '${s.audience}', so this subscriber receives nothing`,
      });
    }
  });
  return { deployment, coverage, warnings };
}

/** Reads a deployment config file and checks it; a missing or malformed file is a
 * DeploymentConfigError naming the file (never quoting its content). */
export function loadDeploymentFile(path: string, config: CompiledConfig): DeploymentCheck {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'unknown error'})`;
    throw new DeploymentConfigError(path, [{ path: '', message }], { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text around the fault, which may be a phone number.
    throw new DeploymentConfigError(
      path,
      [{ path: '', message: `not valid JSON${jsonErrorPlace(text, error)}` }],
      {
        cause: error,
      },
    );
  }
  return checkDeployment(raw, config, path);
}

/** Issues in the order of the file's keys and entries, so the list reads top to bottom. */
function inFileOrder(issues: DeploymentIssue[]): DeploymentIssue[] {
  const keys = Object.keys(deploymentSchema.shape);
  const rank = (path: string): number[] => {
    const [key = '', index] = /^([^.[]*)(?:\[(\d+)\])?/.exec(path)?.slice(1) ?? [];
    const k = keys.indexOf(key);
    return [k === -1 ? keys.length : k, index === undefined ? -1 : Number(index)];
  };
  const byRank = (a: number[], b: number[]) => {
    for (let j = 0; j < a.length; j++) {
      const d = (a[j] ?? 0) - (b[j] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  };
  return issues
    .map((issue, i) => ({ issue, rank: [...rank(issue.path), i] }))
    .sort((a, b) => byRank(a.rank, b.rank))
    .map(({ issue }) => issue);
}

function jsonErrorPlace(text: string, error: unknown): string {
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}
