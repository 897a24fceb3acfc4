// `queuewatch local`: the main job on this machine. An embedded DynamoDB, a synthetic queue, and
// the real scan handler on its schedule over simulated time (48 hours in about a minute).

import { TABLE_ENV } from '../adapters/tables.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { tableName } from '../delivery/names.ts';
import { optionalEnv } from '../lambda/env.ts';
import { groupKeysOf } from '../scan/ledger-keys.ts';
import { plural, print, UsageError } from './output.ts';
import { configParameterName } from './targets.ts';

export interface LocalOptions {
  open: number;
  closed: number;
  seed: number;
  hours: number;
  every: number;
  seconds: number;
  /** The simulated start (ms). */
  start: number;
  show: string;
  emails?: boolean;
  config?: string;
  once?: boolean;
  aws?: boolean;
  stage?: string;
  /** A timeline to replay instead of the scan over simulated hours. */
  scenario?: 'iops';
}

export async function localCommand(options: LocalOptions): Promise<void> {
  if (options.aws) {
    await runOnAws(options.stage);
    return;
  }
  // Quiet the Lambda tooling before it loads: this run prints its own story.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  if (options.scenario === 'iops') {
    const { runIopsScenario } = await import('../local/scenario-iops.ts');
    await runIopsScenario({ config: loadConfig(options.config), seed: options.seed, write: print });
    return;
  }
  const { simulate } = await import('../local/simulate.ts');
  const config = loadConfig(options.config);
  const once = options.once ?? false;
  const show = once || options.show === 'all' ? 'all' : new Set(options.show.split(',').map((s) => s.trim()));
  if (show !== 'all') checkShown(config, show);
  await simulate({
    config,
    startMs: options.start,
    open: options.open,
    closed: options.closed,
    seed: options.seed,
    hours: once ? 0 : options.hours,
    everyMinutes: Math.max(1, options.every),
    seconds: once ? 0 : options.seconds,
    show,
    emails: options.emails ?? false,
    write: print,
  });
}

/** The real handler with the real AWS adapters, once: for an engineer checking a deployment. */
async function runOnAws(stage: string | undefined): Promise<void> {
  if (stage) {
    for (const [name, id] of Object.entries(TABLE_ENV)) process.env[id] ??= tableName(stage, name);
    process.env.CONFIG_PARAMETER ??= configParameterName(stage);
  }
  const missing = [
    ...Object.values(TABLE_ENV).filter((v) => v !== 'REJECTS_TABLE' && v !== 'FLOW_TABLE'),
    'ALERT_TOPIC_ARN',
    'OPS_TOPIC_ARN',
    'CONFIG_PARAMETER',
  ].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new UsageError(
      `--aws needs the scan function's environment: set ${missing.join(', ')} (--stage fills in the table and parameter names)`,
    );
  }
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { createScanHandler } = await import('../scan/handler.ts');
  const { awsScanDeps } = await import('../wiring/scan.ts');
  const { summariseRun } = await import('../scan/summary.ts');
  print('running the scan once against AWS: due alerts are really sent');
  // The fallback config as a file a person wrote (YAML or JSON; the shipped one unless
  // DEFAULT_CONFIG_FILE names another), not the JSON a deployed function ships with.
  const shipped = () => loadConfig(optionalEnv('DEFAULT_CONFIG_FILE'));
  const result = await createScanHandler(awsScanDeps(process.env, undefined, shipped))(undefined, {
    awsRequestId: `cli-${Date.now()}`,
  });
  for (const m of result.messages)
    print(
      `sent ${m.kind} to ${m.groups.join(', ')}: ${m.levels.join(', ') || 'resolved'}, ${plural(m.caseRefs.length, 'case')} listed (${m.messageId})`,
    );
  print(JSON.stringify(summariseRun(result)));
}

/** Each `--show` pair names an audience of the config and a district (or a place that audience is
 * alerted at): a misspelt one would otherwise print nothing, and look like a quiet run. */
function checkShown(config: CompiledConfig, pairs: ReadonlySet<string>): void {
  const places = new Set(groupKeysOf(config).map((k) => `${k.audience}@${k.place}`));
  for (const pair of pairs) {
    const [audience = '', where = '', extra] = pair.split('@');
    const known =
      extra === undefined &&
      config.file.audiences[audience] !== undefined &&
      (config.file.districts[where] !== undefined || places.has(pair));
    if (!known) {
      throw new UsageError(
        `--show: ${pair} is not an audience@district of the config (audiences: ${Object.keys(config.file.audiences).join(', ')}; districts: ${Object.keys(config.file.districts).join(', ')}), nor 'all'`,
      );
    }
  }
}
