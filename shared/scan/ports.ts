// The scan's ports: where open cases come from, the alert ledger, acknowledgement links, the
// message sink, the disclosure log, the ops topic and the state records; the digest, the signals,
// the feed and the acknowledge endpoint share them. DynamoDB and SNS adapters live in shared/adapters; the
// local run, `evaluate` and the tests plug in in-memory ones.

import type { CompiledConfig } from '../config/compile.ts';
import type { MessageKind } from '../delivery/sns-message.ts';
import type { AlertLine } from '../domain/alert-line.ts';
import type { Level } from '../domain/levels.ts';
import type { ShardRef } from '../domain/shards.ts';

/** The open cases, shard by shard: pages of raw items (validated by the scan, not trusted). */
export interface OpenCaseSource {
  /** Called once at the start of a run, before shards(): a source that decides per run what to read
   * (a mirror switching indexes) decides here, and says why when it reads other than deployed to.
   * Never throws: a source that cannot decide reads what holds every open case. */
  prepare?(): Promise<{ note?: string }>;
  /** The shards to read for a config's districts (a source that is not sharded gives ALL_SHARDS). */
  shards(districts: readonly string[]): readonly ShardRef[];
  pages(shard: ShardRef): AsyncIterable<readonly Record<string, unknown>[]>;
}

/** What the ledger remembers of one case notified to one audience. */
export interface CaseEntry {
  /** The level last notified. */
  level: Level;
  /** When the notified stage was entered (ms; its stageEnteredAt): a new stage is a new episode. */
  episodeMs: number;
  /** When this level (of this episode) was first notified (ms). */
  notifiedAt: number;
}

/** The cases notified to one audience in one district, spread over a few shards by reference so
 * each record stays small. */
export interface CaseShard {
  id: string;
  audience: string;
  district: string;
  shard: number;
  version: number;
  cases: Map<string, CaseEntry>;
}

/** One audience at one place (the unit a message goes to): when each level was last sent to it,
 * and a run's claim while it sends. Only the run holding a group's claim writes its case shards. */
export interface GroupState {
  id: string;
  audience: string;
  place: string;
  version: number;
  /** When a message listing cases at each level last went out (ms). */
  lastSentAt: Partial<Record<Level, number>>;
  /** When any message last went out (ms). */
  lastMessageAt?: number;
  /** When the group's disclosure thread began (ms; see AuditThread): a case notified before then
   * was logged the first release's way, so each message that lists it gives it an item. */
  threadSince?: number;
  claim?: Claim;
}

/** A run's hold on a group while it sends, and what it is about to disclose: should the run die
 * after publishing, the run that takes the group over logs this as possibly sent. */
export interface Claim {
  runId: string;
  leaseUntil: number;
  disclosing?: { at: number; caseRefs: string[]; resolved: string[]; levels: Level[] };
}

/** An acknowledgement of a message: the cases it listed at each level, as of when it was sent,
 * have their reminders paused until `until[level]`. Written by the acknowledgement function. */
export interface GroupAck {
  audience: string;
  place: string;
  /** When the acknowledged message was sent (ms): cases notified later are not covered. */
  asOf: number;
  until: Partial<Record<Level, number>>;
  /** When it was acknowledged (ms). */
  at: number;
}

/** What a run knows of its groups before it reads any case: their states and acknowledgements. */
export interface GroupsSnapshot {
  groups: Map<string, GroupState>;
  acks: Map<string, GroupAck>;
  /** Records that could not be read (left alone; reported). */
  unreadable: number;
}

/** The case records of one shard (all audiences), as the run reads them beside the shard's cases. */
export interface CaseShardsSnapshot {
  shards: Map<string, CaseShard>;
  unreadable: number;
}

export type GroupKey = Pick<GroupState, 'audience' | 'place'>;

export interface LedgerStore {
  /** The state and acknowledgement of each of these groups that has one. */
  loadGroups(keys: readonly GroupKey[]): Promise<GroupsSnapshot>;
  /** The case records of a shard for these audiences (ALL_SHARDS: every case record). */
  loadCaseShards(shard: ShardRef, audiences: readonly string[]): Promise<CaseShardsSnapshot>;
  /** Claims a group for this run: succeeds only if it is still at `expectedVersion` (or absent,
   * when undefined). Returns the new version, or undefined if another run got there first. */
  claimGroup(key: GroupKey, expectedVersion: number | undefined, claim: Claim): Promise<number | undefined>;
  /** Replaces a case shard (deleting it when empty), conditional on its version (absent when
   * undefined). False if it changed meanwhile. */
  writeShard(shard: CaseShard, expectedVersion: number | undefined, expiresAtMs: number): Promise<boolean>;
  /** Stores a claimed group's new state and clears the claim, conditional on the claimed version. */
  releaseGroup(state: GroupState, claimedVersion: number, expiresAtMs: number): Promise<boolean>;
}

/** Where acknowledgements are written (the acknowledgement function's side of the ledger). */
export interface AckStore {
  /** Adds an acknowledgement to what is stored for its audience and place (see mergeAcks). */
  acknowledge(ack: GroupAck, options?: CallOptions): Promise<void>;
}

