// One scan run, as a pipeline of small stages (in the spirit of Alertmanager's notify stages):
//   read the open cases, each in isolation (read-cases.ts)
//   decide what each audience at each place should hear, against the ledger (decide.ts)
//   serve the SMS budget by urgency and fairly across places (budget.ts)
//   claim each due group, so no two runs send for it (a lost claim leaves it to the other run)
//   compose its message, with acknowledgement links, to fit its channels (compose.ts)
//   publish; tell phones whose alert went by email only
//   audit every message sent (the disclosure log), retrying
//   record what was sent in the ledger, then release the claim.
// Every stage settles every message it started before the run ends, whatever fails: a message
// not published stays due; one published is recorded (or, if recording fails, may be sent once
// more); nothing is marked sent that was not.

import pLimit from 'p-limit';
import type { CompiledConfig } from '../config/compile.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
import { type GroupMessage, listedRefs, renderSummarySms } from '../domain/notify.ts';
import { ALL_SHARDS, type ShardRef } from '../domain/shards.ts';
import { allocateSms } from './budget.ts';
import { ackLinkRequest, groupMessage, levelsIn, outgoing } from './compose.ts';
import { GroupBook, type GroupPlan, type ShardChange, type Trigger, triggerLevel } from './decide.ts';
import { caseShardId, groupKeysOf, groupStateId } from './ledger-keys.ts';
import type {
  AckLinks,
  AuditEntry,
  AuditLog,
  AuditThread,
  CaseShard,
  CaseShardsSnapshot,
  GroupState,
  LedgerStore,
  OpenCaseSource,
  OutgoingMessage,
  Publisher,
} from './ports.ts';
import { groupId } from './ports.ts';
import { addReadStats, emptyReadStats, type Problems, type ReadStats, readOpenCases } from './read-cases.ts';
import { DEFAULT_RETRY, errorName, mayHaveBeenCarriedOut, type RetryPolicy, withRetry } from './retry.ts';

export interface ScanInput {
  config: CompiledConfig;
  nowMs: number;
  runId: string;
  source: OpenCaseSource;
  ledger: LedgerStore;
  publisher: Publisher;
  audit: AuditLog;
  /** Acknowledgement links; without them, messages link to the case system only. */
  links?: AckLinks;
  /** How long a claim holds before another run may take it over (default 5 minutes). */
  leaseMs?: number;
  /** How long ledger records live after their last write (TTL; default 30 days). */
  ledgerTtlMs?: number;
  /** Concurrent ledger writes (default 16), publishes (default 8) and shards read (default
   * SHARD_CONCURRENCY). */
  concurrency?: number;
  publishConcurrency?: number;
  shardConcurrency?: number;
  /** Retries of audit and ledger writes that fail for a passing reason. */
  retry?: RetryPolicy;
  /** Read the ledger's case records in one pass rather than district by district: cheaper for a
   * small ledger (the handler decides from the last run's size); memory then follows the ledger. */
  wholeLedger?: boolean;
}

/** Up to this many ledger entries, the next run reads the ledger in one pass. */
export const WHOLE_LEDGER_MAX_ENTRIES = 20_000;

/** Districts read and decided at once. Memory follows the shards in flight: measured with the
 * bench's scan process, 100,000 open cases peaked at 193 MB with 2 and 242 MB with 8, and 2 was
 * as fast on a small share of a CPU (each shard's pages are read in order anyway). */
export const SHARD_CONCURRENCY = 2;

export interface SentMessage {
  kind: OutgoingMessage['kind'];
  /** The audience@place groups it went to. */
  groups: string[];
  audience: string;
  place: string;
  levels: Level[];
  trigger?: Trigger;
  /** Cases it listed (disclosed), highest level first, and the resolved ones it listed. */
  caseRefs: string[];
  /** Of those, the ones new to their level (or stage) in this message. */
  newCaseRefs: string[];
  resolved: string[];
  messageId: string;
  sms?: string;
  email?: { subject: string; body: string };
}

export type FailedStage = 'claim' | 'links' | 'publish' | 'summary' | 'audit' | 'record' | 'read';

export interface StageFailure {
  stage: FailedStage;
  /** The group (audience@place) it concerns, if one. */
  group?: string;
  /** The error's name, never its message. */
  error: string;
  /** What happens because of it, in words for ops. */
  consequence: string;
}

