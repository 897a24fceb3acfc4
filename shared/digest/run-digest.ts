// The daily picture's use case. `gatherDigests` reads everything once (the alert ledger, then the
// open cases, and the feed's health) and renders each audience's digest for each place;
// `runDigest` sends the ones due: once a day per audience and place, at the config's London time or
// on the first run after it, each claimed before it is published (a retried or overlapping run never
// sends it twice; a failed publish leaves it due for the next run), each written to the disclosure
// log, and today's counts kept for next week's trend.

import pLimit from 'p-limit';
import type { CompiledConfig } from '../config/compile.ts';
import { FEED_STOPPED_ID, FLOW_STOPPED_ID } from '../config/signals-schema.ts';
import { LEVELS } from '../domain/levels.ts';
import { byCodeUnit } from '../domain/order.ts';
import type { AuditEntry, AuditLog, LedgerStore, OpenCaseSource, Publisher } from '../scan/ports.ts';
import { groupId } from '../scan/ports.ts';
import type { ReadStats } from '../scan/read-cases.ts';
import { DEFAULT_RETRY, errorName, type RetryPolicy, withRetry } from '../scan/retry.ts';
import { loadLedger, readAllOpenCases } from '../scan/whole.ts';
import { seriesName } from '../signals/evaluate.ts';
import type { SignalStateStore } from '../signals/ports.ts';
import { trendFor, withSnapshot } from './history.ts';
import {
  type AlertCount,
  addTally,
  alertCounts,
  type DigestGroup,
  digestGroups,
  emptyTally,
  firstToldSince,
  PictureBook,
} from './picture.ts';
import type { DigestHistory, DigestMark, DigestStore, DistrictSnapshot, FeedHealth } from './ports.ts';
import {
  type DigestPicture,
  LIST_LIMIT,
  OLDEST_LIMIT,
  type RaisedSignal,
  type RenderedDigest,
  renderDigest,
} from './render.ts';
import { currentSlot, DIGEST_OVERDUE_AFTER_MS, type DigestSlot, sinceYesterdayMs } from './schedule.ts';

/** The feed-silence alarm's default: a feed quiet this long makes the digest say its figures may be
 * stale. The deployed function is told the stack's own setting (FEED_SILENCE_HOURS). */
export const DEFAULT_FEED_QUIET_AFTER_MS = 6 * 3_600_000;
const LEASE_MS = 5 * 60_000;

export interface GatherInput {
  config: CompiledConfig;
  nowMs: number;
  /** The London date the digests are for. */
  day: string;
  source: OpenCaseSource;
  ledger: Pick<LedgerStore, 'loadGroups' | 'loadCaseShards'>;
  feed: FeedHealth;
  history: DigestHistory;
  groups: readonly DigestGroup[];
  feedQuietAfterMs?: number;
  /** The silence signals' states (the state table), to say which stand raised; none: not read. */
  signals?: Pick<SignalStateStore, 'load'>;
}

export interface DigestDraft {
  group: DigestGroup;
  picture: DigestPicture;
  rendered: RenderedDigest;
}

export interface Gathered {
  digests: DigestDraft[];
  /** Today's counts per district, for next week's trend. */
  snapshot: Record<string, DistrictSnapshot>;
  read: Pick<ReadStats, 'read' | 'open' | 'invalid' | 'failed'>;
  /** Ledger items that could not be read (their alerts are not counted). */
  unreadableLedgerItems: number;
}

/** A dependency the digest could not read: nothing is sent on partial figures. */
export class DigestInputError extends Error {
  override name = 'DigestInputError';
  constructor(
    readonly input: 'open-cases' | 'ledger' | 'feed' | 'history' | 'marks' | 'signals',
    options?: ErrorOptions,
  ) {
    super(`could not read the ${input} for the daily picture`, options);
  }
}

const inputCall = <T>(input: DigestInputError['input'], call: () => Promise<T>): Promise<T> =>
  call().catch((error: unknown) => {
    throw new DigestInputError(input, { cause: error });
  });

/** Reads the queue, the ledger and the feed once, and renders every digest in `groups`. Throws a
 * DigestInputError when any of them cannot be read whole. */
