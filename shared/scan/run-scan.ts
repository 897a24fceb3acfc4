// One scan run: stream the open cases, evaluate them, decide against the alert ledger what is due,
// then claim, publish, record and audit each grouped message. Claims are conditional writes, so a
// retried or concurrent run never sends twice; a failed publish releases its claims, so whatever
// was due stays due for the next run. Nothing due is dropped.

import pLimit from 'p-limit';
import { ledgerGroup, ledgerShardOf } from '../adapters/ledger.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { LEVELS, type Level } from '../config/schema.ts';
import { type CaseView, checkCaseView } from '../domain/case.ts';
import { audienceLevels, evaluateCase, type LevelOrNone } from '../domain/engine.ts';
import {
  type AlertLine,
  alertLine,
  compareNotifications,
  emptyNotification,
  groupKey,
  type Notification,
  oldestLineFirst,
  renderEmail,
  renderSms,
} from '../domain/notify.ts';
import type {
  AuditLog,
  LedgerCase,
  LedgerShard,
  LedgerStore,
  OpenCaseSource,
  OutgoingMessage,
  Publisher,
} from './ports.ts';

export interface ScanInput {
  config: CompiledConfig;
  nowMs: number;
  runId: string;
  source: OpenCaseSource;
  ledger: LedgerStore;
  publisher: Publisher;
  audit: AuditLog;
  /** How long a claim holds before another run may take it over (default 5 minutes). */
  leaseMs?: number;
  /** How long ledger entries live after their last write (TTL; default 30 days). */
  ledgerTtlMs?: number;
  /** Concurrent ledger writes (default 16). */
  concurrency?: number;
  /** Messages published at once (default 8). */
  publishConcurrency?: number;
}

export interface SentMessage {
  kind: OutgoingMessage['kind'];
  audience: string;
  district: string;
  level: Level;
  caseRefs: string[];
  resolved: string[];
  messageId: string;
  sms?: string;
  email?: { subject: string; body: string };
}

export interface ScanResult {
  runId: string;
  at: string;
  /** Items read from the open-cases index. */
  read: number;
  open: number;
  invalid: Array<{ caseRef?: string; reason: string }>;
  levels: Record<LevelOrNone, number>;
  openByCategoryAndRisk: Record<string, number>;
  oldestAgeMsByCategory: Record<string, number>;
  /** (case, audience) pairs due this run, and those left to a run already sending them. */
  due: number;
  inFlightElsewhere: number;
  /** Claims lost to a concurrent run (it sends those). */
  lostClaims: number;
  messages: SentMessage[];
  smsSent: number;
  emailOnly: number;
  resolved: number;
  failed: Array<{ audience: string; district: string; level: Level; error: string }>;
}

const RANK: Record<Level, number> = { warning: 0, breach: 1, escalation: 2 };

interface DueItem {
  line: AlertLine;
  category: string;
  audience: string;
  district: string;
  level: Level;
  episode: string;
  group: string;
}

/** A shard this run works on: as loaded (if it existed), the cases it should end up with. */
interface ShardWork {
  loaded: LedgerShard | undefined;
  key: Pick<LedgerShard, 'group' | 'audience' | 'district' | 'shard'>;
  claimedVersion?: number;
  next: Map<string, LedgerCase>;
}