export interface ScanResult {
  runId: string;
  at: string;
  read: number;
  open: number;
  levels: ReadStats['levels'];
  openByCategoryAndRisk: Record<string, number>;
  oldestAgeMsByCategory: Record<string, number>;
  /** Items that are not valid cases, and valid cases that could not be evaluated: both held. */
  invalid: Problems;
  unevaluated: Problems;
  readComplete: boolean;
  /** Groups due a message this run, and those another run is sending. */
  groupsDue: number;
  inFlightElsewhere: number;
  /** Claims lost to a concurrent run (it sends those). */
  lostClaims: number;
  messages: SentMessage[];
  smsSent: number;
  emailOnly: number;
  /** Resolved lines sent. */
  resolved: number;
  /** Due groups the SMS budget could not cover (their alert went by email). */
  smsStarved: string[];
  failures: StageFailure[];
  /** Disclosures that could not be written to the disclosure log after retries. */
  unaudited: AuditEntry[];
  /** Working-day deadlines this run worked out past the bank-holiday list (weekends only there). */
  calendarUncovered: number;
  /** Ledger entries (case, audience) this run read. */
  ledgerEntries: number;
  /** Ledger entries once this run's changes are recorded: what the next run will find (a run after
   * a deploy reads none and may write tens of thousands). */
  ledgerEntriesAfter: number;
  /** Why the run read another open-cases index than it was deployed to (a migration waiting for its
   * backfill): for ops. */
  openIndexNote?: string;
}

interface Claimed {
  plan: GroupPlan;
  version: number;
  message: GroupMessage;
  withSms: boolean;
  outgoing?: OutgoingMessage;
  messageId?: string;
}

const TTL_DEFAULT_MS = 30 * 86_400_000;