export async function gatherDigests(input: GatherInput): Promise<Gathered> {
  const { config, nowMs } = input;
  const sinceMs = sinceYesterdayMs(config.file.digest.at, nowMs);
  // The ledger before the cases: what it says was first told since yesterday is looked up as each
  // case streams past, so no line is kept for every case past its limits. The price: the two reads
  // follow each other instead of overlapping.
  const ledgerThenCases = async () => {
    const ledger = await inputCall('ledger', () => loadLedger(input.ledger, config));
    const book = new PictureBook(config, nowMs, sinceMs, firstToldSince(ledger, sinceMs, nowMs));
    const read = await readAllOpenCases(input.source, config, nowMs, {
      add: (e) => book.add(e),
      held: () => {},
    });
    return { ledger, book, read };
  };
  const [{ ledger, book, read }, lastIngestAt, raised] = await Promise.all([
    ledgerThenCases(),
    inputCall('feed', () => input.feed.lastIngestAt()),
    input.signals
      ? inputCall('signals', () => raisedSignals(config, input.signals as Pick<SignalStateStore, 'load'>))
      : [],
  ]);
  if (!read.complete) {
    // The read keeps only the error's name: carry it on.
    const cause = Object.assign(new Error('the read stopped part-way'), {
      name: read.readError ?? 'ReadIncomplete',
    });
    throw new DigestInputError('open-cases', { cause });
  }
  const snapshot = book.snapshot();
  const counts = alertCounts(config, ledger, (d, ref) => book.caseNow(d, ref));
  const unreadable = read.invalid.total + read.failed.total;
  const digests = input.groups.map((group) => {
    const picture = pictureOf(input, group, book, counts, snapshot, {
      lastIngestAt,
      unreadable,
      unreadableAlertRecords: ledger.unreadable,
      raised,
    });
    return { group, picture, rendered: renderDigest(picture) };
  });
  return {
    digests,
    snapshot,
    read: { read: read.read, open: read.open, invalid: read.invalid, failed: read.failed },
    unreadableLedgerItems: ledger.unreadable,
  };
}

function pictureOf(
  input: GatherInput,
  group: DigestGroup,
  book: PictureBook,
  counts: AlertCount[],
  snapshot: Record<string, DistrictSnapshot>,
  extra: {
    lastIngestAt: number | undefined;
    unreadable: number;
    unreadableAlertRecords: number;
    raised: RaisedSignal[];
  },
): DigestPicture {
  const { config, nowMs } = input;
  const districts = group.districts.map((id) => ({
    id,
    name: config.districtName(id),
    tally: book.tally(id),
  }));
  const total = districts.reduce((sum, d) => addTally(sum, d.tally), emptyTally());
  const inPlace = new Set(group.districts);
  const audienceOrder = Object.keys(config.file.audiences);
  const alerts = new Map<string, DigestPicture['alerts'][number] & { order: number }>();
  for (const c of counts) {
    if (!inPlace.has(c.district)) continue;
    const place = config.placeOf(c.audience, c.district);
    const key = `${c.audience}@${place}`;
    let a = alerts.get(key);
    if (!a) {
      a = {
        audience: c.audience,
        placeName: config.placeName(c.audience, place),
        unacked: { warning: 0, breach: 0, escalation: 0 },
        acknowledged: 0,
        order: audienceOrder.indexOf(c.audience),
      };
      alerts.set(key, a);
    }
    for (const level of LEVELS) a.unacked[level] += c.unacked[level];
    a.acknowledged += c.acknowledged;
  }
  const lists = book.lists(group.districts, LIST_LIMIT, OLDEST_LIMIT);
  return {
    audience: group.audience,
    place: group.place,
    placeName: group.placeName,
    day: input.day,
    atMs: nowMs,
    digestAt: config.file.digest.at,
    districts,
    total,
    ...lists,
    alerts: [...alerts.values()]
      .sort((a, b) => a.order - b.order || byCodeUnit(a.placeName, b.placeName))
      .map(({ order: _order, ...a }) => a),
    feed: {
      lastIngestAt: extra.lastIngestAt,
      quietAfterMs: input.feedQuietAfterMs ?? DEFAULT_FEED_QUIET_AFTER_MS,
    },
    // The place's own districts' signals, and the whole feed's.
    signals: extra.raised.filter((s) => !s.district || inPlace.has(s.district.id)),
    trend: trendFor(group.districts, input.day, snapshot, input.history),
    unreadable: extra.unreadable,
    unreadableAlertRecords: extra.unreadableAlertRecords,
    linkBase: config.file.linkBase,
  };
}

