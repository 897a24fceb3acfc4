// Checks a deployment config (deploy.config.json) against the admin config it will be deployed
// with, and reports every problem at once: the schema's (phone numbers, addresses, keys), the
// admin config's (audience, district, local authority), duplicates and what production needs.
// A file holds one force, or several under `forces`, each deployed as its own stack pair.
// The CDK app and `queuewatch subscribers check` both use it, so they agree.

import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type CompiledConfig, ConfigError } from '../config/compile.ts';
import { maskContacts } from '../config/contacts.ts';
import { DEFAULT_CONFIG_PATH, formatPath, loadConfig, zodIssues } from '../config/load.ts';
import { clockMinutes } from '../domain/calendar.ts';
import { jsonErrorAt, jsonLines, repeatedKeys } from '../domain/json-keys.ts';
import { type Coverage, coverageOf } from './coverage.ts';
import { prefixPattern } from './names.ts';
import { type Deployment, deploymentSchema, productionIssues, signalsAtSchema } from './subscriptions.ts';

export interface DeploymentIssue {
  /** Key path in the file, like `subscribers[2].endpoint`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** A deployment config that cannot be deployed: every problem, each with its key path. Never
 * carries a whole phone number or address. */
const NO_FORCE = 'no force ';
/** The problem of a force asked for by its stage that the file does not have. */
export const isUnknownForce = (issue: DeploymentIssue) =>
  issue.path === '' && issue.message.startsWith(NO_FORCE);

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
  readonly issues: DeploymentIssue[];
  /** The issues as found, for this module to place and prefix (never shown, never serialised). */
  readonly #found: DeploymentIssue[];
  constructor(
    readonly source: string,
    found: DeploymentIssue[],
    options?: ErrorOptions,
  ) {
    const issues = found.map((i) => ({ path: maskContacts(i.path), message: maskContacts(i.message) }));
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
    this.issues = issues;
    this.#found = found;
  }

  static found(error: DeploymentConfigError): DeploymentIssue[] {
    return error.#found;
  }
}

export interface DeploymentWarning {
  id: string;
  message: string;
  /** The entry it is about, like `subscribers[2]`, when it is about one. */
  path?: string;
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
  configSource = 'the admin config',
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
  if (deployment.smsSpendLimitUsd === undefined && deployment.subscribers.some((s) => s.protocol === 'sms')) {
    warnings.push({
      id: 'no-sms-spend-limit',
      message:
        "no smsSpendLimitUsd: nothing warns before the account's SMS spend limit (USD 1 a month on a new account) stops every SMS; set it to the limit set in SNS",
    });
  }
  // With no subscribers at all, one warning says it; a line per audience would only repeat it.
  if (deployment.subscribers.length > 0) {
    for (const gap of coverage.gaps) warnings.push({ id: `uncovered-${gap.audience}`, message: gap.message });
    for (const gap of coverage.digestGaps)
      warnings.push({ id: `undelivered-digest-${gap.audience}`, message: gap.message });
  }
  deployment.subscribers.forEach((s, i) => {
    if (coverage.neverAlerted.includes(s.audience)) {
      warnings.push({
        id: `unrouted-subscriber-${i}`,
        path: `subscribers[${i}]`,
        message: `subscribers[${i}]: no route alerts audience '${s.audience}', so this subscriber receives nothing`,
      });
    }
  });
  const digestAudiences = new Set(config.file.digest?.audiences ?? []);
  for (const { index, alertedAt } of coverage.unheard) {
    const s = deployment.subscribers[index];
    if (!s) continue;
    const digest = s.protocol === 'email' && digestAudiences.has(s.audience) ? ' but the daily digest' : '';
    warnings.push({
      id: `unheard-subscriber-${index}`,
      path: `subscribers[${index}]`,
      message: `subscribers[${index}]: levels ${(s.levels ?? []).join(', ')}, but audience '${s.audience}' is alerted there at ${alertedAt.join(', ')} only, so this subscriber receives nothing${digest}`,
    });
  }
  const late = signalsTooLate(deployment, config, 'signalsAt' in raw, source, configSource);
  if (late) warnings.push(late);
  return { deployment, coverage, warnings };
}

/** How long before the digest falls due the morning signals run must start: the digest runs each
 * quarter of an hour and reads the signals' states once, when it goes out, so a whole cycle covers
 * the run itself (at most 5 minutes) and either schedule firing late. */