export async function runScan(input: ScanInput): Promise<ScanResult> {
  const { config, nowMs, runId, ledger } = input;
  const leaseMs = input.leaseMs ?? 5 * 60_000;
  const expiresAtMs = nowMs + (input.ledgerTtlMs ?? TTL_DEFAULT_MS);
  const limit = pLimit(input.concurrency ?? 16);
  const publishLimit = pLimit(input.publishConcurrency ?? 8);
  // Case shard writes have their own bound: they run inside a group's turn of `limit`.
  const shardWrites = pLimit(input.concurrency ?? 16);
  const retry = input.retry ?? DEFAULT_RETRY;

  // Read and decide: the groups' states first, then shard by shard (a few at once), each shard's
  // ledger records beside its cases as they stream past. Memory follows the shards in flight and
  // what the groups need, not the queue.
  const prepared = (await input.source.prepare?.()) ?? {};
  const snapshot = await ledger.loadGroups(groupKeysOf(config));
  const uncoveredBefore = config.calendar.uncoveredAnswers;
  const book = new GroupBook(config, snapshot, nowMs, runId);
  const audiences = Object.keys(config.file.audiences);
  const stats = emptyReadStats();
  let ledgerEntries = 0;
  let ledgerUnreadable = 0;
  const counted = (records: CaseShardsSnapshot) => {
    for (const record of records.shards.values()) ledgerEntries += record.cases.size;
    ledgerUnreadable += records.unreadable;
    return records;
  };
  // A small ledger is read in one pass and handed out by district; a large one district by district,
  // as a small one is when its one pass fails (each district's read then fails, or not, on its own).
  const whole = input.wholeLedger
    ? await withRetry(() => ledger.loadCaseShards(ALL_SHARDS, audiences), retry).then(
        counted,
        () => undefined,
      )
    : undefined;
  const recordsOf = async (shard: ShardRef): Promise<CaseShardsSnapshot> => {
    if (!whole || !('district' in shard)) {
      return whole ?? counted(await withRetry(() => ledger.loadCaseShards(shard, audiences), retry));
    }
    const part = new Map([...whole.shards].filter(([, record]) => record.district === shard.district));
    return { shards: part, unreadable: 0 };
  };
  const shardLimit = pLimit(input.shardConcurrency ?? SHARD_CONCURRENCY);
  await Promise.all(
    input.source.shards([...config.vocabulary.districts]).map((shard) =>
      shardLimit(async () => {
        let records: CaseShardsSnapshot;
        try {
          records = await recordsOf(shard);
        } catch (error) {
          // Without its ledger records a shard cannot tell news from reminders: left for the next run.
          addReadStats(stats, {
            ...emptyReadStats(),
            complete: false,
            readError: `ledger:${errorName(error)}`,
          });
          return;
        }
        const decider = book.shard(records);
        const read = await readOpenCases(input.source.pages(shard), config, nowMs, decider);
        decider.end(read.complete);
        addReadStats(stats, read);
      }),
    ),
  );
  const plans = book.finish();

  const result: ScanResult = {
    runId,
    at: new Date(nowMs).toISOString(),
    read: stats.read,
    open: stats.open,
    levels: stats.levels,
    openByCategoryAndRisk: stats.openByCategoryAndRisk,
    oldestAgeMsByCategory: stats.oldestAgeMsByCategory,
    invalid: stats.invalid,
    unevaluated: stats.failed,
    readComplete: stats.complete,
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
    calendarUncovered: config.calendar.uncoveredAnswers - uncoveredBefore,
    ledgerEntries,
    ledgerEntriesAfter: ledgerEntries,
    ...(prepared.note ? { openIndexNote: prepared.note } : {}),
  };
  if (snapshot.unreadable > 0) {
    result.failures.push({
      stage: 'read',
      error: 'LedgerGroupUnreadable',
      consequence: `${snapshot.unreadable} alert-ledger group record${snapshot.unreadable === 1 ? '' : 's'} (or acknowledgement${snapshot.unreadable === 1 ? '' : 's'}) could not be read: a group whose record could not be read is still claimed and told, its reminders counted from when its cases were told, and its next message writes the record anew; an acknowledgement that could not be read is taken as none (its group is reminded)`,
    });
  }
  if (ledgerUnreadable > 0) {
    result.failures.push({
      stage: 'read',
      error: 'LedgerRecordUnreadable',
      consequence: `${ledgerUnreadable} alert-ledger case record${ledgerUnreadable === 1 ? '' : 's'} could not be read, in whole or in part (not in the expected shape): the cases in them that could not be read are taken as news and sent again (the rest keep their state and their resolved lines), and the next message to each group writes its record anew (a record without a readable key and version is left, and its cases stay news until it is deleted)`,
    });
  }
  if (!stats.complete) {
    result.failures.push({
      stage: 'read',
      error: stats.readError ?? 'read failed',
      consequence:
        'the open cases were read only in part: what was read was sent, nothing was taken as resolved',
    });
  }

  const due = plans.filter((p) => p.trigger !== undefined);
  result.groupsDue = due.length;
  const free = due.filter((p) => {
    if (p.busy) result.inFlightElsewhere += 1;
    return !p.busy;
  });

  // Budget: who gets their one SMS.
  const allocation = allocateSms(
    free.map((plan) => ({
      id: groupId(plan.audience, plan.place),
      place: plan.place,
      trigger: plan.trigger as Trigger,
      urgency: plan.oldestAgeMs,
      wantsSms: config
        .policy(plan.audience)
        .smsFor.has(triggerLevel(plan.trigger as Trigger) ?? 'escalation'),
      plan,
    })),
    config.file.sms.maxPerRun,
  );
  const withSms = new Set(allocation.sms.map((c) => c.plan));
  const starvedPlans = new Set(allocation.starved.map((c) => c.plan));
  const ordered = [...allocation.sms, ...allocation.emailOnly].map((c) => c.plan);

  // Claim each group before sending for it, saying what this run is about to disclose.
  const orphans: AuditEntry[] = [];
  const claimedOrNot = await Promise.all(
    ordered.map((plan) =>
      limit(async (): Promise<Claimed | undefined> => {
        const id = groupId(plan.audience, plan.place);
        const message = groupMessage(plan, config, nowMs);
        try {
          const version = await ledger.claimGroup(plan, plan.state?.version, {
            runId,
            leaseUntil: nowMs + leaseMs,
            disclosing: {
              at: nowMs,
              caseRefs: listedRefs(message),
              resolved: message.resolved,
              levels: levelsIn(message),
            },
          });
          if (version === undefined) {
            result.lostClaims += 1;
            return undefined;
          }
          const orphan = plan.state && possiblySent(plan.state, runId, nowMs, config);
          if (orphan) orphans.push(orphan);
          return { plan, version, message, withSms: withSms.has(plan) };
        } catch (error) {
          result.failures.push({
            stage: 'claim',
            group: id,
            error: errorName(error),
            consequence: 'not sent this run; it stays due and the next run sends it',
          });
          return undefined;
        }
      }),
    ),
  );
  // A run that died holding a claim may have sent its message: groups with nothing due now are
  // taken over just long enough to log that, and released as they were.
  const claimedIds = new Set(ordered.map((p) => groupStateId(p.audience, p.place)));
  await Promise.all(
    [...snapshot.groups.values()]
      .filter((state) => !claimedIds.has(state.id) && possiblySent(state, runId, nowMs, config))
      .map((state) =>
        limit(async () => {
          try {
            const version = await ledger.claimGroup(state, state.version, {
              runId,
              leaseUntil: nowMs + leaseMs,
            });
            if (version === undefined) return;
            orphans.push(possiblySent(state, runId, nowMs, config) as AuditEntry);
            const { claim: _taken, ...unchanged } = state;
            await withRetry(() => ledger.releaseGroup(unchanged, version, expiresAtMs), retry);
          } catch (error) {
            result.failures.push({
              stage: 'claim',
              group: groupId(state.audience, state.place),
              error: errorName(error),
              consequence:
                'a message a stopped run may have sent is not yet logged; the next run tries again',
            });
          }
        }),
      ),
  );
  const claimed = claimedOrNot.filter((c): c is Claimed => c !== undefined);

  // Acknowledgement links, two a message (SMS and email), in one batch.
  if (input.links && claimed.length > 0) {
    const requests = claimed.flatMap((c) => [
      ackLinkRequest(c.message, 'email', runId, config),
      ...(c.withSms ? [ackLinkRequest(c.message, 'sms', runId, config)] : []),
    ]);
    try {
      const links = await withRetry(() => (input.links as AckLinks).create(requests), retry);
      let i = 0;
      for (const c of claimed) {
        const email = links[i++];
        const sms = c.withSms ? links[i++] : undefined;
        c.message.ackLinks = { ...(email ? { email } : {}), ...(sms ? { sms } : {}) };
      }
    } catch (error) {
      result.failures.push({
        stage: 'links',
        error: errorName(error),
        consequence: `${claimed.length} messages went without an acknowledgement link (they link to the case system)`,
      });
    }
  }

  // Publish: each message on its own; one that fails releases its claim and stays due. One that got
  // no answer may have gone all the same: it is logged as possibly sent, so the disclosure log
  // misses nothing that went out.
  await Promise.all(
    claimed.map((c) =>
      publishLimit(async () => {
        c.outgoing = outgoing(c.plan, c.message, c.withSms);
        try {
          c.messageId = await input.publisher.publish(c.outgoing);
        } catch (error) {
          const mayHaveGone = mayHaveBeenCarriedOut(error);
          if (mayHaveGone) orphans.push(unconfirmedEntry(c, runId, result.at));
          result.failures.push({
            stage: 'publish',
            group: groupId(c.plan.audience, c.plan.place),
            error: errorName(error),
            consequence: mayHaveGone
              ? 'no answer from SNS: it may have been sent, and is logged as possibly sent; it stays due and the next run sends it (perhaps a second time)'
              : 'not sent; it stays due and the next run sends it',
          });
          await release(c, false);
        }
      }),
    ),
  );
  const published = claimed.filter((c) => c.messageId !== undefined);

  // Phones whose group's alert went by email only get a summary SMS: one per set of levels those
  // alerts carried, so a phone that takes only some levels hears only of an alert it would have had.
  const starved = published.filter((c) => starvedPlans.has(c.plan));
  result.smsStarved = allocation.starved.map((c) => c.id);
  const byLevels = new Map<string, Claimed[]>();
  for (const c of starved) {
    const key = levelsOf(c).join(',');
    const part = byLevels.get(key);
    if (part) part.push(c);
    else byLevels.set(key, [c]);
  }
  const summaries: SentMessage[] = [];
  for (const part of byLevels.values()) {
    const summary = await sendSummary(input, result, part);
    if (summary) summaries.push(summary);
  }

  // The disclosure log (with what stopped runs, and publishes with no answer, may have sent), then
  // the ledger.
  await Promise.all(
    orphans.map((entry) =>
      limit(async () => {
        try {
          await withRetry(() => input.audit.record(entry), retry);
        } catch (error) {
          result.unaudited.push(entry);
          result.failures.push({
            stage: 'audit',
            error: errorName(error),
            consequence:
              'a message that may have been sent (by a stopped run, or by a publish with no answer) is not in the disclosure log: the entry is kept and written again later',
          });
        }
      }),
    ),
  );
  // Each message's disclosure, then its ledger changes: group by group, not stage by stage, so
  // one slow group holds up no other.
  await Promise.all(
    published.map((c) =>
      limit(async () => {
        const entry = auditEntry(c, runId, result.at);
        try {
          await withRetry(() => input.audit.record(entry), retry);
        } catch (error) {
          result.unaudited.push(entry);
          result.failures.push({
            stage: 'audit',
            group: groupId(c.plan.audience, c.plan.place),
            error: errorName(error),
            consequence: 'sent, but not in the disclosure log: the entry is kept and written again later',
          });
        }
        await record(c);
      }),
    ),
  );

  for (const c of published) {
    const sent = sentMessage(c);
    result.messages.push(sent);
    result.resolved += sent.resolved.length;
    if (c.withSms) result.smsSent += 1;
    else result.emailOnly += 1;
  }
  result.messages.push(...summaries);
  return result;

  /** Writes what a published message changed, then releases the group with its new state. */
  async function record(c: Claimed): Promise<void> {
    const group = groupId(c.plan.audience, c.plan.place);
    let recorded = true;
    // The group's case shards at once (each its own record, on its own condition).
    const write = async ([id, change]: [string, ShardChange]) => {
      const stored = book.storedShard(id);
      const next: CaseShard = {
        id: caseShardId(change.audience, change.district, change.shard),
        audience: change.audience,
        district: change.district,
        shard: change.shard,
        version: stored?.version ?? 0,
        cases: new Map(stored?.cases ?? []),
      };
      for (const [caseRef, entry] of change.entries) {
        if (entry) next.cases.set(caseRef, entry);
        else next.cases.delete(caseRef);
      }
      try {
        const written = await withRetry(() => ledger.writeShard(next, stored?.version, expiresAtMs), retry);
        if (!written) throw Object.assign(new Error('changed meanwhile'), { name: 'LedgerShardChanged' });
        result.ledgerEntriesAfter += next.cases.size - (stored?.cases.size ?? 0);
      } catch (error) {
        recorded = false;
        result.failures.push({
          stage: 'record',
          group,
          error: errorName(error),
          consequence: 'sent, but not recorded: its new cases may be sent again next run',
        });
      }
    };
    await Promise.all([...c.plan.changes].map((change) => shardWrites(() => write(change))));
    if (!recorded) {
      await release(c, false);
      return;
    }
    await release(c, true);
  }

  /** Clears a claim: with the sent levels' times when the message went out, unchanged if not. */
  async function release(c: Claimed, sent: boolean): Promise<void> {
    const { plan } = c;
    const lastSentAt = { ...(plan.state?.lastSentAt ?? {}) };
    if (sent) {
      // A level listed is reminded, its next reminder counting from now, unless the audience takes
      // it by SMS and the message reached no phone: an email-only warning that lists a waiting
      // escalation leaves the escalation's SMS reminder due on its own interval. (Past the SMS
      // budget, the phones' summary SMS sends them to the email.)
      const bySms = c.withSms || starvedPlans.has(plan);
      const smsFor = config.policy(plan.audience).smsFor;
      for (const level of levelsIn(c.message)) {
        if (bySms || !smsFor.has(level)) lastSentAt[level] = nowMs;
      }
    }
    const state = {
      id: groupStateId(plan.audience, plan.place),
      audience: plan.audience,
      place: plan.place,
      version: c.version,
      lastSentAt,
      ...(sent
        ? { lastMessageAt: nowMs }
        : plan.state?.lastMessageAt !== undefined
          ? { lastMessageAt: plan.state.lastMessageAt }
          : {}),
      // The thread begins with the first message logged this way and recorded in the ledger.
      ...(plan.state?.threadSince !== undefined
        ? { threadSince: plan.state.threadSince }
        : sent
          ? { threadSince: nowMs }
          : {}),
    };
    try {
      const released = await withRetry(() => ledger.releaseGroup(state, c.version, expiresAtMs), retry);
      if (!released) throw Object.assign(new Error('claim lost'), { name: 'LedgerClaimLost' });
    } catch (error) {
      result.failures.push({
        stage: 'record',
        group: groupId(plan.audience, plan.place),
        error: errorName(error),
        consequence: `its release may not have been recorded (a reply lost after it was, or another run's write since, reads the same): if not, its claim holds until the lease ends (${Math.round(leaseMs / 60_000)} min); either way the next run carries on`,
      });
    }
  }
}

