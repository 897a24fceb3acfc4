// `queuewatch config check [FILE]`: validates a config, summarises its rules and routes, and warns
// about what is valid but probably not meant: cases only the ceiling covers, levels on different
// clocks that can come out of order, a bank-holiday list about to run out; and fails a config too
// big for an SSM parameter.

import { MIRROR_TABLE } from '../adapters/tables.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { ceilingOnlyGaps, describeGap } from '../config/coverage.ts';
import { configFileJson, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts';
import { describeTier, parameterTier, storedConfigValue } from '../config/stored.ts';
import { COVERED_UNTIL } from '../domain/bank-holidays.ts';
import { EXIT, plural, print } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

const describeMatch = (match: Record<string, unknown>) => {
  const parts = Object.entries(match)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length > 0 ? parts.join(' ') : '(any open case)';
};

/** What is valid but probably not meant, one line each. */
export function configWarnings(config: CompiledConfig, nowMs: number): string[] {
  const warnings: string[] = [];
  const { ceiling } = config;
  for (const gap of ceilingOnlyGaps(config)) {
    warnings.push(
      `only the ceiling rule '${ceiling.id}' covers ${describeGap(gap)}: its first warning comes after ${ceiling.warn.text}; add a rule for it`,
    );
  }
  warnings.push(...mixedClockWarnings(config));
  const monthsLeft = (Date.parse(`${COVERED_UNTIL}T00:00:00Z`) - nowMs) / (30 * 86_400_000);
  if (monthsLeft < 12) {
    warnings.push(
      `the bank-holiday list ends ${COVERED_UNTIL}; add new ones to calendar.extraNonWorkingDays or upgrade`,
    );
  }
  return warnings;
}

const DAY_MS = 86_400_000;

/** The longest N working days take, in ms, from any day the bank-holiday list covers (weekends,
 * bank holidays and the config's own non-working days together). */
function longestWorkingDays(config: CompiledConfig, days: number): number {
  const { calendar } = config;
  const from = Date.parse(`${calendar.coverage.from}T12:00:00Z`);
  const until = Date.parse(`${calendar.coverage.until}T12:00:00Z`) - 120 * DAY_MS;
  let longest = days * DAY_MS;
  for (let t = from; t <= until; t += DAY_MS) {
    longest = Math.max(longest, calendar.addWorkingDays(t, days) - t);
  }
  return longest;
}

/** A level on working days before one on elapsed time can come after it: working days stretch
 * over weekends and bank holidays (compile refuses the opposite, and what is always out of order).
 * The engine then holds the later level back until the earlier one (it never alerts out of
 * order), so the later level's limit no longer means what it says. */
function mixedClockWarnings(config: CompiledConfig): string[] {
  const warnings: string[] = [];
  for (const rule of config.rules) {
    const pairs = [
      ['warn', rule.warn, 'breach', rule.breach],
      ['breach', rule.breach, 'escalate', rule.escalate],
    ] as const;
    for (const [earlierName, earlier, laterName, later] of pairs) {
      if (earlier.kind !== 'working-days' || later.kind !== 'elapsed') continue;
      const longest = longestWorkingDays(config, earlier.days);
      if (longest <= later.ms) continue;
      warnings.push(
        `rule '${rule.id}': ${earlierName} ${earlier.text} can come after ${laterName} ${later.text} (${earlier.text} can take up to ${Math.round(longest / DAY_MS)} days over weekends and bank holidays), and then ${laterName} waits for it: make ${laterName} later, or put both on the same clock`,
      );
    }
  }
  return warnings;
}

export function summariseConfig(config: CompiledConfig, source: string, nowMs: number): string {
  const { file } = config;
  const lines = [
    `${source}: OK`,
    `force: ${file.force}; ${plural(file.categories.length, 'category', 'categories')}, ${plural(Object.keys(file.districts).length, 'district')} in ${plural(Object.keys(file.localAuthorities).length, 'local authority', 'local authorities')}`,
    '',
    `rules (${config.rules.length}, most specific match wins):`,
  ];
  const width = Math.max(...config.rules.map((r) => r.id.length));
  for (const rule of config.rules) {
    lines.push(
      `  ${rule.id.padEnd(width)}  warn ${rule.warn.text.padEnd(4)} breach ${rule.breach.text.padEnd(4)} escalate ${rule.escalate.text.padEnd(4)}  ${describeMatch(rule.match)}`,
    );
  }
  lines.push('', `routes (${file.routes.length}, every match adds its audiences):`);
  file.routes.forEach((route, i) => {
    lines.push(`  [${i}] ${describeMatch(route.match)} -> ${route.audiences.join(', ')}`);
  });
  lines.push(
    '',
    `audiences: ${Object.keys(file.audiences).join(', ')}`,
    `repeat: warning every ${config.repeat.warning.text}, breach every ${config.repeat.breach.text}, escalation every ${config.repeat.escalation.text}`,
    `fallback audience: ${file.fallbackAudience} (${plural(config.fallbackCount, 'case/level combination')} ${config.fallbackCount === 1 ? 'reaches' : 'reach'} no route and ${config.fallbackCount === 1 ? 'goes' : 'go'} there)`,
    `alert SMS per run: at most ${file.sms.maxPerRun} (past it, a summary SMS per set of levels)`,
  );
  const warnings = configWarnings(config, nowMs);
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

export interface CheckOptions extends TargetOptions {
  strict?: boolean;
}

const namesMirror = (o: TargetOptions) =>
  o.stage !== undefined || o.endpoint !== undefined || o.prefix !== undefined || o.table !== undefined;

/** Prints the summary, and with a mirror named, what its open cases use that the config drops. The
 * exit status is 1 when the config is too big to push or drops a district or category still in
 * use, and with --strict when there are warnings; 4 when a mirror named by --table is not there. */
export async function checkConfigCommand(
  file: string | undefined,
  options: CheckOptions,
  nowMs: number,
): Promise<number> {
  const path = file ?? DEFAULT_CONFIG_PATH;
  const config = loadConfig(path);
  print(summariseConfig(config, path, nowMs));
  const stored = storedConfigValue(configFileJson(path));
  print(`as an SSM parameter (config push): ${describeTier(stored)}`);
  if (parameterTier(stored) === undefined) {
    // `config push` refuses it, so the check fails (a CI gate on the check would let it through).
    process.stderr.write(`queuewatch: ${path} is too big to push: ${describeTier(stored)}\n`);
    return EXIT.failed;
  }
  const warned = configWarnings(config, nowMs).length > 0;
  if (!namesMirror(options)) {
    process.stderr.write(
      'queuewatch: warning: not checked against a mirror, so a district or category that open cases still use could be dropped unseen: add --stage STAGE (or --endpoint URL, --prefix, --table) to check; `config push` always does\n',
    );
    return options.strict && warned ? EXIT.failed : EXIT.ok;
  }
  const target = tableTarget(options, MIRROR_TABLE.id);
  const { checkMirror, configInForce, describeMirrorCheck, shippedInForce } = await import(
    './config-removals.ts'
  );
  // The config in force is in SSM only on AWS; a local mirror runs on the shipped one.
  const inForce =
    options.stage !== undefined && options.endpoint === undefined
      ? await configInForce({ stage: options.stage, ...(options.region ? { region: options.region } : {}) })
      : shippedInForce();
  const check = await checkMirror(target, config, inForce);
  const described = describeMirrorCheck(check, path, inForce);
  if (check.read === undefined) {
    // Nothing was checked: said on stderr, and an error when the table was named outright.
    for (const line of described) process.stderr.write(`queuewatch: ${line}\n`);
    if (options.table !== undefined) return EXIT.unavailable;
    return options.strict ? EXIT.failed : EXIT.ok;
  }
  print(['', ...described].join('\n'));
  if (check.removed.length > 0) return EXIT.failed;
  return options.strict && (warned || check.unknown.length > 0) ? EXIT.failed : EXIT.ok;
}