/** Where a deployment's settings are read from by default (git-ignored: it holds real contacts). */
export const DEPLOY_CONFIG_FILE = 'deploy.config.json';

/** The committed example deployment config, beside the shipped admin config's folder. Its contacts
 * are fictional: a synth refuses it, and a copy of it never filled in. */
export const EXAMPLE_DEPLOY_CONFIG_FILE = 'deploy.config.example.json';
export const EXAMPLE_DEPLOY_CONFIG_PATH = join(
  dirname(dirname(DEFAULT_CONFIG_PATH)),
  EXAMPLE_DEPLOY_CONFIG_FILE,
);

/** Whether two paths name one file. */
export const sameFile = (a: string, b: string): boolean => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
};

/** Whether a file holds the example's settings unchanged (a copy made and never filled in). */
export const exampleCopy = (path: string, example = EXAMPLE_DEPLOY_CONFIG_PATH): boolean => {
  try {
    return isDeepStrictEqual(
      JSON.parse(readFileSync(path, 'utf8')),
      JSON.parse(readFileSync(example, 'utf8')),
    );
  } catch {
    return false; // unreadable or not JSON: the deployment check says what is wrong with it
  }
};

export const SIGNALS_BEFORE_DIGEST_MINUTES = 15;

const clockOf = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** A warning when the morning signals run (the deployment's `signalsAt`) does not start a digest
 * cycle before the daily digest (the admin config's `digest.at`) on the same London day: the
 * digest would show the rates and shares as the previous morning judged them, a fall a day late
 * and a cleared signal still raised. Both are London times; the signals judge the day that ended
 * at midnight, so a run after the digest, or before midnight, is a day late too. */
export function signalsTooLate(
  deployment: Pick<Deployment, 'signalsAt'>,
  config: CompiledConfig,
  given: boolean,
  source: string,
  configSource: string,
): DeploymentWarning | undefined {
  const { digest } = config.file;
  const { signals } = config;
  const judgedDaily = signals.configured && signals.rates.length + signals.proportions.length > 0;
  if (digest.audiences.length === 0 || !judgedDaily) return undefined;
  const latest = clockMinutes(digest.at) - SIGNALS_BEFORE_DIGEST_MINUTES;
  if (clockMinutes(deployment.signalsAt) <= latest) return undefined;
  const signalsAt = `signalsAt ${deployment.signalsAt}${given ? '' : ' (the default)'} in ${source}`;
  const fix =
    latest >= 0
      ? `set signalsAt to ${clockOf(latest)} or earlier, or digest.at later`
      : `set digest.at to ${clockOf(SIGNALS_BEFORE_DIGEST_MINUTES)} or later and signalsAt between midnight and ${SIGNALS_BEFORE_DIGEST_MINUTES} minutes before it`;
  return {
    id: 'signals-after-digest',
    path: 'signalsAt',
    message: `${signalsAt} is not at least ${SIGNALS_BEFORE_DIGEST_MINUTES} minutes before digest.at ${digest.at} in ${configSource}: the daily digest reads the signals once, when it goes out, so what the morning signals run judges would reach it a day late (a fall shown the next day, a cleared signal still shown as raised); ${fix}`,
  };
}

/** The morning signals run's time that a deployment config file gives a stage (the default when the
 * force sets none), with whether it was given: what `config push` checks a new `digest.at` against.
 * Undefined when the file has no force of that stage, or gives it no valid time (the deployment's
 * own check names that). A file that cannot be read or is not JSON is a DeploymentConfigError. */
export function signalsAtOf(path: string, stage: string): { signalsAt: string; given: boolean } | undefined {
  const raw = parseDeploymentJson(path, readDeploymentText(path));
  const entries: unknown[] = isRecord(raw) && Array.isArray(raw.forces) ? raw.forces : [raw];
  const force = entries.find((entry) => isRecord(entry) && entry.stage === stage);
  if (!isRecord(force)) return undefined;
  const parsed = signalsAtSchema.safeParse(force.signalsAt);
  return parsed.success ? { signalsAt: parsed.data, given: 'signalsAt' in force } : undefined;
}

/** Reads a deployment config file and checks it; a missing or malformed file is a
 * DeploymentConfigError naming the file (never quoting its content). */
export function loadDeploymentFile(path: string, config: CompiledConfig): DeploymentCheck {
  const { checked, lineOf } = checkFile(path, (raw) => checkDeployment(raw, config, path));
  return { ...checked, warnings: placedWarnings(checked.warnings, '', lineOf) };
}

/** Reads a deployment config file and runs `check` on its JSON. Every problem comes back in one
 * DeploymentConfigError, in the file's order, each with the line of its key; a key given twice in
 * one object is one of them (JSON.parse would keep the last without a word). */
function checkFile<T>(
  path: string,
  check: (raw: unknown) => T,
): { checked: T; lineOf: (path: string) => number | undefined } {
  const text = readDeploymentText(path);
  const raw = parseDeploymentJson(path, text);
  const issues: DeploymentIssue[] = repeatedKeys(text).map(({ path: at, key }) => ({
    path: formatPath([...at, key]),
    message: `the key ${key} is given more than once (only one value can count)`,
  }));
  let checked: T | undefined;
  try {
    checked = check(raw);
  } catch (error) {
    if (!(error instanceof DeploymentConfigError)) throw error;
    issues.push(...DeploymentConfigError.found(error));
  }
  // A file written on one line (by a script) has nothing a line number would point to.
  const lineOf = text.trimEnd().includes('\n') ? jsonLines(text) : () => undefined;
  if (issues.length > 0 || checked === undefined)
    throw new DeploymentConfigError(path, placed(issues, lineOf));
  return { checked, lineOf };
}

/** Issues with the line of their key added, in the order of those lines: problems of the whole
 * file first, those of a key the file leaves out last, each group in the order it came. */
function placed(issues: DeploymentIssue[], lineOf: (path: string) => number | undefined): DeploymentIssue[] {
  return issues
    .map((issue) => ({ issue, line: issue.path ? lineOf(issue.path) : 0 }))
    .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER))
    .map(({ issue, line }) => (line ? { ...issue, message: `${issue.message} (line ${line})` } : issue));
}