/** The disclosure of a message a stopped run may have sent: its claim ran out holding what it was
 * about to disclose. Logged as possibly sent, so the disclosure log misses nothing that went out. */
function possiblySent(
  state: GroupState,
  runId: string,
  nowMs: number,
  config: CompiledConfig,
): AuditEntry | undefined {
  const claim = state.claim;
  if (!claim?.disclosing || claim.runId === runId || claim.leaseUntil > nowMs) return undefined;
  return {
    sentAt: new Date(claim.disclosing.at).toISOString(),
    messageId: `unconfirmed-${claim.runId}-${groupId(state.audience, state.place)}`,
    runId: claim.runId,
    kind: 'alert',
    audience: state.audience,
    ...whereIs(config, state.audience, state.place),
    level: claim.disclosing.levels,
    caseRefs: claim.disclosing.caseRefs,
    resolvedCaseRefs: claim.disclosing.resolved,
    reason: `possibly sent: run ${claim.runId} stopped after claiming this message, before confirming it went out`,
  };
}

/** The disclosure of a message whose publish got no answer: SNS may have taken it. Logged as
 * possibly sent, as a stopped run's claim is, and every case it lists gets an item of its own. */
function unconfirmedEntry(c: Claimed, runId: string, sentAt: string): AuditEntry {
  const { thread: _notRecorded, ...entry } = auditEntry(c, runId, sentAt);
  return {
    ...entry,
    messageId: `unconfirmed-${runId}-${groupId(c.plan.audience, c.plan.place)}`,
    reason: `possibly sent: SNS gave no answer to its publish (${entry.reason})`,
  };
}

