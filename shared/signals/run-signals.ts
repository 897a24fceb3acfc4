// One signals run: read the flow history, judge every signal of this run's mode (`daily`: rates
// and proportions over the days up to yesterday; `flow`: flow stopped, now), and for each series
// decide against its remembered state what to send: a new raise at once, a raise still standing
// again on its cadence, and one recovery line when it clears. Each message goes through the alert
// topic to the audiences its signal routes name, and into the disclosure log.
//
// Delivery is at least once: state is saved after a message is accepted, so a run that dies in
// between sends it again next time (once its claim's lease ends), never not at all; a publish that
// fails leaves the state as it was, so the next run tries again. A run claims each series before
// sending for it (a write conditional on the state it read), so two runs at once never both send.

import pLimit from 'p-limit';
import type { CompiledConfig } from '../config/compile.ts';
import { FEED_STOPPED_ID, FLOW_STOPPED_ID } from '../config/signals-schema.ts';
import { type DayFlow, emptyDayFlow, londonDay } from '../domain/flow.ts';
import type { Level } from '../domain/levels.ts';
import { byCodeUnit } from '../domain/order.ts';
import {
  type AuditEntry,
  type AuditLog,
  groupId,
  type OutgoingMessage,
  type Publisher,
} from '../scan/ports.ts';
import { DEFAULT_RETRY, errorName, type RetryPolicy, withRetry } from '../scan/retry.ts';
import {
  type FlowHistory,
  judgeDaily,
  judgeFlowStopped,
  type ProfileCache,
  type SignalStatus,
  seriesName,
} from './evaluate.ts';
import { renderSignal, type SignalEvent } from './messages.ts';
import type { FlowDays, FlowMarkers, FlowReader, SignalState, SignalStateStore } from './ports.ts';

export const SIGNAL_MODES = ['daily', 'flow', 'all'] as const;
/** The metric a run emits for each part it completed (see `completed`): its absence is an alarm. */
export const HEARTBEAT_METRIC = { daily: 'DailySignalsHeartbeat', flow: 'FlowSignalsHeartbeat' } as const;
export type SignalsMode = (typeof SIGNAL_MODES)[number];
/** What a run judges: `daily`, rates and shares over the days up to yesterday; `flow`, flow stopped. */
export type SignalsPart = keyof typeof HEARTBEAT_METRIC;

const partsOf = (mode: SignalsMode): SignalsPart[] => (mode === 'all' ? ['daily', 'flow'] : [mode]);
const partOf = (signal: string): SignalsPart =>
  signal === FLOW_STOPPED_ID || signal === FEED_STOPPED_ID ? 'flow' : 'daily';

export interface SignalsInput {
  config: CompiledConfig;
  nowMs: number;
  runId: string;
  mode: SignalsMode;
  flow: FlowReader;
  states: SignalStateStore;
  publisher: Publisher;
  audit: AuditLog;
  /** Flow profiles kept by a warm function for the rest of the London day. */
  profiles?: ProfileCache;
  /** Days of history replayed for rates and proportions (default 365). */
  historyDays?: number;
  /** Retries of each disclosure log and state write (the scan's by default). */
  retry?: RetryPolicy;
  /** How long a claim holds before another run may take the series over (default 5 minutes). */
  leaseMs?: number;
}

export interface SentSignal {
  event: SignalEvent;
  signal: string;
  district?: string;
  audiences: readonly string[];
  level: Level;
  messageId: string;
  sms: string;
  email: { subject: string; body: string };
}

export interface SignalsResult {
  runId: string;
  at: string;
  mode: SignalsMode;
  statuses: SignalStatus[];
  sent: SentSignal[];
  /** Series raised now (sent or not). */
  raised: number;
  learning: Array<{ signal: string; district?: string; until?: string }>;
  /** Series whose step failed, after retries (the error's name, never its message): `claim` or
   * `publish`, not sent and still due; `state`, sent and logged but its state not saved, so the next
   * run sends it again; `judge`, anything else that failed for one series (its neighbours went on). */
  failed: Array<{
    signal: string;
    district?: string;
    step: 'claim' | 'publish' | 'state' | 'judge';
    error: string;
  }>;
  /** Messages sent whose disclosure could not be written to the disclosure log after retries: the
   * handler logs each in full, tells ops and fails the run. */
  unaudited: AuditEntry[];
  /** Stored flow items that could not be read (left out of the counts), the markers below included. */
  invalidFlowItems: number;
  /** Districts' markers that could not be read: worked out from their flow instead. */
  unreadableMarkers: UnreadableMarker[];
  /** The parts of this run's mode that completed: every series judged, every message due sent and
   * its state saved. A part with a failed step is not complete: what failed is still due. */
  completed: SignalsPart[];
}

