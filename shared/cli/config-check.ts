// `queuewatch config check [FILE]`: validates a config, summarises its rules and routes, and warns
// about what is valid but probably not meant: cases only the ceiling covers, a bank-holiday list
// about to run out, a config too big for a Standard SSM parameter.

import { readFileSync } from 'node:fs';
import type { CompiledConfig } from '../config/compile.ts';
import { ceilingOnlyGaps, describeGap } from '../config/coverage.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts';
import { describeTier, storedConfigValue } from '../config/stored.ts';
import { COVERED_UNTIL } from '../domain/bank-holidays.ts';
import { EXIT, plural, print } from './output.ts';

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
  const monthsLeft = (Date.parse(`${COVERED_UNTIL}T00:00:00Z`) - nowMs) / (30 * 86_400_000);
  if (monthsLeft < 12) {
    warnings.push(
      `the bank-holiday list ends ${COVERED_UNTIL}; add new ones to calendar.extraNonWorkingDays or upgrade`,
    );
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
    `SMS per run: at most ${file.sms.maxPerRun}`,
  );
  const warnings = configWarnings(config, nowMs);
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

/** Prints the summary; the exit status is 1 with --strict when there are warnings. */
export function checkConfigCommand(file: string | undefined, strict: boolean, nowMs: number): number {
  const path = file ?? DEFAULT_CONFIG_PATH;
  const config = loadConfig(path);
  print(summariseConfig(config, path, nowMs));
  print(`as an SSM parameter (config push): ${describeTier(storedConfigValue(readFileSync(path, 'utf8')))}`);
  return strict && configWarnings(config, nowMs).length > 0 ? EXIT.failed : EXIT.ok;
}