/** The districts and local authorities an audience at a place covers. */
function whereIs(config: CompiledConfig, audience: string, place: string) {
  const known = config.file.audiences[audience] !== undefined;
  const districts = Object.keys(config.file.districts).filter(
    (d) => known && config.placeOf(audience, d) === place,
  );
  const authorities = [...new Set(districts.map((d) => config.localAuthorityOf(d)))];
  const one = (values: string[]) => (values.length === 1 ? (values[0] as string) : values);
  return { district: one(districts), localAuthority: one(authorities) };
}

function auditEntry(c: Claimed, runId: string, sentAt: string): AuditEntry {
  const message = c.outgoing as OutgoingMessage;
  const caseRefs = listedRefs(c.message);
  return {
    sentAt,
    messageId: c.messageId as string,
    runId,
    kind: message.kind,
    audience: c.plan.audience,
    district: message.district,
    localAuthority: message.localAuthority,
    level: message.level,
    caseRefs,
    resolvedCaseRefs: c.message.resolved,
    reason: reasonOf(c.plan.trigger),
    thread: auditThread(c),
  };
}

/** Which of a message's cases the disclosure log gives an item of their own (see AuditThread). */
function auditThread(c: Claimed): AuditThread {
  const { plan, message } = c;
  const news = new Set(plan.newRefs);
  const listed = new Set<string>();
  const itemised: string[] = [];
  for (const level of LEVELS) {
    for (const line of message.sections[level].lines) {
      listed.add(line.caseRef);
      if (news.has(line.caseRef) || plan.legacyLines.has(line)) itemised.push(line.caseRef);
    }
  }
  return {
    id: groupId(plan.audience, plan.place),
    itemised,
    counted: plan.newRefs.filter((caseRef) => !listed.has(caseRef)),
  };
}