export async function runScan(input: ScanInput): Promise<ScanResult> {
  const { config, nowMs, runId, ledger } = input;
  const leaseMs = input.leaseMs ?? 5 * 60_000;
  const ttlMs = input.ledgerTtlMs ?? 30 * 86_400_000;
  const limit = pLimit(input.concurrency ?? 16);
  const repeatMs = (level: Level) => {
    const repeat = config.repeat[level];
    return repeat.kind === 'elapsed' ? repeat.ms : repeat.days * 86_400_000;
  };

  // The ledger first (a warm container keeps it in memory), so that each case is decided as the
  // index streams past: only what is due is kept, never the whole queue.
  const shards = new Map<string, LedgerShard>();
  for (const shard of await ledger.loadAll()) shards.set(shard.group, shard);
  const busy = (shard: LedgerShard | undefined) =>
    shard?.claim !== undefined && shard.claim.runId !== runId && shard.claim.leaseUntil > nowMs;

  const result: ScanResult = {
    runId,
    at: new Date(nowMs).toISOString(),
    read: 0,
    open: 0,
    invalid: [],
    levels: { none: 0, warning: 0, breach: 0, escalation: 0 },
    openByCategoryAndRisk: {},
    oldestAgeMsByCategory: {},
    due: 0,
    inFlightElsewhere: 0,
    lostClaims: 0,
    messages: [],
    smsSent: 0,
    emailOnly: 0,
    resolved: 0,
    failed: [],
  };

  // Stream the index page by page, deciding each alerting case against the ledger as it passes.
  const active = new Set<LedgerCase>(); // ledger entries whose case still alerts for that audience
  const due: DueItem[] = [];
  for await (const page of input.source.pages()) {
    for (const item of page) {
      result.read += 1;
      const checked = checkCaseView(item, config.vocabulary);
      if (!checked.ok) {
        result.invalid.push({
          ...(checked.caseRef ? { caseRef: checked.caseRef } : {}),
          reason: checked.reason,
        });
        continue;
      }
      const record: CaseView = checked.value;
      const evaluation = evaluateCase(record, config, nowMs);
      if (!evaluation) continue; // a closed case cannot be in the index; tolerate a stale item
      result.open += 1;
      result.levels[evaluation.level] += 1;
      const bucket = `${record.category}|${record.riskLevel}`;
      result.openByCategoryAndRisk[bucket] = (result.openByCategoryAndRisk[bucket] ?? 0) + 1;
      result.oldestAgeMsByCategory[record.category] = Math.max(
        result.oldestAgeMsByCategory[record.category] ?? 0,
        evaluation.ageMs,
      );
      if (evaluation.level === 'none') continue;
      const shardNumber = ledgerShardOf(record.caseRef);
      let line: AlertLine | undefined;
      for (const [audience, level] of audienceLevels(evaluation, config)) {
        const group = ledgerGroup(audience, record.district, shardNumber);
        const shard = shards.get(group);
        const previous = shard?.cases.get(record.caseRef);
        if (previous) active.add(previous);
        if (busy(shard)) {
          result.inFlightElsewhere += 1;
          continue;
        }
        const isDue =
          previous === undefined ||
          previous.episode !== record.stageEnteredAt ||
          RANK[level] > RANK[previous.level] ||
          nowMs - previous.notifiedAt >= repeatMs(level);
        if (!isDue) continue;
        line ??= alertLine(evaluation);
        due.push({
          line,
          category: record.category,
          audience,
          district: record.district,
          level,
          episode: record.stageEnteredAt,
          group,
        });
      }
    }
  }
  result.due = due.length;

  // Cases in the ledger that no longer alert for that audience: one "resolved" line, then gone.
  const resolvedByPlace = new Map<string, Array<{ group: string; caseRef: string; level: Level }>>();
  for (const shard of shards.values()) {
    if (busy(shard)) continue;
    for (const [caseRef, entry] of shard.cases) {
      if (active.has(entry)) continue;
      const place = `${shard.audience}|${shard.district}`;
      const resolved = resolvedByPlace.get(place) ?? [];
      resolved.push({ group: shard.group, caseRef, level: entry.level });
      resolvedByPlace.set(place, resolved);
    }
  }

  // Group what is due: one message per audience, district and level.
  interface Pending {
    notification: Notification;
    items: DueItem[];
    resolved: Array<{ group: string; caseRef: string }>;
  }
  const messages = new Map<string, Pending>();
  const pendingFor = (audience: string, district: string, level: Level, suffix = '') => {
    const key = `${groupKey(audience, district, level)}${suffix}`;
    let pending = messages.get(key);
    if (!pending) {
      pending = {
        notification: emptyNotification(audience, district, level, config),
        items: [],
        resolved: [],
      };
      messages.set(key, pending);
    }
    return pending;
  };
  for (const item of due) pendingFor(item.audience, item.district, item.level).items.push(item);
  // Resolved lines ride on the highest-level message to the same audience and district, or go
  // in a message of their own.
  for (const [place, resolved] of resolvedByPlace) {
    const [audience, district] = place.split('|') as [string, string];
    const carrier = LEVELS.toReversed()
      .map((level) => messages.get(groupKey(audience, district, level)))
      .find((m) => m !== undefined);
    const top = resolved.reduce<Level>((t, r) => (RANK[r.level] > RANK[t] ? r.level : t), 'warning');
    (carrier ?? pendingFor(audience, district, top, '|resolved')).resolved.push(...resolved);
  }

  // Claim every shard this run will change, with one conditional write each. A shard another run
  // claimed first is left to it: its cases go out in that run's messages, not ours.
  const work = new Map<string, ShardWork>();
  for (const pending of messages.values()) {
    const groups = [...pending.items.map((i) => i.group), ...pending.resolved.map((r) => r.group)];
    for (const group of groups) {
      if (work.has(group)) continue;
      const loaded = shards.get(group);
      const [audience = '', district = '', shard = '0'] = group.split('#');
      work.set(group, {
        loaded,
        key: { group, audience, district, shard: Number(shard) },
        next: new Map(loaded?.cases ?? []),
      });
    }
  }
  await Promise.all(
    [...work.values()].map((w) =>
      limit(async () => {
        const version = await ledger.claim(w.key, w.loaded?.version, { runId, leaseUntil: nowMs + leaseMs });
        if (version !== undefined) w.claimedVersion = version;
      }),
    ),
  );
  const claimed = (group: string) => work.get(group)?.claimedVersion !== undefined;

  const ordered = [...messages.values()].sort((a, b) => compareNotifications(a.notification, b.notification));
  const smsCap = config.file.sms.maxPerRun;

  // Compose every message first, in priority order (escalations first): the first `smsCap` carry
  // an SMS, the rest go by email only. Then publish several at once.
  const outgoing: Array<{
    notification: Notification;
    items: DueItem[];
    resolved: Pending['resolved'];
    message: OutgoingMessage;
  }> = [];
  for (const { notification, items: allItems, resolved: allResolved } of ordered) {
    const items = allItems.filter((i) => claimed(i.group));
    const resolved = allResolved.filter((r) => claimed(r.group));
    result.lostClaims += allItems.length - items.length;
    if (items.length === 0 && resolved.length === 0) continue;
    notification.cases = items.map((i) => i.line).sort(oldestLineFirst);
    notification.resolved = resolved.map((r) => r.caseRef).sort();
    const withSms = outgoing.length < smsCap;
    outgoing.push({
      notification,
      items,
      resolved,
      message: {
        kind: withSms ? 'alert' : 'email-only',
        audience: notification.audience,
        district: notification.district,
        localAuthority: notification.localAuthority,
        level: notification.level,
        categories: [...new Set(items.map((i) => i.category))],
        ...(withSms ? { sms: renderSms(notification, config) } : {}),
        email: renderEmail(notification, config, nowMs),
      },
    });
  }

  const publishLimit = pLimit(input.publishConcurrency ?? 8);
  const sent = await Promise.all(
    outgoing.map(({ notification, items, resolved, message }) =>
      publishLimit(async (): Promise<SentMessage | undefined> => {
        let messageId: string;
        try {
          messageId = await input.publisher.publish(message);
        } catch (error) {
          // Not sent: the ledger keeps what it had for these cases, so they stay due.
          result.failed.push({
            audience: notification.audience,
            district: notification.district,
            level: notification.level,
            error: error instanceof Error ? error.name : 'publish failed',
          });
          return undefined;
        }
        for (const item of items) {
          work
            .get(item.group)
            ?.next.set(item.line.caseRef, { level: item.level, episode: item.episode, notifiedAt: nowMs });
        }
        for (const r of resolved) work.get(r.group)?.next.delete(r.caseRef);
        const caseRefs = notification.cases.map((c) => c.caseRef);
        // The disclosure is logged as soon as the message is accepted.
        await input.audit.record({
          sentAt: result.at,
          messageId,
          runId,
          kind: message.kind,
          audience: notification.audience,
          district: notification.district,
          localAuthority: notification.localAuthority,
          level: notification.level,
          caseRefs,
          resolvedCaseRefs: notification.resolved,
          reason: caseRefs.length > 0 ? `${notification.level} threshold reached` : 'cases no longer waiting',
        });
        return {
          kind: message.kind,
          audience: notification.audience,
          district: notification.district,
          level: notification.level,
          caseRefs,
          resolved: notification.resolved,
          messageId,
          ...(message.sms ? { sms: message.sms } : {}),
          ...(message.email ? { email: message.email } : {}),
        };
      }),
    ),
  );
  const overflow: Notification[] = [];
  sent.forEach((message, i) => {
    if (!message) return;
    result.messages.push(message);
    result.resolved += message.resolved.length;
    if (message.kind === 'alert') result.smsSent += 1;
    else {
      result.emailOnly += 1;
      overflow.push((outgoing[i] as (typeof outgoing)[number]).notification);
    }
  });

  if (overflow.length > 0) await sendSummary(input, result, overflow);

  // Record what was sent and release the claims.
  await Promise.all(
    [...work.values()]
      .filter((w) => w.claimedVersion !== undefined)
      .map((w) =>
        limit(() =>
          ledger.complete(
            { ...w.key, version: w.claimedVersion as number, cases: w.next },
            w.claimedVersion as number,
            nowMs + ttlMs,
          ),
        ),
      ),
  );
  return result;
}