/** For a caller with a deadline: once `signal` is aborted, a store starts no request (a request
 * under way is cut off; it may still have landed). */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Two acknowledgements of one audience at one place, as one: each level paused until the later of
 * the two, covering cases notified up to the later message (which listed every case still waiting
 * when it was sent, so it acknowledged those too). */
export function mergeAcks(stored: GroupAck | undefined, added: GroupAck): GroupAck {
  if (!stored) return { ...added, until: { ...added.until } };
  const until = { ...stored.until };
  for (const [level, at] of Object.entries(added.until) as Array<[Level, number]>) {
    until[level] = Math.max(until[level] ?? 0, at);
  }
  return {
    audience: added.audience,
    place: added.place,
    asOf: Math.max(stored.asOf, added.asOf),
    at: Math.max(stored.at, added.at),
    until,
  };
}

/** What an acknowledgement link is for: one message's cases, to one audience, by one channel. */
export interface AckLinkRequest {
  audience: string;
  place: string;
  placeName: string;
  channel: 'sms' | 'email';
  runId: string;
  sentAtMs: number;
  expiresAtMs: number;
  /** The cases the message lists at each level, and how many it counts. */
  sections: Partial<Record<Level, { count: number; lines: AlertLine[] }>>;
  linkBase: string;
  /** The acknowledgement page's public address from the config in force (else the adapter's own,
   * the deployment's address). */
  baseUrl?: string;
}

/** Makes acknowledgement links (a short single-use token each, stored with a TTL). */
export interface AckLinks {
  /** One link per request, in order; throws if none could be stored. */
  create(requests: readonly AckLinkRequest[]): Promise<string[]>;
}

export interface OutgoingMessage {
  kind: MessageKind;
  /** The audience@place groups it is for: subscription filter policies match on these. */
  groups: readonly string[];
  audience: string | readonly string[];
  district: string | readonly string[];
  localAuthority: string | readonly string[];
  level: readonly Level[];
  categories: readonly string[];
  /** SMS body (one segment); absent for email-only messages. */
  sms?: string;
  email?: { subject: string; body: string };
}

export interface Publisher {
  /** Publishes and returns the message id; throws when the message was not accepted. */
  publish(message: OutgoingMessage): Promise<string>;
}

/** One disclosure (DPA 2018 s62): when, to whom, which cases, why. Never the text. An
 * acknowledgement is logged the same way: by whom (the audience at its place, and the channel),
 * when, which cases. */
export interface AuditEntry {
  sentAt: string;
  messageId: string;
  runId: string;
  kind: MessageKind | 'acknowledgement';
  audience: string | readonly string[];
  district: string | readonly string[];
  localAuthority: string | readonly string[];
  level: Level | readonly Level[];
  caseRefs: readonly string[];
  resolvedCaseRefs: readonly string[];
  reason: string;
  /** The scan's messages to one group; absent, every case listed gets an item of its own. */
  thread?: AuditThread;
}

/** The messages to one audience at one place, as the disclosure log keeps them: each message once,
 * indexed by its thread, and an item of its own for a case only where the thread starts telling
 * of it (its news, listed or only counted) and where it ends (its resolved line). "Who was told
 * about this case" reads the thread from each start to its end for the messages that list it,
 * instead of an item for every case of every reminder. */
export interface AuditThread {
  /** `audience@place`. */
  id: string;
  /** Listed cases that get an item: news, and cases notified before the thread began. */
  itemised: readonly string[];
  /** News the message counts but does not list (past the lines a level lists). */
  counted: readonly string[];
}

export interface AuditLog {
  record(entry: AuditEntry, options?: CallOptions): Promise<void>;
}

/** The config a run works to, and where it came from (the pushed parameter, the last good one or
 * the shipped default). */
export interface ConfigInForce {
  config: CompiledConfig;
  source: 'parameter' | 'last-good' | 'default';
  /** Why the parameter's config is not in force, if it is not. */
  problem?: string;
  /** A config was pushed and is not the one in force: the push was refused, or the parameter was
   * deleted after it (not merely: nothing pushed yet, or the parameter unreadable for a moment). */
  pushNotInForce?: boolean;
  /** Dependencies that failed while the config was found (names only), for the logs. */
  degraded?: string[];
}

/** The metric counted whenever a report to ops could not be sent: the alarm on it is then the only
 * way ops hear of what the report was about. */
export const OPS_REPORT_FAILURES = 'OpsReportFailures';

/** Counted at every run while a pushed config is not in force (see ConfigInForce.pushNotInForce),
 * so its alarm stays raised until a good config is pushed. */
export const CONFIG_NOT_IN_FORCE = 'PushedConfigNotInForce';

/** System-health messages to the ops topic: plain text, no case data beyond counts and references. */
export interface OpsNotifier {
  notify(subject: string, text: string): Promise<void>;
}

/** Small named records of system state (last good config, last ops report). */
export interface StateStore {
  get(name: string): Promise<Record<string, unknown> | undefined>;
  put(name: string, value: Record<string, unknown>): Promise<void>;
}

/** The group id a message and a subscription share: `district-supervisor@D01`. */
export const groupId = (audience: string, place: string) => `${audience}@${place}`;