/** A deployment config file's text; a DeploymentConfigError naming the file when there is none. */
function readDeploymentText(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'unknown error'})`;
    throw new DeploymentConfigError(path, [{ path: '', message }], { cause: error });
  }
  // A byte-order mark (some Windows editors write one) is not part of the JSON.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A deployment config file's JSON; a DeploymentConfigError saying where it stops being JSON. */
function parseDeploymentJson(path: string, text: string): unknown {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text around the fault, which may be a phone number.
    throw new DeploymentConfigError(
      path,
      [{ path: '', message: `not valid JSON${placeOf(jsonErrorAt(text, error))}` }],
      {
        cause: error,
      },
    );
  }
  return raw;
}

/** One force of a deployment config, checked against the admin config it is deployed with. */
export interface ForceCheck extends DeploymentCheck {
  /** Where it is in the file: `forces[1]`, or '' in a file that is one force. */
  where: string;
  /** The admin config file (absolute): the force's own `adminConfig`, else the default. */
  adminConfigPath: string;
  adminConfig: CompiledConfig;
}

export interface ForcesOptions {
  /** The admin config of a force that names none (default: the shipped config). */
  defaultAdminConfig?: string;
  /** Check and return only this force (its stage); of the others, only their stages are read. */
  only?: string;
}

/** Reads a deployment config file of either shape and checks each force against its admin config:
 * every problem of every force at once, as one DeploymentConfigError naming the file and each key. */
export function loadForcesFile(path: string, options: ForcesOptions = {}): ForceCheck[] {
  const { checked, lineOf } = checkFile(path, (raw) =>
    checkForces(raw, { ...options, source: path, baseDir: dirname(path) }),
  );
  return checked.map((force) => ({
    ...force,
    warnings: placedWarnings(force.warnings, force.where, lineOf),
  }));
}

/** Warnings about one entry of the file (a subscriber) with the line of that entry added. */
function placedWarnings(
  warnings: DeploymentWarning[],
  where: string,
  lineOf: (path: string) => number | undefined,
): DeploymentWarning[] {
  return warnings.map((warning) => {
    const line =
      warning.path === undefined ? undefined : lineOf([where, warning.path].filter(Boolean).join('.'));
    return line === undefined ? warning : { ...warning, message: `${warning.message} (line ${line})` };
  });
}

/**
 * The forces of a deployment config (parsed JSON): a file that is one force (`stage`, ...) gives
 * one; a file with `forces: [...]` gives each, in order. Stages must be distinct and no stage may
 * be another's plus a dash, so that every pattern naming one force's resources (`queuewatch-north-*`
 * in a key policy or a `cdk deploy` selector) names none of another's. A force's `adminConfig` is
 * read relative to `baseDir` (the file's folder).
 */
export function checkForces(
  raw: unknown,
  options: ForcesOptions & { source: string; baseDir: string },
): ForceCheck[] {
  const { source } = options;
  if (!isRecord(raw)) {
    throw new DeploymentConfigError(source, [{ path: '', message: 'must be a JSON object' }]);
  }
  const issues: DeploymentIssue[] = [];
  const entries: Array<{ where: string; raw: unknown }> = [];
  if ('forces' in raw) {
    for (const key of Object.keys(raw).filter((k) => k !== 'forces')) {
      issues.push({
        path: key,
        message: `a file with "forces" holds only the list: put ${key} in each force it is for`,
      });
    }
    if (!Array.isArray(raw.forces) || raw.forces.length === 0) {
      issues.push({ path: 'forces', message: 'must be a list of one or more forces' });
    } else {
      raw.forces.forEach((force: unknown, i) => {
        entries.push({ where: `forces[${i}]`, raw: force });
      });
    }
  } else {
    entries.push({ where: '', raw });
  }

  const stages: Array<{ where: string; stage: string }> = [];
  for (const entry of entries) {
    const stage = isRecord(entry.raw) ? entry.raw.stage : undefined;
    if (typeof stage !== 'string') continue;
    for (const other of stages) {
      if (other.stage === stage) {
        issues.push({
          path: `${entry.where}.stage`,
          message: `same stage as ${other.where}: each force needs its own (it names every resource of the force)`,
        });
      } else if (stage.startsWith(`${other.stage}-`) || other.stage.startsWith(`${stage}-`)) {
        const [short, long] = stage.length < other.stage.length ? [stage, other.stage] : [other.stage, stage];
        issues.push({
          path: `${entry.where}.stage`,
          message: `'${long}' is '${short}' plus a dash (with ${other.where}), so whatever names all of ${prefixPattern(short)} (a key policy, a cdk deploy selector) would take in the other force too: rename one`,
        });
      }
    }
    stages.push({ where: entry.where, stage });
  }

  let selected = entries;
  if (options.only !== undefined) {
    selected = entries.filter((e) => isRecord(e.raw) && e.raw.stage === options.only);
    if (selected.length === 0 && issues.length === 0) {
      const known = stages.map((s) => s.stage).join(', ') || 'none';
      issues.push({ path: '', message: `${NO_FORCE}'${options.only}' here (its forces: ${known})` });
    }
  }

  const loaded = new Map<string, CompiledConfig>();
  const checks: ForceCheck[] = [];
  const at = (where: string, path: string) => [where, path].filter(Boolean).join('.');
  for (const entry of selected) {
    const named = isRecord(entry.raw) ? entry.raw.adminConfig : undefined;
    const adminConfigPath =
      typeof named === 'string' && named !== ''
        ? resolve(options.baseDir, named)
        : resolve(options.defaultAdminConfig ?? DEFAULT_CONFIG_PATH);
    let adminConfig = loaded.get(adminConfigPath);
    if (!adminConfig) {
      try {
        adminConfig = loadConfig(adminConfigPath);
        loaded.set(adminConfigPath, adminConfig);
      } catch (error) {
        // The default admin config's problems are the caller's to report, as they always were.
        if (!(error instanceof ConfigError) || typeof named !== 'string') throw error;
        for (const problem of error.issues) {
          issues.push({
            path: at(entry.where, 'adminConfig'),
            message: `${named}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`,
          });
        }
        continue;
      }
    }
    try {
      const check = checkDeployment(entry.raw, adminConfig, source, adminConfigPath);
      checks.push({ ...check, where: entry.where, adminConfigPath, adminConfig });
    } catch (error) {
      if (!(error instanceof DeploymentConfigError)) throw error;
      for (const problem of DeploymentConfigError.found(error))
        issues.push({ ...problem, path: at(entry.where, problem.path) });
    }
  }
  if (issues.length > 0) throw new DeploymentConfigError(source, issues);
  return checks;
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

const placeOf = (at: { line: number; column: number } | undefined) =>
  at ? ` (line ${at.line}, column ${at.column})` : '';
