// `queuewatch subscribers check`: validates a deployment config against the admin config and prints
// who would receive what (phones and inboxes per audience and place) and what nobody receives.

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import type { Coverage } from '../delivery/coverage.ts';
import {
  DEPLOY_CONFIG_FILE,
  type DeploymentCheck,
  DeploymentConfigError,
  EXAMPLE_DEPLOY_CONFIG_FILE,
  EXAMPLE_DEPLOY_CONFIG_PATH,
  exampleCopy,
  type ForceCheck,
  isUnknownForce,
  loadForcesFile,
  sameFile,
} from '../delivery/deploy-config.ts';
import { EXIT, print } from './output.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The coverage table and warnings as an engineer reads them before a deploy. */
export function formatCoverage(check: DeploymentCheck, source: string, configSource: string): string {
  const { deployment, coverage, warnings } = check;
  const phones = deployment.subscribers.filter((s) => s.protocol === 'sms').length;
  const lines = [
    `${source} against ${configSource}: OK; ${plural(deployment.subscribers.length, 'subscriber')} ` +
      `(${plural(phones, 'phone')}, ${plural(deployment.subscribers.length - phones, 'inbox', 'inboxes')}), ` +
      `${plural(deployment.opsEmails.length, 'ops email')}`,
    '',
    ...table(coverage),
  ];
  const digest = digestLine(coverage);
  if (digest) lines.push('', digest);
  if (coverage.signalsOnly.length > 0) {
    lines.push(
      '',
      `hear of silence signals only, no case alert (see \`queuewatch signals show\`): ${coverage.signalsOnly.join(', ')}`,
    );
  }
  if (coverage.neverAlerted.length > 0) {
    lines.push('', `not alerted by any route: ${coverage.neverAlerted.join(', ')}`);
  }
  lines.push('');
  if (warnings.length === 0) lines.push('every audience is received wherever the config alerts it');
  else lines.push(`warnings (${warnings.length}):`, ...warnings.map((w) => `  ${w.message}`));
  return lines.join('\n');
}

/** Where each daily digest is received: it goes to inboxes only, so a place with none gets nothing. */
function digestLine(coverage: Coverage): string | undefined {
  const { at, rows } = coverage.digest;
  if (rows.length === 0) return undefined;
  const audiences = [...new Set(rows.map((r) => r.audience))].map((audience) => {
    const own = rows.filter((r) => r.audience === audience);
    const received = own.filter((r) => r.inboxes > 0).length;
    return own[0]?.scope === 'force'
      ? `${audience}, ${received > 0 ? 'an inbox' : 'no inbox'} (force-wide)`
      : `${audience}, inboxes in ${received} of ${plural(own.length, 'place')}`;
  });
  return `daily digest at ${at} London time (inboxes only): ${audiences.join('; ')}`;
}

function table(coverage: Coverage): string[] {
  const header = ['audience', 'place', 'phones', 'inboxes', 'alerted at', 'nobody receives'];
  const rows = coverage.rows.map((r) => [
    r.audience,
    r.scope === 'force' ? `force (${r.placeName})` : `${r.place} ${r.placeName}`,
    String(r.phones),
    String(r.inboxes),
    r.alertedAt.join(', '),
    r.nobodyAt.length > 0 ? r.nobodyAt.join(', ') : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const numeric = new Set([2, 3]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export interface SubscribersCheckOptions {
  deployConfig?: string;
  /** In a file of several forces, this one alone (its stage). */
  force?: string;
  config?: string;
  strict?: boolean;
  json?: boolean;
}

/** The action of `queuewatch subscribers check` (declared, with its options, in program.ts). */
export function subscribersCheck(options: SubscribersCheckOptions): void {
  const path = resolve(options.deployConfig ?? DEPLOY_CONFIG_FILE);
  let forces: ForceCheck[];
  // A file that cannot be read is a usage error (exit 2), as for every command; one that says
  // something wrong fails the check (exit 1).
  if (!existsSync(path) || !statSync(path).isFile()) {
    const advice = options.deployConfig
      ? existsSync(path)
        ? 'not a file'
        : 'no such file'
      : `no such file: copy ${EXAMPLE_DEPLOY_CONFIG_FILE} to ${DEPLOY_CONFIG_FILE} and put your stage, subscribers and opsEmails in it (README: Deploy), or pass --deploy-config PATH`;
    process.stderr.write(`queuewatch: ${path}: ${advice}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  try {
    forces = loadForcesFile(path, {
      defaultAdminConfig: options.config ?? DEFAULT_CONFIG_PATH,
      ...(options.force !== undefined ? { only: options.force } : {}),
    });
  } catch (error) {
    if (!(error instanceof DeploymentConfigError)) throw error;
    process.stderr.write(`queuewatch: ${error.message}\n`);
    // --force naming a force the file does not have is a bad argument.
    process.exitCode = error.issues.some(isUnknownForce) ? EXIT.usage : EXIT.failed;
    return;
  }
  const source = options.deployConfig ?? DEPLOY_CONFIG_FILE;
  // The example itself is a fair preview; a copy of it never filled in is a deployment to be.
  if (!sameFile(path, EXAMPLE_DEPLOY_CONFIG_PATH) && exampleCopy(path)) {
    process.stderr.write(
      `queuewatch: WARNING: ${source} is an unchanged copy of ${EXAMPLE_DEPLOY_CONFIG_FILE}: its contacts are fictional, and the synth refuses it; put your stage, subscribers and opsEmails in it\n`,
    );
  }
  const [only] = forces;
  // A file that is one force prints as it always has; a list prints each force under its place.
  if (forces.length === 1 && only?.where === '') {
    if (options.json) print(JSON.stringify(coverageJson(only), null, 2));
    else {
      const configSource = only.deployment.adminConfig
        ? only.adminConfigPath
        : (options.config ?? DEFAULT_CONFIG_PATH);
      print(formatCoverage(only, source, configSource));
    }
  } else if (options.json) {
    print(JSON.stringify({ forces: forces.map(coverageJson) }, null, 2));
  } else {
    print(
      forces
        .map((f) => formatCoverage(f, `${source} ${f.where} (${f.deployment.stage})`, f.adminConfigPath))
        .join('\n\n'),
    );
  }
  if (options.strict && forces.some((f) => f.warnings.length > 0)) process.exitCode = 1;
}

function coverageJson(check: DeploymentCheck) {
  return {
    stage: check.deployment.stage,
    production: check.deployment.production,
    coverage: check.coverage.rows,
    neverAlerted: check.coverage.neverAlerted,
    signalsOnly: check.coverage.signalsOnly,
    digest: check.coverage.digest,
    warnings: check.warnings.map((w) => w.message),
  };
}