/** Every series the config's signals judge, and the ones whose state stands raised. */
async function raisedSignals(
  config: CompiledConfig,
  states: Pick<SignalStateStore, 'load'>,
): Promise<RaisedSignal[]> {
  const signals = config.signals;
  if (!signals.configured) return [];
  const districts = Object.keys(config.file.districts);
  const labelled: Array<{ id: string; label: string; kind: RaisedSignal['kind']; perDistrict: boolean }> = [
    ...[...signals.rates, ...signals.proportions].map((s) => ({
      id: s.id,
      label: s.label,
      kind: 'fall' as const,
      perDistrict: true,
    })),
    ...(signals.flowStopped.districts
      ? [{ id: FLOW_STOPPED_ID, label: 'case movements', kind: 'stop' as const, perDistrict: true }]
      : []),
    ...(signals.flowStopped.feed
      ? [{ id: FEED_STOPPED_ID, label: 'case movements', kind: 'stop' as const, perDistrict: false }]
      : []),
  ];
  const keys = labelled.flatMap((s) =>
    s.perDistrict
      ? districts.map((district) => ({ ...s, district: district as string | undefined }))
      : [{ ...s, district: undefined as string | undefined }],
  );
  const nameOf = (k: (typeof keys)[number]) =>
    seriesName({ signal: k.id, ...(k.district ? { district: k.district } : {}) });
  const loaded = await states.load(keys.map(nameOf));
  return keys.flatMap((k) => {
    const state = loaded.get(nameOf(k));
    if (!state?.raised) return [];
    return [
      {
        label: k.label,
        kind: k.kind,
        ...(k.district
          ? { district: { id: k.district, name: config.file.districts[k.district]?.name ?? '' } }
          : {}),
        ...(state.raisedAt ? { raisedAt: state.raisedAt } : {}),
      },
    ];
  });
}

export interface DigestInput {
  config: CompiledConfig;
  nowMs: number;
  runId: string;
  source: OpenCaseSource;
  ledger: Pick<LedgerStore, 'loadGroups' | 'loadCaseShards'>;
  feed: FeedHealth;
  store: DigestStore;
  publisher: Publisher;
  audit: AuditLog;
  feedQuietAfterMs?: number;
  /** The silence signals' states, so a digest leads with any raised for its place. */
  signals?: Pick<SignalStateStore, 'load'>;
  /** How long a claim holds before another run may send that digest (default 5 minutes). */
  leaseMs?: number;
  /** Retries of store and audit writes that fail for a passing reason. */
  retry?: RetryPolicy;
}

export interface SentDigest {
  group: string;
  messageId: string;
  subject: string;
  caseRefs: string[];
}

export type DigestFailedStage = DigestInputError['input'] | 'claim' | 'publish' | 'audit' | 'record';

export interface DigestFailure {
  stage: DigestFailedStage;
  group?: string;
  /** The error's name (and its cause's), never its message. */
  error: string;
  /** A disclosure the log could not take: kept in the function's logs instead. */
  disclosure?: AuditEntry;
}

export interface DigestResult {
  runId: string;
  at: string;
  day: string;
  dueAt: string;
  /** Every digest group the config asks for (audience@place). */
  groups: string[];
  sent: SentDigest[];
  /** Sent earlier for this day. */
  alreadySent: string[];
  /** Another run holds the claim. */
  busy: string[];
  /** Not sent, though due for DIGEST_OVERDUE_AFTER_MS or more: the overdue alarm. */
  overdue: string[];
  /** Whether the history could not be read (the trend starts again). */
  historyUnreadable: boolean;
  /** Alert-ledger records the digests could not read (their alerts are not counted); absent when
   * the run read no ledger (nothing due, or it stopped before). */
  unreadableLedgerItems?: number;
  failures: DigestFailure[];
}

const isSentFor = (mark: DigestMark | undefined, day: string) =>
  mark !== undefined && mark.day === day && mark.sentAt !== undefined;
