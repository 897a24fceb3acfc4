// `queuewatch evaluate --cases FILE`: what a run at an instant would send, assuming nothing was
// sent before. Human-readable by default; `--json` for machines.

import { type EvaluateReport, evaluateRecords } from '../app/evaluate.ts';
import { loadConfig } from '../config/load.ts';
import { readCaseFile } from '../io/case-file.ts';
import { plural, print } from './output.ts';

export function formatReport(report: EvaluateReport, full: boolean): string {
  const { cases, levels } = report;
  const out = [
    `as of ${report.at}: ${plural(cases.total, 'record')}, ${cases.open} open, ${cases.closed} closed or acknowledged, ${cases.invalid} invalid`,
    `open cases by level: ${levels.escalation} escalation, ${levels.breach} breach, ${levels.warning} warning, ${levels.none} within limits`,
    `${plural(report.notifications.length, 'notification')} would be sent`,
  ];
  for (const n of report.notifications) {
    out.push(
      '',
      `== ${n.level.toUpperCase()} to ${n.audience}, district ${n.district} (${plural(n.caseRefs.length, 'case')})`,
    );
    out.push('-- SMS --', n.sms, `-- email: ${n.email.subject}`);
    if (full) out.push(n.email.body);
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
  const report = await evaluateRecords(readCaseFile(options.cases), config, options.at ?? nowMs);
  print(options.json ? JSON.stringify(report, null, 2) : formatReport(report, options.full ?? false));
}