const REASONS: Record<Trigger, string> = {
  'new-escalation': 'a case reached escalation',
  'new-breach': 'a case reached breach',
  'repeat-escalation': 'reminder: cases still at escalation, not acknowledged',
  'repeat-breach': 'reminder: cases still at breach, not acknowledged',
  'new-warning': 'a case reached warning',
  'repeat-warning': 'reminder: cases still at warning, not acknowledged',
  'resolved-only': 'cases no longer waiting',
};
const reasonOf = (trigger: Trigger | undefined) => (trigger ? REASONS[trigger] : 'alert');

function sentMessage(c: Claimed): SentMessage {
  const message = c.outgoing as OutgoingMessage;
  return {
    kind: message.kind,
    groups: [...message.groups],
    audience: c.plan.audience,
    place: c.plan.place,
    levels: [...message.level],
    ...(c.plan.trigger ? { trigger: c.plan.trigger } : {}),
    caseRefs: listedRefs(c.message),
    newCaseRefs: LEVELS.flatMap((l) => [...c.message.sections[l].newRefs]),
    resolved: [...c.message.resolved],
    messageId: c.messageId as string,
    ...(message.sms ? { sms: message.sms } : {}),
    ...(message.email ? { email: message.email } : {}),
  };
}

/** The levels a claimed group's message carries, as its SNS `level` attribute has them. */
const levelsOf = (c: Claimed): readonly Level[] => c.outgoing?.level ?? levelsIn(c.message);