const isClaimedBy = (mark: DigestMark | undefined, day: string, nowMs: number, runId: string) =>
  mark !== undefined &&
  mark.day === day &&
  mark.runId !== runId &&
  mark.leaseUntil !== undefined &&
  mark.leaseUntil > nowMs;

/** An error's name and its cause's: what may be logged of it. */
export const failureName = (error: unknown): string =>
  error instanceof Error && error.cause !== undefined
    ? `${errorName(error)}(${errorName(error.cause)})`
    : errorName(error);

/** One run: sends every digest due and not yet sent for the current day. */
export async function runDigest(input: DigestInput): Promise<DigestResult> {
  const { config, nowMs, runId, store } = input;
  const retry = input.retry ?? DEFAULT_RETRY;
  const slot: DigestSlot = currentSlot(config.file.digest.at, nowMs);
  const groups = digestGroups(config);
  const result: DigestResult = {
    runId,
    at: new Date(nowMs).toISOString(),
    day: slot.day,
    dueAt: new Date(slot.dueAtMs).toISOString(),
    groups: groups.map((g) => groupId(g.audience, g.place)),
    sent: [],
    alreadySent: [],
    busy: [],
    overdue: [],
    historyUnreadable: false,
    failures: [],
  };
  const finish = () => {
    const done = new Set([...result.alreadySent, ...result.sent.map((s) => s.group)]);
    if (nowMs - slot.dueAtMs >= DIGEST_OVERDUE_AFTER_MS)
      result.overdue = result.groups.filter((g) => !done.has(g));
    return result;
  };
  if (groups.length === 0) return finish();

  let marks: Map<string, DigestMark>;
  try {
    marks = await withRetry(() => store.marks(result.groups), retry);
  } catch (error) {
    result.failures.push({ stage: 'marks', error: failureName(error) });
    return finish();
  }
  const due: DigestGroup[] = [];
  for (const group of groups) {
    const id = groupId(group.audience, group.place);
    const mark = marks.get(id);
    if (isSentFor(mark, slot.day)) result.alreadySent.push(id);
    else if (isClaimedBy(mark, slot.day, nowMs, runId)) result.busy.push(id);
    else due.push(group);
  }
  if (due.length === 0) return finish();

  let history: DigestHistory;
  let gathered: Gathered;
  try {
    const stored = await inputCall('history', () => withRetry(() => store.history(), retry));
    result.historyUnreadable = stored.unreadable;
    history = stored.days;
    gathered = await gatherDigests({
      config,
      nowMs,
      day: slot.day,
      source: input.source,
      ledger: input.ledger,
      feed: input.feed,
      history,
      groups: due,
      ...(input.feedQuietAfterMs !== undefined ? { feedQuietAfterMs: input.feedQuietAfterMs } : {}),
      ...(input.signals ? { signals: input.signals } : {}),
    });
  } catch (error) {
    const stage = error instanceof DigestInputError ? error.input : 'open-cases';
    result.failures.push({
      stage,
      error: failureName(error instanceof DigestInputError ? error.cause : error),
    });
    return finish();
  }
  result.unreadableLedgerItems = gathered.unreadableLedgerItems;

  // Today's counts, taken once (the first run of the day that reads the queue), for next week.
  if (history[slot.day] === undefined) {
    try {
      await withRetry(() => store.saveHistory(withSnapshot(history, slot.day, gathered.snapshot)), retry);
    } catch (error) {
      result.failures.push({ stage: 'history', error: failureName(error) });
    }
  }

  const leaseMs = input.leaseMs ?? LEASE_MS;
  const limit = pLimit(4);
  await Promise.all(
    gathered.digests.map((draft) =>
      limit(() =>
        send(
          input,
          slot,
          draft,
          marks.get(groupId(draft.group.audience, draft.group.place)),
          leaseMs,
          retry,
          result,
        ),
      ),
    ),
  );
  return finish();
}

