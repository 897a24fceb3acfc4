// A run's result in brief: what a Lambda returns and a log line shows (no message text).

import type { ScanResult } from './run-scan.ts';

export function summariseRun(result: ScanResult) {
  return {
    runId: result.runId,
    at: result.at,
    read: result.read,
    open: result.open,
    invalid: result.invalid.length,
    levels: result.levels,
    due: result.due,
    sent: result.messages.length,
    smsSent: result.smsSent,
    emailOnly: result.emailOnly,
    resolved: result.resolved,
    failed: result.failed.length,
  };
}