/** Past the SMS budget: one summary SMS to the phones of these groups, whose alerts went by email
 * and carried the same levels. */
async function sendSummary(
  input: ScanInput,
  result: ScanResult,
  starved: Claimed[],
): Promise<SentMessage | undefined> {
  const max = input.config.file.sms.maxPerRun;
  const levels = levelsOf(starved[0] as Claimed);
  const sms = renderSummarySms(levels, max, input.config.file.linkBase);
  const groups = starved.map((c) => groupId(c.plan.audience, c.plan.place));
  const message: OutgoingMessage = {
    kind: 'summary',
    groups,
    audience: [...new Set(starved.map((c) => c.plan.audience))],
    district: [...new Set(starved.flatMap((c) => [...c.plan.districts]))],
    localAuthority: [...new Set(starved.flatMap((c) => [...c.plan.localAuthorities]))],
    level: levels,
    categories: [],
    sms,
  };
  const entryOf = (messageId: string, reason: string): AuditEntry => ({
    sentAt: result.at,
    messageId,
    runId: input.runId,
    kind: 'summary',
    audience: message.audience,
    district: message.district,
    localAuthority: message.localAuthority,
    level: message.level,
    caseRefs: [],
    resolvedCaseRefs: [],
    reason,
  });
  const log = (entry: AuditEntry) =>
    withRetry(() => input.audit.record(entry), input.retry ?? DEFAULT_RETRY).catch((error: unknown) => {
      result.unaudited.push(entry);
      result.failures.push({
        stage: 'audit',
        error: errorName(error),
        consequence:
          'the summary SMS was sent (or may have been), but is not in the disclosure log: the entry is kept and written again later',
      });
    });
  const reason = `SMS budget of ${max} reached; ${starved.length} alerts went by email only`;
  try {
    const messageId = await input.publisher.publish(message);
    result.smsSent += 1;
    await log(entryOf(messageId, reason));
    return {
      kind: 'summary',
      groups,
      audience: [...new Set(starved.map((c) => c.plan.audience))].join(','),
      place: [...new Set(starved.map((c) => c.plan.place))].join(','),
      levels: [...message.level],
      caseRefs: [],
      newCaseRefs: [],
      resolved: [],
      messageId,
      sms,
    };
  } catch (error) {
    const mayHaveGone = mayHaveBeenCarriedOut(error);
    if (mayHaveGone) {
      await log(
        entryOf(
          `unconfirmed-${input.runId}-summary-${levels.join(',')}`,
          `possibly sent: SNS gave no answer to its publish (${reason})`,
        ),
      );
    }
    result.failures.push({
      stage: 'summary',
      error: errorName(error),
      consequence: `${starved.length} alerts went by email as planned, but their phones ${mayHaveGone ? 'may not have been told (no answer from SNS: logged as possibly sent)' : 'were not told'}; they are recorded as sent and are not sent again`,
    });
    return undefined;
  }
}
