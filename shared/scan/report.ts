// What the scan tells ops, in words that say what happened and what happens next: items it could
// not read, stages that failed, an SMS budget too small for the run, disclosures not yet in the log,
// open cases that fell away all at once, a migration still waiting for its backfill.
// Each kind of report is sent when it changes (or hourly while it lasts), not every five minutes;
// the state table remembers what was said, and memory does when the state table is down. A failure
// to tell ops is logged and counted, and never stops the scan.

import type { OpsNotifier, StateStore } from './ports.ts';
import type { Problems } from './read-cases.ts';
import { errorName } from './retry.ts';
import type { ScanResult } from './run-scan.ts';

export interface OpsReport {
  /** What kind of report: one is kept per kind. */
  kind: 'invalid' | 'failures' | 'sms-budget' | 'calendar' | 'open-drop' | 'open-index';
  /** Changes when the report should be sent again. */
  fingerprint: string;
  subject: string;
  text: string;
}

/** What was last told of a kind of report, and when. */
export interface Told {
  fingerprint: string;
  at: number;
}

const REPEAT_WHILE_ONGOING_MS = 3_600_000;

/** Whether a report is due to ops: what it says changed since it was last told, or it still holds
 * an hour after. Not every run: a failure lasting a day would otherwise fill ops's inbox until nobody
 * reads it. */
export const dueToTell = (before: Told | undefined, fingerprint: string, nowMs: number): boolean =>
  (before?.fingerprint ?? '') !== fingerprint || nowMs - (before?.at ?? 0) >= REPEAT_WHILE_ONGOING_MS;

const STATE_NAME = 'ops-reports';
const KINDS = ['invalid', 'failures', 'sms-budget', 'calendar', 'open-drop', 'open-index'] as const;

/** Open cases fall away this much in one run (from at least OPEN_DROP_MIN) only when something is
 * wrong with reading them, or someone closed them in bulk: either way ops should know. */
export const OPEN_DROP_FACTOR = 0.5;
export const OPEN_DROP_MIN = 20;

const listProblems = (problems: Problems) => {
  const lines = problems.listed
    .slice(0, 20)
    .map((p) => `  ${p.caseRef ?? '(no valid caseRef)'}: ${p.reason}`);
  if (problems.total > lines.length) lines.push(`  and ${problems.total - lines.length} more`);
  return lines.join('\n');
};

/** The reports a run calls for; `previousOpen`: the open cases the last complete run read. */
function reportsFor(result: ScanResult, previousOpen?: number): OpsReport[] {
  const reports: OpsReport[] = [];
  const dropped =
    result.readComplete &&
    previousOpen !== undefined &&
    previousOpen >= OPEN_DROP_MIN &&
    result.open < previousOpen * OPEN_DROP_FACTOR;
  reports.push(
    dropped
      ? {
          kind: 'open-drop',
          fingerprint: `${previousOpen}>${result.open}`,
          subject: `open cases fell from ${previousOpen} to ${result.open} in one run`,
          text: [
            `Run ${result.runId} at ${result.at} read ${result.open} open cases; the run before read ${previousOpen}.`,
            'If nobody closed that many at once, the mirror is not giving the scan every open case: an index',
            'migration step taken before its backfill was complete ("openCasesIndex" removed before',
            '`queuewatch migrate open-index` said the new index holds every open case), or items removed',
            'from the mirror. A case the scan does not read gets no alerts, and one it had alerted on is',
            'listed as resolved within 4 hours. Compare `queuewatch status` with the case system.',
          ].join('\n'),
        }
      : { kind: 'open-drop', fingerprint: '', subject: '', text: '' },
  );
  const held = result.invalid.total + result.unevaluated.total;
  reports.push({
    kind: 'invalid',
    fingerprint: held > 0 ? String(held) : '',
    subject: `${held} mirror items the scan cannot evaluate`,
    text: [
      `The scan left ${held} open items alone this run: their alerts are neither sent nor resolved until`,
      'they can be read again. Fix the items (or the config that no longer knows their values).',
      ...(result.invalid.total > 0
        ? ['', `Not valid under the config in force (${result.invalid.total}):`, listProblems(result.invalid)]
        : []),
      ...(result.unevaluated.total > 0
        ? ['', `Could not be evaluated (${result.unevaluated.total}):`, listProblems(result.unevaluated)]
        : []),
    ].join('\n'),
  });
  if (result.failures.length > 0) {
    const kinds = [...new Set(result.failures.map((f) => `${f.stage}:${f.error}`))].sort();
    reports.push({
      kind: 'failures',
      fingerprint: kinds.join(','),
      subject: `scan run ${result.runId}: ${result.failures.length} failed step${result.failures.length === 1 ? '' : 's'} (${kinds.join(', ')})`,
      text: [
        `Run ${result.runId} at ${result.at} could not complete every step. What failed, and what happens next:`,
        ...result.failures
          .slice(0, 50)
          .map((f) => `  ${f.stage}${f.group ? ` for ${f.group}` : ''}: ${f.error}. ${f.consequence}.`),
        ...(result.failures.length > 50 ? [`  and ${result.failures.length - 50} more`] : []),
      ].join('\n'),
    });
  } else reports.push({ kind: 'failures', fingerprint: '', subject: '', text: '' });
  if (result.smsStarved.length > 0) {
    reports.push({
      kind: 'sms-budget',
      fingerprint: 'starved',
      subject: `SMS budget reached: ${result.smsStarved.length} alert${result.smsStarved.length === 1 ? '' : 's'} went by email only`,
      text: [
        `Run ${result.runId} at ${result.at} had more alerts due than its SMS budget (sms.maxPerRun) covers.`,
        'New escalations and breaches were served first, and places took turns. These went by email only,',
        'and their phones got a summary SMS saying so (one per set of levels):',
        ...result.smsStarved.slice(0, 100).map((g) => `  ${g}`),
        '',
        'If this happens often, raise sms.maxPerRun (and the account SMS spend limit) or tune repeats.',
      ].join('\n'),
    });
  } else reports.push({ kind: 'sms-budget', fingerprint: '', subject: '', text: '' });
  reports.push(
    result.calendarUncovered > 0
      ? {
          kind: 'calendar',
          fingerprint: 'uncovered',
          subject: 'working-day deadlines beyond the bank-holiday list',
          text: [
            `Run ${result.runId} worked out ${result.calendarUncovered} working-day deadlines on dates the built-in`,
            'England and Wales bank-holiday list does not cover. There it counts weekends only (and',
            'calendar.extraNonWorkingDays), so such a deadline can come a day early, never late.',
            'Add the bank holidays to calendar.extraNonWorkingDays (config push) or upgrade queuewatch.',
          ].join('\n'),
        }
      : { kind: 'calendar', fingerprint: '', subject: '', text: '' },
  );
  reports.push(
    result.openIndexNote
      ? {
          kind: 'open-index',
          fingerprint: 'old-index',
          subject: 'the scan still reads the old open-cases index',
          text: `Run ${result.runId} at ${result.at}: ${result.openIndexNote}.`,
        }
      : { kind: 'open-index', fingerprint: '', subject: '', text: '' },
  );
  return reports;
}

