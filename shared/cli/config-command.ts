// `queuewatch config check [FILE]`: validate a config and summarise its rules and routes.

import { Command } from 'commander';
import type { CompiledConfig } from '../config/compile.ts';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { COVERED_UNTIL } from '../domain/bank-holidays.ts';
import { addPushCommand } from './config-push.ts';
import { loadConfigOption, print } from './output.ts';

const describeMatch = (match: Record<string, unknown>) => {
  const parts = Object.entries(match)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length > 0 ? parts.join(' ') : '(any open case)';
};

export function summariseConfig(config: CompiledConfig, source: string, nowMs: number): string {
  const { file } = config;
  const lines = [
    `${source}: OK`,
    `force: ${file.force}; ${file.categories.length} categories, ${Object.keys(file.districts).length} districts in ${Object.keys(file.localAuthorities).length} local authorities`,
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
    `fallback audience: ${file.fallbackAudience} (${config.fallbackCount} case/level combinations reach no route and go there)`,
    `SMS per run: at most ${file.sms.maxPerRun}`,
  );
  const monthsLeft = (Date.parse(`${COVERED_UNTIL}T00:00:00Z`) - nowMs) / (30 * 86_400_000);
  if (monthsLeft < 12) {
    lines.push(
      `warning: the bank-holiday list ends ${COVERED_UNTIL}; add new ones to calendar.extraNonWorkingDays or upgrade`,
    );
  }
  return lines.join('\n');
}

export function configCommand(): Command {
  const config = new Command('config').description('Work with the admin config');
  config
    .command('check')
    .description('Validate a config file and summarise its rules and routes')
    .argument('[file]', 'config file (YAML or JSON)', DEFAULT_CONFIG_PATH)
    .action((file: string) => {
      const compiled = loadConfigOption(file);
      print(summariseConfig(compiled, file, Date.now()));
    });
  addPushCommand(config);
  return config;
}
