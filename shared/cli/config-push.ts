// The config in SSM Parameter Store, where the deployed scan reads it: `config push` validates and
// publishes a file, `config show` prints what is in force, `config diff` compares a file with it.
// Nothing invalid is ever pushed.

import { existsSync, readFileSync } from 'node:fs';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { parse, stringify } from 'yaml';
import { MIRROR_TABLE } from '../adapters/tables.ts';
import { type CompiledConfig, ConfigError } from '../config/compile.ts';
import { parseConfigJson } from '../config/json.ts';
import { configFileJson, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts';
import {
  configTextOf,
  describeTier,
  type ParameterTier,
  parameterTier,
  storedConfigValue,
} from '../config/stored.ts';
import {
  DEPLOY_CONFIG_FILE,
  DeploymentConfigError,
  signalsAtOf,
  signalsTooLate,
} from '../delivery/deploy-config.ts';
import { ssmClient } from './aws.ts';
import { configWarnings } from './config-check.ts';
import type { InForce as ConfigInForce } from './config-removals.ts';
import { callService, type ServiceTarget } from './errors.ts';
import { EXIT, plural, print, UsageError } from './output.ts';
import { configParameterName, stagePrefix, type TableTarget } from './targets.ts';

export interface ParameterOptions {
  stage?: string;
  parameter?: string;
  endpoint?: string;
  region?: string;
}

function parameterOf(options: ParameterOptions): string {
  if (options.parameter !== undefined) return options.parameter;
  if (options.stage !== undefined) return configParameterName(options.stage);
  throw new UsageError(
    `name the stage: --stage STAGE (the parameter is ${configParameterName('STAGE')}), or --parameter NAME`,
  );
}

async function withSsm<T>(
  options: ParameterOptions,
  name: string,
  use: (client: SSMClient) => Promise<T>,
): Promise<T> {
  const target: ServiceTarget = {
    service: 'SSM',
    resource: name,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
  const client = ssmClient(options);
  try {
    return await callService(target, () => use(client));
  } finally {
    client.destroy();
  }
}

export interface Pushed {
  name: string;
  version: number;
  /** The tier the parameter is in (or needs, where the server does not say). */
  tier: ParameterTier;
  /** What the stored value is, in bytes, and the tier it needs, in words. */
  size: string;
}

/** Validates a config file and publishes it; throws a ConfigError naming every problem. */
export async function pushConfig(file: string, options: ParameterOptions): Promise<Pushed> {
  const name = parameterOf(options);
  const value = storedConfigValue(configFileJson(file));
  const needed = parameterTier(value);
  if (needed === undefined) {
    throw new ConfigError([{ path: '', message: `${file} is ${describeTier(value)}` }]);
  }
  return withSsm(options, name, async (client) => {
    const response = await client.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'String',
        Overwrite: true,
        // Standard while the config fits in 4 KB, Advanced beyond; unlike a fixed 'Standard', it
        // does not fail on a parameter that is already Advanced.
        Tier: 'Intelligent-Tiering',
        Description: 'queuewatch admin config (pushed by queuewatch config push)',
      }),
    );
    const tier = response.Tier === 'Standard' || response.Tier === 'Advanced' ? response.Tier : needed;
    return { name, version: response.Version ?? 0, tier, size: describeTier(value) };
  });
}

export interface PushOptions extends ParameterOptions {
  /** The mirror whose open cases the config must still be able to read (default: the stage's). */
  mirrorTable?: string;
  /** A local DynamoDB holding it (default: --endpoint, where moto serves both). */
  mirrorEndpoint?: string;
  /** Push even when open cases still use a district or category the config drops. */
  allowRemoval?: boolean;
  /** The deployment config whose `signalsAt` for the stage the new `digest.at` is checked against
   * (default: deploy.config.json, when there is one). */
  deployConfig?: string;
}

/** The deployment check warns when the morning signals run (`signalsAt`, set at deploy) is not a
 * quarter of an hour before `digest.at`; a push moves `digest.at` without a deploy, so it says the
 * same, against the stage's `signalsAt` in the deployment config. Without one, a push that moves
 * the digest says it could not check. */
function digestTimingWarnings(
  next: CompiledConfig,
  path: string,
  inForce: ConfigInForce,
  options: PushOptions,
): string[] {
  const { stage } = options;
  if (stage === undefined || next.file.digest.audiences.length === 0) return [];
  const file = options.deployConfig ?? DEPLOY_CONFIG_FILE;
  const moved = next.file.digest.at !== inForce.config.file.digest.at;
  const unchecked = (why: string) =>
    moved
      ? [
          `digest.at moves to ${next.file.digest.at}, not checked against the morning signals run (the deployment's signalsAt, at least 15 minutes before it): ${why}`,
        ]
      : [];
  if (options.deployConfig === undefined && !existsSync(file)) {
    return unchecked(`no ${file} here; pass --deploy-config PATH`);
  }
  let found: ReturnType<typeof signalsAtOf>;
  try {
    found = signalsAtOf(file, stage);
  } catch (error) {
    if (!(error instanceof DeploymentConfigError)) throw error;
    return unchecked(error.message);
  }
  if (!found) return unchecked(`${file} has no force of stage ${stage} with a valid signalsAt`);
  const late = signalsTooLate({ signalsAt: found.signalsAt }, next, found.given, file, path);
  return late ? [late.message] : [];
}

