// `queuewatch evaluate --cases FILE`: what a run at an instant would send, assuming nothing was
// sent before. Human-readable by default; `--json` for machines.

import { type EvaluateReport, evaluateRecords } from '../app/evaluate.ts';
import { loadConfig } from '../config/load.ts';
import { readCaseFile } from '../io/case-file.ts';
import { configWarnings } from './config-check.ts';
import { plural, print } from './output.ts';

export function formatReport(report: EvaluateReport, full: boolean): string {
  const { cases, levels } = report;
  const out = [
    `as of ${report.at}: ${plural(cases.total, 'record')}, ${cases.open} open, ${cases.closed} closed or acknowledged, ${cases.invalid} invalid`,
    `open cases by level: ${levels.escalation} escalation, ${levels.breach} breach, ${levels.warning} warning, ${levels.none} within limits`,
    `${plural(report.messages.length, 'message')} would be sent (${report.messages.filter((m) => m.sms).length} by SMS)`,
  ];
  if (report.smsStarved.length > 0) {
    const summaries = report.messages.filter((m) => m.kind === 'summary').length;
    out.push(
      `SMS budget reached: ${plural(report.smsStarved.length, 'alert')} go by email only, with ${plural(summaries, 'summary SMS', 'summary SMS')} (one per set of levels)`,
    );
  }
  for (const m of report.messages) {
    const what = m.kind === 'summary' ? 'summary SMS' : `${m.levels.join(', ') || 'resolved'} (${m.kind})`;
    out.push('', `== to ${m.groups.join(', ')}: ${what}`);
    if (m.sms) out.push('-- SMS --', m.sms);
    if (m.email) {
      out.push(`-- email: ${m.email.subject}`);
      if (full) out.push(m.email.body);
    }
  }
  if (report.invalid.length > 0) {
    out.push('', `invalid records (${report.invalid.length}), not evaluated:`);
    for (const i of report.invalid.slice(0, 50)) {
      out.push(`  line ${i.line}${i.caseRef ? ` (${i.caseRef})` : ''}: ${i.reason}`);
    }
    if (report.invalid.length > 50) out.push(`  and ${report.invalid.length - 50} more (use --json for all)`);
  }
  return out.join('\n');
}

export interface EvaluateOptions {
  cases: string;
  config?: string;
  at?: number;
  json?: boolean;
  full?: boolean;
}

export async function evaluateCommand(options: EvaluateOptions, nowMs: number): Promise<void> {
  const config = loadConfig(options.config);
  // A preview of a config is where its warnings matter most: said as `config check` says them.
  for (const warning of configWarnings(config, nowMs))
    process.stderr.write(`queuewatch: warning: ${warning}\n`);
  const report = await evaluateRecords(readCaseFile(options.cases), config, options.at ?? nowMs);
  print(options.json ? JSON.stringify(report, null, 2) : formatReport(report, options.full ?? false));
}
