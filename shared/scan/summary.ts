// A run's result in brief: what a Lambda returns and a log line shows (no message text).

import type { ScanResult } from './run-scan.ts';

export function summariseRun(result: ScanResult) {
  return {
    runId: result.runId,
    at: result.at,
    read: result.read,
    open: result.open,
    invalid: result.invalid.total,
    unevaluated: result.unevaluated.total,
    readComplete: result.readComplete,
    levels: result.levels,
    groupsDue: result.groupsDue,
    sent: result.messages.length,
    smsSent: result.smsSent,
    emailOnly: result.emailOnly,
    smsStarved: result.smsStarved.length,
    resolved: result.resolved,
    inFlightElsewhere: result.inFlightElsewhere,
    lostClaims: result.lostClaims,
    failures: result.failures.length,
    unaudited: result.unaudited.length,
    calendarUncovered: result.calendarUncovered,
    ledgerEntries: result.ledgerEntries,
    ledgerEntriesAfter: result.ledgerEntriesAfter,
  };
}