/** A raise still standing is due again this long after it was last sent, less some slack so that a
 * schedule a few seconds late does not skip a day, nor the morning run on the spring clock change,
 * which comes 23 hours after the one before (the morning run is at a London time). */
function due(state: SignalState, repeatMs: number, nowMs: number): boolean {
  if (!state.sentAt) return true;
  const slack = Math.min(repeatMs / 10, 90 * 60_000);
  return nowMs - Date.parse(state.sentAt) >= repeatMs - slack;
}

/** A district's marker in the flow table that could not be read: `since`, its first day of flow;
 * `last`, its latest transition. */
export interface UnreadableMarker {
  district: string;
  marker: 'since' | 'last';
}

/** The flow a run of this mode judges: each district's days (from its first day of flow, within the
 * history window, up to yesterday), its first day and its last transition. A district whose days
 * cannot be read is left out of the history and named in `unread` (with the error's kind): the run
 * judges the others (a display fails instead). A district's marker that cannot be read is worked out
 * from its flow instead (its first day with a transition in the window, its latest transition) and
 * named in `unreadable`: taken as missing, the district would learn for good, or be raised as
 * stopped while it flows. A display (`signals
 * status`) reads the same but writes nothing, and may be as of a past instant (its `--at`): flow
 * after that instant is left out, so a district's latest transition is its latest up to then, and a
 * district whose flow began later has none. */
export async function readHistory(
  input: Pick<SignalsInput, 'config' | 'nowMs' | 'mode' | 'flow' | 'profiles' | 'historyDays'>,
  options: { display?: boolean } = {},
): Promise<{
  history: FlowHistory;
  invalid: number;
  unread: Map<string, string>;
  unreadable: UnreadableMarker[];
}> {
  const { config, nowMs, mode } = input;
  const today = londonDay(nowMs);
  const yesterday = today - 1;
  const historyDays = input.historyDays ?? 365;
  const flowDays = (config.signals.settings.baselineWeeks + 1) * 7;
  const districts = Object.keys(config.file.districts);
  const needDaily =
    mode !== 'flow' && (config.signals.rates.length > 0 || config.signals.proportions.length > 0);
  const profiles = input.profiles;
  const needProfiles =
    mode !== 'daily' && (!profiles || ['*', ...districts].some((name) => profiles.get(name)?.day !== today));
  const firstDay = needDaily ? yesterday - historyDays + 1 : today - flowDays;
  const none = <T>(): FlowMarkers<T> => ({ values: new Map(), unreadable: [] });
  // With every flow profile fitted today, a check needs only each district's last transition.
  const [sinceRead, lastRead] = await Promise.all([
    needDaily || needProfiles ? input.flow.since() : Promise.resolve(none<number>()),
    mode !== 'daily' ? input.flow.lastTransitions() : Promise.resolve(none<string>()),
  ]);
  const since = sinceRead.values;
  const last = lastRead.values;
  // Markers of the districts judged only: one of a district no longer configured says nothing.
  const unreadableOf = (markers: FlowMarkers<unknown>) =>
    new Set(markers.unreadable.filter((d) => districts.includes(d) && !markers.values.has(d)));
  const sinceUnreadable = unreadableOf(sinceRead);
  const lastUnreadable = unreadableOf(lastRead);
  if (options.display) for (const [district, day] of since) if (day > today) since.delete(district);
  const dayOptions = options.display ? { seal: false } : {};
  const days = new Map<string, DayFlow[]>();
  const unread = new Map<string, string>();
  let invalid = 0;
  if (needDaily || needProfiles) {
    const limit = pLimit(4);
    await Promise.all(
      districts.map((district) =>
        limit(async () => {
          // Its first day unknown: read from the window's, and take the first with a transition.
          const own = since.get(district) ?? (sinceUnreadable.has(district) ? firstDay : undefined);
          if (own === undefined) return;
          const from = Math.max(firstDay, own);
          let read: FlowDays = { days: [], invalid: 0 };
          try {
            if (from <= yesterday) read = await input.flow.days(district, from, yesterday, nowMs, dayOptions);
          } catch (error) {
            if (options.display) throw error;
            unread.set(district, errorName(error));
            return;
          }
          invalid += read.invalid;
          if (sinceUnreadable.has(district)) {
            const first = read.days.find((d) => d.hours.some((n) => n > 0));
            if (first !== undefined) since.set(district, first.day);
          }
          // Days before the district's first are padded (and never used: its series start at `since`).
          const padded = Array.from({ length: from - firstDay }, (_, i) => emptyDayFlow(firstDay + i));
          days.set(district, [...padded, ...read.days]);
        }),
      ),
    );
  }
  // A district's latest transition worked out from its flow: today's latest up to now, else the
  // latest of its days. For a display as of a past instant whose latest transition is after it,
  // and for a marker that cannot be read (its days read back here when the run read none).
  const later = options.display
    ? [...last].filter(([, at]) => Date.parse(at) > nowMs).map(([district]) => district)
    : [];
  await Promise.all(
    [...later, ...lastUnreadable].map(async (district) => {
      try {
        const read = await input.flow.days(district, today, today, nowMs, { seal: false, until: nowMs });
        invalid += read.invalid;
        let before = days.get(district);
        if (!before && lastUnreadable.has(district)) {
          const back = await input.flow.days(district, today - flowDays, yesterday, nowMs, dayOptions);
          invalid += back.invalid;
          before = back.days;
        }
        const earlier = [...(before ?? [])].reverse().find((d) => d.last !== undefined);
        const latest = read.days[0]?.last ?? earlier?.last;
        if (latest !== undefined) last.set(district, latest);
        else last.delete(district);
      } catch (error) {
        if (options.display) throw error;
        unread.set(district, errorName(error));
      }
    }),
  );
  // Unread: no history, so not taken for a district without any (learning).
  for (const district of unread.keys()) since.delete(district);
  const unreadable: UnreadableMarker[] = [
    ...[...sinceUnreadable].map((district) => ({ district, marker: 'since' as const })),
    ...[...lastUnreadable].map((district) => ({ district, marker: 'last' as const })),
  ];
  return { history: { firstDay, days, since, last }, invalid, unread, unreadable };
}