async function send(
  input: DigestInput,
  slot: DigestSlot,
  { group, picture, rendered }: DigestDraft,
  before: DigestMark | undefined,
  leaseMs: number,
  retry: RetryPolicy,
  result: DigestResult,
): Promise<void> {
  const { config, nowMs, runId, store } = input;
  const id = groupId(group.audience, group.place);
  const localAuthorities = [...new Set(group.districts.map((d) => config.localAuthorityOf(d)))];
  const where = { audience: group.audience, district: group.districts, localAuthority: localAuthorities };
  try {
    const claim = {
      runId,
      leaseUntil: nowMs + leaseMs,
      disclosing: { at: nowMs, caseRefs: rendered.caseRefs },
    };
    const claimed = await withRetry(() => store.claim(id, slot.day, claim, nowMs), retry);
    if (!claimed) {
      result.busy.push(id);
      return;
    }
  } catch (error) {
    result.failures.push({ stage: 'claim', group: id, error: failureName(error) });
    return;
  }
  // A run that stopped holding this digest's claim may have sent it: the disclosure log says so.
  const orphan = before && possiblySent(before, id, where, runId, nowMs);
  if (orphan) {
    try {
      await withRetry(() => input.audit.record(orphan), retry);
    } catch (error) {
      result.failures.push({ stage: 'audit', group: id, error: failureName(error), disclosure: orphan });
    }
  }
  const listed = new Set(rendered.caseRefs);
  const lines = [...picture.breached.lines, ...picture.due.lines, ...picture.oldest.lines].filter((l) =>
    listed.has(l.caseRef),
  );
  let messageId: string;
  try {
    messageId = await input.publisher.publish({
      kind: 'digest',
      groups: [id],
      audience: group.audience,
      district: group.districts,
      localAuthority: localAuthorities,
      // Every level: a subscriber who takes only some levels' alerts still gets the daily picture.
      level: LEVELS,
      categories: [...new Set(lines.map((l) => l.category))],
      email: { subject: rendered.subject, body: rendered.body },
    });
  } catch (error) {
    result.failures.push({ stage: 'publish', group: id, error: failureName(error) });
    // Not sent: give the claim back so the next run sends it.
    await store.release(id, slot.day, runId).catch(() => undefined);
    return;
  }
  result.sent.push({ group: id, messageId, subject: rendered.subject, caseRefs: rendered.caseRefs });
  const levels = new Set(lines.flatMap((l) => (l.level === 'none' ? [] : [l.level])));
  const disclosure: AuditEntry = {
    sentAt: new Date(nowMs).toISOString(),
    messageId,
    runId,
    kind: 'digest',
    ...where,
    level: LEVELS.filter((l) => levels.has(l)),
    caseRefs: rendered.caseRefs,
    resolvedCaseRefs: [],
    reason: `daily digest for ${slot.day}`,
  };
  try {
    await withRetry(() => input.audit.record(disclosure), retry);
  } catch (error) {
    result.failures.push({ stage: 'audit', group: id, error: failureName(error), disclosure });
  }
  try {
    const recorded = await withRetry(() => store.sent(id, slot.day, runId, messageId, nowMs), retry);
    if (!recorded) result.failures.push({ stage: 'record', group: id, error: 'ClaimLost' });
  } catch (error) {
    result.failures.push({ stage: 'record', group: id, error: failureName(error) });
  }
}

/** The disclosure of a digest a stopped run may have sent: its claim ran out holding what it was
 * about to disclose, and nothing says it went out. Logged as possibly sent, so the disclosure log
 * misses nothing that went out (the digest itself is sent again: at least once, never none). */
function possiblySent(
  mark: DigestMark,
  group: string,
  where: Pick<AuditEntry, 'audience' | 'district' | 'localAuthority'>,
  runId: string,
  nowMs: number,
): AuditEntry | undefined {
  if (!mark.disclosing || mark.sentAt !== undefined || mark.runId === undefined || mark.runId === runId)
    return undefined;
  if (mark.leaseUntil !== undefined && mark.leaseUntil >= nowMs) return undefined;
  return {
    sentAt: new Date(mark.disclosing.at).toISOString(),
    messageId: `unconfirmed-${mark.runId}-${group}`,
    runId: mark.runId,
    kind: 'digest',
    ...where,
    level: [],
    caseRefs: mark.disclosing.caseRefs,
    resolvedCaseRefs: [],
    reason: `possibly sent: run ${mark.runId} stopped after claiming the daily digest for ${mark.day}, before confirming it went out`,
  };
}