export class OpsReporter {
  private readonly said = new Map<string, Told>();
  /** The open cases the last complete run read (kept with what was said): a sudden fall is news. */
  private lastOpen: number | undefined;
  /** Whether what was said has been read from the state table (once per container: after that,
   * this container is the only writer, as the scan runs one at a time). */
  private loaded = false;

  constructor(
    private readonly ops: OpsNotifier,
    private readonly state: StateStore,
  ) {}

  /** Sends each report a run calls for whose content changed, or that still holds an hour after it
   * was sent. An empty fingerprint means "nothing to report" for that kind: it is remembered (so a
   * recurrence is reported again) and, for unreadable items, the recovery is said once. Returns the
   * names of what failed (ops topic, state table), for the logs. */
  async send(result: ScanResult, nowMs: number): Promise<string[]> {
    const failed: string[] = [];
    let stored: Record<string, unknown> | undefined;
    if (!this.loaded) {
      try {
        stored = await this.state.get(STATE_NAME);
        this.loaded = true;
      } catch (error) {
        failed.push(`state:${errorName(error)}`);
      }
    }
    for (const kind of KINDS) {
      const remembered = rememberedIn(stored, kind);
      if (remembered && !this.said.has(kind)) this.said.set(kind, remembered);
    }
    if (this.lastOpen === undefined && typeof stored?.lastOpen === 'number') this.lastOpen = stored.lastOpen;
    const reports = reportsFor(result, this.lastOpen);
    let changed = false;
    for (const report of reports) {
      const before = this.said.get(report.kind);
      const previous = before?.fingerprint ?? '';
      if (report.fingerprint === '') {
        if (previous === '') continue;
        if (report.kind === 'invalid') {
          await this.notify('mirror items readable again', 'The scan reads every open item again.', failed);
        }
        if (report.kind === 'open-index') {
          await this.notify(
            'the scan reads the open-cases index by district now',
            `From run ${result.runId} at ${result.at}, the backfill is recorded complete and the scan reads the index by district. When a few runs have gone well, deploy without "openCasesIndex" to drop the old index (README: "Migrating to the sharded index", step 4).`,
            failed,
          );
        }
      } else {
        if (!dueToTell(before, report.fingerprint, nowMs)) continue;
        // Not told: remembered as unsaid, so the next run tries again.
        if (!(await this.notify(report.subject, report.text, failed))) continue;
      }
      this.said.set(report.kind, { fingerprint: report.fingerprint, at: nowMs });
      changed = true;
    }
    // A fall not yet told stays measured from before it, so the next run tells it.
    const drop = reports.find((r) => r.kind === 'open-drop')?.fingerprint ?? '';
    const told = drop === '' || this.said.get('open-drop')?.fingerprint === drop;
    if (result.readComplete && told && result.open !== this.lastOpen) {
      this.lastOpen = result.open;
      changed = true;
    }
    if (changed) {
      await this.state
        .put(STATE_NAME, {
          ...Object.fromEntries(this.said),
          ...(this.lastOpen !== undefined ? { lastOpen: this.lastOpen } : {}),
        })
        .catch((error: unknown) => failed.push(`state:${errorName(error)}`));
    }
    return failed;
  }

  private async notify(subject: string, text: string, failed: string[]): Promise<boolean> {
    try {
      await this.ops.notify(subject, text);
      return true;
    } catch (error) {
      failed.push(`ops:${errorName(error)}`);
      return false;
    }
  }
}

/** What a stored record says was told of `kind`, if it says so readably. */
export function rememberedIn(stored: Record<string, unknown> | undefined, kind: string): Told | undefined {
  const value = stored?.[kind];
  if (typeof value !== 'object' || value === null) return undefined;
  const { fingerprint, at } = value as { fingerprint?: unknown; at?: unknown };
  return typeof fingerprint === 'string' && typeof at === 'number' ? { fingerprint, at } : undefined;
}