export async function runSignals(input: SignalsInput): Promise<SignalsResult> {
  const { config, nowMs, mode } = input;
  const signals = config.signals;
  const result: SignalsResult = {
    runId: input.runId,
    at: new Date(nowMs).toISOString(),
    mode,
    statuses: [],
    sent: [],
    raised: 0,
    learning: [],
    failed: [],
    unaudited: [],
    invalidFlowItems: 0,
    unreadableMarkers: [],
    completed: [],
  };
  if (!signals.configured) {
    result.completed = partsOf(mode);
    return result;
  }

  const { history, invalid, unread, unreadable } = await readHistory(input);
  result.invalidFlowItems = invalid + unreadable.length;
  result.unreadableMarkers = unreadable;
  const judged = [
    ...(mode !== 'flow' ? judgeDaily(config, history) : []),
    ...(mode !== 'daily' ? judgeFlowStopped(config, history, nowMs, input.profiles) : []),
  ];
  // A district whose flow could not be read is not judged this run (nor the whole feed, whose
  // profile needs every district), and no profile fitted without it is kept: the next run judges it.
  const notJudged = (s: SignalStatus) =>
    s.district
      ? unread.get(s.district)
      : s.kind === 'feed-stopped'
        ? unread.values().next().value
        : undefined;
  for (const district of unread.keys()) input.profiles?.delete(district);
  if (unread.size > 0) input.profiles?.delete('*');
  const statuses = judged.filter((s) => notJudged(s) === undefined);
  for (const s of judged) {
    const error = notJudged(s);
    if (error === undefined) continue;
    result.failed.push({
      signal: s.signal,
      ...(s.district ? { district: s.district } : {}),
      step: 'judge',
      error,
    });
  }
  result.statuses = statuses;
  result.raised = statuses.filter((s) => s.state === 'raised').length;
  result.learning = statuses
    .filter((s) => s.state === 'learning')
    .map((s) => ({
      signal: s.signal,
      ...(s.district ? { district: s.district } : {}),
      ...(s.learningUntil ? { until: s.learningUntil } : {}),
    }));

  const states = await input.states.load(statuses.map(seriesName));
  const allDistricts = Object.keys(config.file.districts);

  const retry = input.retry ?? DEFAULT_RETRY;
  const leaseMs = input.leaseMs ?? 5 * 60_000;
  const publishLimit = pLimit(8);
  // Each series on its own: whatever fails for one is counted and never stops the others.
  await Promise.all(
    statuses.map((status) =>
      publishLimit(() =>
        oneSeries(status).catch((error: unknown) => {
          result.failed.push({
            signal: status.signal,
            ...(status.district ? { district: status.district } : {}),
            step: 'judge',
            error: errorName(error),
          });
        }),
      ),
    ),
  );
  const sentKey = (s: (typeof result.sent)[number]) => s.signal + (s.district ?? '');
  result.sent.sort((a, b) => byCodeUnit(sentKey(a), sentKey(b)));
  result.completed = partsOf(mode).filter((part) => !result.failed.some((f) => partOf(f.signal) === part));
  return result;

  async function oneSeries(status: SignalStatus): Promise<void> {
    const name = seriesName(status);
    const previous = states.get(name) ?? { raised: false };
    const repeatMs =
      status.kind === 'flow-stopped' || status.kind === 'feed-stopped'
        ? signals.flowRepeatMs
        : signals.repeatMs;
    const inhibited = status.kind === 'flow-stopped' && status.inhibited === true;
    let event: SignalEvent | undefined;
    if (status.state === 'raised' && !inhibited) {
      if (!previous.raised) event = 'raised';
      else if (due(previous, repeatMs, nowMs)) event = 'repeat';
    } else if (status.state === 'normal' && previous.raised) {
      // Cleared only when judged normal again: a series gone too sparse to judge, or learning
      // anew, has not recovered (a flow stopped for weeks ends sparse), so it stays raised.
      event = 'cleared';
    }
    if (!event) return;
    // Another run is sending for this series now: it is that run's, until its lease ends.
    const claim = previous.claim;
    if (claim && claim.runId !== input.runId && claim.leaseUntil > nowMs) return;

    const audiences = signals.audiencesFor(status.signal, status.district);
    const rendered = renderSignal(status, event, config, nowMs);
    const level = signals.levelOf(status.signal);
    const district = status.district ?? allDistricts;
    const localAuthority = status.district
      ? config.localAuthorityOf(status.district)
      : [...new Set(allDistricts.map((d) => config.localAuthorityOf(d)))];
    // Subscriptions filter on audience@place groups: each audience at its place (the district,
    // its local authority, or the force), every place of the feed for a whole-feed signal.
    const places = status.district ? [status.district] : allDistricts;
    const groups = [
      ...new Set(audiences.flatMap((a) => places.map((d) => groupId(a, config.placeOf(a, d))))),
    ];
    const message: OutgoingMessage = {
      kind: 'alert',
      groups,
      audience: audiences.length === 1 ? (audiences[0] as string) : audiences,
      district,
      localAuthority,
      level: [level],
      categories: [],
      sms: rendered.sms,
      email: rendered.email,
    };
    const where = { signal: status.signal, ...(status.district ? { district: status.district } : {}) };
    let claimed: number | undefined;
    try {
      claimed = await withRetry(
        () => input.states.claim(name, previous, { runId: input.runId, leaseUntil: nowMs + leaseMs }),
        retry,
      );
    } catch (error) {
      result.failed.push({ ...where, step: 'claim', error: errorName(error) });
      return;
    }
    // Another run got there first: it sends.
    if (claimed === undefined) return;
    const version = claimed;
    let messageId: string;
    try {
      messageId = await input.publisher.publish(message);
    } catch (error) {
      result.failed.push({ ...where, step: 'publish', error: errorName(error) });
      // Released as it was; if that fails too, the claim lapses at the end of its lease.
      const { claim: _ours, ...unchanged } = previous;
      await withRetry(() => input.states.release(name, unchanged, version), retry).catch(() => {});
      return;
    }
    // Sent: from here on it is recorded whatever fails, and the run goes on.
    const disclosure: AuditEntry = {
      sentAt: result.at,
      messageId,
      runId: input.runId,
      kind: 'alert',
      audience: message.audience,
      district,
      localAuthority,
      level,
      caseRefs: [],
      resolvedCaseRefs: [],
      reason: `signal ${status.signal} ${event === 'cleared' ? 'cleared' : event === 'repeat' ? 'still raised' : 'raised'}${status.district ? ` in ${status.district}` : status.signal === FEED_STOPPED_ID ? ' for the whole feed' : ''}`,
    };
    await withRetry(() => input.audit.record(disclosure), retry).catch(() => {
      result.unaudited.push(disclosure);
    });
    const next: SignalState =
      event === 'cleared'
        ? { raised: false, clearedAt: result.at }
        : {
            raised: true,
            raisedAt: event === 'raised' ? result.at : (previous.raisedAt ?? result.at),
            sentAt: result.at,
          };
    try {
      if (!(await withRetry(() => input.states.release(name, next, version), retry)))
        throw Object.assign(new Error('claim lost'), { name: 'SignalClaimLost' });
    } catch (error) {
      result.failed.push({ ...where, step: 'state', error: errorName(error) });
    }
    result.sent.push({
      event,
      signal: status.signal,
      ...(status.district ? { district: status.district } : {}),
      audiences,
      level,
      messageId,
      sms: rendered.sms,
      email: rendered.email,
    });
  }
}
