// What the scan tells ops about its own reading: open cases that fall away at once (an index not
// yet backfilled, items removed from the mirror) are said once, with the numbers, and a fall that
// could not be told is told by the next run.

import { describe, expect, it } from 'vitest';
import { MemoryOpsNotifier, MemoryStateStore } from '#shared/adapters/memory-sinks.ts';
import { OpsReporter } from '#shared/scan/report.ts';
import type { ScanResult } from '#shared/scan/run-scan.ts';

const NOW = Date.parse('2026-11-27T09:00:00Z');
const RUN_MS = 5 * 60_000;

function result(open: number, run: number, readComplete = true): ScanResult {
  return {
    runId: `run-${run}`,
    at: new Date(NOW + run * RUN_MS).toISOString(),
    read: open,
    open,
    levels: { none: open, warning: 0, breach: 0, escalation: 0 },
    openByCategoryAndRisk: {},
    oldestAgeMsByCategory: {},
    invalid: { total: 0, listed: [] },
    unevaluated: { total: 0, listed: [] },
    readComplete,
    groupsDue: 0,
    inFlightElsewhere: 0,
    lostClaims: 0,
    messages: [],
    smsSent: 0,
    emailOnly: 0,
    resolved: 0,
    smsStarved: [],
    failures: [],
    unaudited: [],
    calendarUncovered: 0,
    ledgerEntries: 0,
    ledgerEntriesAfter: 0,
  };
}

/** Runs the reporter over open counts, one run each, a new container whenever asked. */
async function told(opens: Array<number | 'new-container' | 'incomplete'>, ops = new MemoryOpsNotifier()) {
  const state = new MemoryStateStore();
  let reporter = new OpsReporter(ops, state);
  let run = 0;
  let incomplete = false;
  for (const open of opens) {
    if (open === 'new-container') reporter = new OpsReporter(ops, state);
    else if (open === 'incomplete') incomplete = true;
    else {
      run += 1;
      await reporter.send(result(open, run, !incomplete), NOW + run * RUN_MS);
      incomplete = false;
    }
  }
  return ops.messages.map((m) => m.subject);
}

describe('open cases that fall away at once', () => {
  it('are told once, with the numbers, when more than half of at least 20 go in one run', async () => {
    expect(await told([1204, 1180, 0, 0, 3])).toEqual(['open cases fell from 1180 to 0 in one run']);
    // Half exactly is not more than half; from 19 is too few to tell apart from a quiet queue.
    expect(await told([100, 50, 25])).toEqual([]);
    expect(await told([19, 0])).toEqual([]);
    // A slow decline is not a fall.
    expect(await told([100, 60, 36, 22])).toEqual([]);
  });

  it('are measured against the last complete read, across containers', async () => {
    expect(await told([400, 'new-container', 100])).toEqual(['open cases fell from 400 to 100 in one run']);
    // A read that stopped part-way is reported as a failed step, not as a fall, and not learnt.
    expect(await told([400, 'incomplete', 10, 390])).toEqual([]);
  });

  it('are told by the next run when ops could not be told', async () => {
    let down = true;
    const ops = new MemoryOpsNotifier(() => {
      if (down) {
        down = false;
        throw Object.assign(new Error('topic unreachable'), { name: 'InternalErrorException' });
      }
    });
    await told([300, 40, 40], ops);
    expect(ops.messages.map((m) => m.subject)).toEqual([
      'open cases fell from 300 to 40 in one run',
      'open cases fell from 300 to 40 in one run',
    ]);
  });
});