function mirrorOf(options: PushOptions): TableTarget {
  const tableName =
    options.mirrorTable ??
    (options.stage !== undefined ? `${stagePrefix(options.stage)}-${MIRROR_TABLE.id}` : undefined);
  if (tableName === undefined) {
    throw new UsageError(
      'name the mirror whose open cases to check the config against: --mirror-table NAME (with --stage it is the stage’s own)',
    );
  }
  const endpoint = options.mirrorEndpoint ?? options.endpoint;
  return {
    tableName,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
  };
}

const warn = (line: string) => process.stderr.write(`queuewatch: ${line}\n`);

/** Validates, checks the stage's mirror, and publishes: refused (exit 1) when open cases still use a
 * district or category the config drops, unless --allow-removal. */
export async function pushConfigCommand(file: string | undefined, options: PushOptions): Promise<number> {
  const path = file ?? DEFAULT_CONFIG_PATH;
  const next = loadConfig(path);
  parameterOf(options);
  // What `config check` would warn of is said here too: a push is where it takes effect.
  for (const warning of configWarnings(next, Date.now())) warn(`warning: ${warning}`);
  const mirror = mirrorOf(options);
  const { checkMirror, configInForce, describeMirrorCheck, REMOVAL_ADVICE } = await import(
    './config-removals.ts'
  );
  const inForce = await configInForce(options);
  for (const warning of digestTimingWarnings(next, path, inForce, options)) warn(`warning: ${warning}`);
  const check = await checkMirror(mirror, next, inForce);
  const [verdict = '', ...details] = describeMirrorCheck(check, path, inForce);
  if (check.read === undefined && options.mirrorTable !== undefined && !options.allowRemoval) {
    // A mirror named outright that is not there is most likely a typo: pushing unchecked could drop
    // a district or category the real mirror's open cases use.
    warn(
      `refused: there is no mirror table ${check.table} (--mirror-table), so the config could not be checked against its open cases; nothing pushed. Check the name, --region and --mirror-endpoint; to push unchecked, add --allow-removal`,
    );
    return EXIT.unavailable;
  }
  if (check.removed.length > 0 && !options.allowRemoval) {
    warn(`refused: ${verdict}`);
    for (const line of details) process.stderr.write(`${line}\n`);
    process.stderr.write(
      `${REMOVAL_ADVICE} To push anyway, knowing those cases go unalerted, add --allow-removal.\n`,
    );
    return EXIT.failed;
  }
  warn(verdict);
  for (const line of details) process.stderr.write(`${line}\n`);
  if (check.removed.length > 0) {
    const cases = check.removed.reduce((sum, p) => sum + p.openCases, 0);
    warn(
      `warning: pushing anyway (--allow-removal): up to ${plural(cases, 'open case')} will get no alert until ${cases === 1 ? 'it moves' : 'they move'} on or the config knows ${cases === 1 ? 'its' : 'their'} district and category again`,
    );
  }
  const pushed = await pushConfig(path, options);
  print(`pushed ${path} to ${pushed.name} (version ${pushed.version}); the scan uses it within a minute`);
  print(`size: ${pushed.size}`);
  return EXIT.ok;
}

interface InForce {
  name: string;
  value: string;
  version: number;
  lastModified?: Date;
}