/** Past the SMS cap: one summary SMS to the phones that missed messages this run. */
async function sendSummary(input: ScanInput, result: ScanResult, overflow: Notification[]): Promise<void> {
  const cases = overflow.reduce((sum, n) => sum + n.cases.length, 0);
  const sms = `QW: ${overflow.length} more alerts (${cases} cases) this run went by email only: SMS limit ${input.config.file.sms.maxPerRun} reached. ${input.config.file.linkBase}`;
  const message: OutgoingMessage = {
    kind: 'summary',
    audience: overflow.map((n) => n.audience),
    district: overflow.map((n) => n.district),
    localAuthority: overflow.map((n) => n.localAuthority),
    level: [...new Set(overflow.map((n) => n.level))],
    categories: [],
    sms,
  };
  try {
    const messageId = await input.publisher.publish(message);
    result.smsSent += 1;
    await input.audit.record({
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
      reason: `SMS cap of ${input.config.file.sms.maxPerRun} reached; ${overflow.length} messages went by email only`,
    });
    result.messages.push({
      kind: 'summary',
      audience: [...new Set(overflow.map((n) => n.audience))].join(','),
      district: [...new Set(overflow.map((n) => n.district))].join(','),
      level: overflow[0]?.level ?? 'warning',
      caseRefs: [],
      resolved: [],
      messageId,
      sms,
    });
  } catch (error) {
    result.failed.push({
      audience: 'summary',
      district: '*',
      level: overflow[0]?.level ?? 'warning',
      error: error instanceof Error ? error.name : 'publish failed',
    });
  }
}