/** The config pushed to a stage, or undefined when none has been. */
export async function fetchInForce(options: ParameterOptions): Promise<InForce | undefined> {
  const name = parameterOf(options);
  return withSsm(options, name, async (client) => {
    try {
      const { Parameter } = await client.send(new GetParameterCommand({ Name: name }));
      return {
        name,
        value: Parameter?.Value ?? '',
        version: Parameter?.Version ?? 0,
        ...(Parameter?.LastModifiedDate ? { lastModified: Parameter.LastModifiedDate } : {}),
      };
    } catch (error) {
      if (error instanceof Error && error.name === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
}

const NOTHING_PUSHED = (name: string) =>
  `nothing has been pushed to ${name}: the scan runs on the config bundled at its last deploy (if no stage of that name is deployed, check the stage)`;

/** What a stored value holds: its config text and, where it is one, its JSON; else what is wrong
 * (a value written by hand, or damaged). */
function readStored(value: string): { text?: string; json?: unknown; problem?: string } {
  let text: string;
  try {
    text = configTextOf(value);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problem: error.issues.map((i) => i.message).join('; ') };
  }
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return {
      text,
      problem: 'the stored value is not JSON (a value written by hand? `config push` stores JSON)',
    };
  }
}

export async function showConfigCommand(options: ParameterOptions & { json?: boolean }): Promise<void> {
  const inForce = await fetchInForce(options);
  if (!inForce) {
    print(NOTHING_PUSHED(parameterOf(options)));
    return;
  }
  const stored = readStored(inForce.value);
  if (options.json) {
    if (stored.json === undefined) {
      throw new ConfigError([{ path: inForce.name, message: stored.problem ?? 'not readable' }]);
    }
    print(stored.text as string);
    return;
  }
  const pushedAt = inForce.lastModified ? `, pushed ${inForce.lastModified.toISOString()}` : '';
  const size =
    stored.text !== undefined
      ? describeTier(inForce.value)
      : `${Buffer.byteLength(inForce.value).toLocaleString('en-GB')} bytes stored`;
  print(`${inForce.name}: version ${inForce.version}${pushedAt}, ${size}`);
  const notValid = (lines: string[]) => {
    print('NOT VALID: the scan ignores it and keeps its last good config (or the bundled one):');
    for (const line of lines) print(`  ${line}`);
  };
  if (stored.json === undefined) {
    notValid([stored.problem ?? 'not readable']);
    print('`config push` replaces it.');
    return;
  }
  try {
    const config = parseConfigJson(stored.text as string, inForce.name);
    print(
      `valid: ${plural(config.rules.length, 'rule')}, ${plural(config.file.routes.length, 'route')}, ${plural(Object.keys(config.file.audiences).length, 'audience')}; the scan uses it`,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    notValid(error.issues.map((issue) => `${issue.path ? `${issue.path}: ` : ''}${issue.message}`));
  }
  print('---');
  process.stdout.write(stringify(stored.json));
}

/** Exit status 0 when the file is what is in force, 1 when they differ. */
export async function diffConfigCommand(
  file: string | undefined,
  options: ParameterOptions,
): Promise<number> {
  const path = file ?? DEFAULT_CONFIG_PATH;
  for (const warning of configWarnings(loadConfig(path), Date.now())) warn(`warning: ${warning}`);
  const inForce = await fetchInForce(options);
  if (!inForce) {
    print(`${NOTHING_PUSHED(parameterOf(options))}; pushing ${path} would change what is in force`);
    return EXIT.failed;
  }
  const stored = readStored(inForce.value);
  if (stored.json === undefined) {
    print(
      `${inForce.name} (version ${inForce.version}) holds no config that can be compared: ${stored.problem}; pushing ${path} would replace it`,
    );
    return EXIT.failed;
  }
  const differences = diffConfigs(stored.json, parse(readFileSync(path, 'utf8')));
  if (differences.length === 0) {
    print(`${path} is what is in force on ${inForce.name} (version ${inForce.version})`);
    return EXIT.ok;
  }
  print(
    `${inForce.name} (version ${inForce.version}, in force) -> ${path}: ${plural(differences.length, 'difference')}`,
  );
  for (const d of differences) print(`  ${describeDifference(d)}`);
  return EXIT.failed;
}

export interface Difference {
  path: string;
  /** Absent: the file adds it. */
  inForce?: unknown;
  /** Absent: the file removes it. */
  file?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const ruleId = (rule: unknown) => (isObject(rule) && typeof rule.id === 'string' ? rule.id : undefined);

/** Every leaf that differs between two parsed configs. Rules are matched by id, so inserting one
 * shows as one added rule rather than every later rule changed. */
export function diffConfigs(inForce: unknown, file: unknown): Difference[] {
  const out: Difference[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (same(a, b)) return;
    if (a === undefined) out.push({ path, file: b });
    else if (b === undefined) out.push({ path, inForce: a });
    else if (path === 'rules' && Array.isArray(a) && Array.isArray(b) && [...a, ...b].every(ruleId)) {
      const before = new Map(a.map((rule) => [ruleId(rule), rule]));
      b.forEach((rule, i) => {
        walk(before.get(ruleId(rule)), rule, `rules[${i}] (${ruleId(rule)})`);
      });
      const kept = new Set(b.map(ruleId));
      for (const rule of a) if (!kept.has(ruleId(rule))) walk(rule, undefined, `rules (${ruleId(rule)})`);
      if (
        same(
          a.map(ruleId).filter((id) => kept.has(id)),
          b.map(ruleId).filter((id) => before.has(id)),
        )
      )
        return;
      out.push({ path: 'rules (order)', inForce: a.map(ruleId), file: b.map(ruleId) });
    } else if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`);
    } else if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
        walk(a[key], b[key], path ? `${path}.${key}` : key);
      }
    } else {
      out.push({ path, inForce: a, file: b });
    }
  };
  walk(inForce, file, '');
  return out;
}

function brief(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

export function describeDifference(d: Difference): string {
  if (!('inForce' in d)) return `+ ${d.path}: ${brief(d.file)}`;
  if (!('file' in d)) return `- ${d.path}: ${brief(d.inForce)}`;
  return `~ ${d.path}: ${brief(d.inForce)} -> ${brief(d.file)}`;
}
