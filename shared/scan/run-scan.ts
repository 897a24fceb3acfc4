// One scan run: stream the open cases, evaluate them, decide against the alert ledger what is due,
// then claim, publish, record and audit each grouped message. Claims are conditional writes, so a
// retried or concurrent run never sends twice; a failed publish releases its claims, so whatever
// was due stays due for the next run. Nothing due is dropped.

import pLimit from 'p-limit';
import type { CompiledConfig } from '../config/compile.ts';
import { LEVELS, type Level } from '../config/schema.ts';
import { type CaseView, checkCaseView } from '../domain/case.ts';
import { evaluateCase, type LevelOrNone } from '../domain/engine.ts';
import {
  type AlertLine,
  alertLine,
  compareNotifications,
  groupKey,
  type Notification,
  oldestLineFirst,
  renderEmail,
  renderSms,
} from '../domain/notify.ts';
import type {
  AuditLog,
  LedgerEntry,
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
const ledgerKey = (caseRef: string, audience: string) => `${caseRef}|${audience}`;

interface DueItem {
  line: AlertLine;
  category: string;
  audience: string;
  district: string;
  level: Level;
  episode: string;
  previous: LedgerEntry | undefined;
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

  const entries = new Map<string, LedgerEntry>();
  for (const entry of await ledger.loadAll()) entries.set(ledgerKey(entry.caseRef, entry.audience), entry);

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

  // Stream the index page by page: only alerting cases are kept, as small lines.
  const active = new Set<string>();
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
      const level = evaluation.level;
      for (const audience of config.audiencesFor(record, level)) {
        const key = ledgerKey(record.caseRef, audience);
        active.add(key);
        const previous = entries.get(key);
        if (previous?.state === 'pending' && previous.leaseUntil > nowMs) {
          result.inFlightElsewhere += 1;
          continue;
        }
        const sameEpisode = previous !== undefined && previous.episode === record.stageEnteredAt;
        const isDue =
          !sameEpisode ||
          previous.state === 'pending' || // a claim whose run died: not known to be sent
          previous.notifiedAt === undefined ||
          RANK[level] > RANK[previous.level] ||
          nowMs - previous.notifiedAt >= repeatMs(level);
        if (!isDue) continue;
        due.push({
          line: alertLine(evaluation),
          category: record.category,
          audience,
          district: record.district,
          level,
          episode: record.stageEnteredAt,
          previous,
        });
      }
    }
  }
  result.due = due.length;

  // Entries whose case no longer alerts for that audience: one "resolved" line, then forgotten.
  const resolvedByGroup = new Map<string, LedgerEntry[]>();
  const abandoned: LedgerEntry[] = [];
  for (const [key, entry] of entries) {
    if (active.has(key)) continue;
    if (entry.state === 'pending') {
      if (entry.leaseUntil <= nowMs) abandoned.push(entry);
      continue;
    }
    const group = `${entry.audience}|${entry.district}`;
    resolvedByGroup.set(group, [...(resolvedByGroup.get(group) ?? []), entry]);
  }
  await Promise.all(abandoned.map((e) => limit(() => ledger.remove(e, e.version))));

  // Group what is due: one message per audience, district and level.
  const groups = new Map<string, { notification: Notification; items: DueItem[] }>();
  for (const item of due) {
    const key = groupKey(item.audience, item.district, item.level);
    let group = groups.get(key);
    if (!group) {
      group = {
        notification: {
          audience: item.audience,
          district: item.district,
          localAuthority: config.localAuthorityOf(item.district),
          level: item.level,
          cases: [],
          resolved: [],
        },
        items: [],
      };
      groups.set(key, group);
    }
    group.items.push(item);
  }
  // Resolved lines ride on the highest-level message to the same audience and district, or go
  // in a message of their own.
  const resolvedEntries = new Map<Notification, LedgerEntry[]>();
  for (const [group, resolved] of resolvedByGroup) {
    const [audience, district] = group.split('|') as [string, string];
    const carrier = LEVELS.toReversed()
      .map((level) => groups.get(groupKey(audience, district, level)))
      .find((g) => g !== undefined);
    if (carrier) {
      resolvedEntries.set(carrier.notification, resolved);
      continue;
    }
    const level = resolved.reduce<Level>((top, e) => (RANK[e.level] > RANK[top] ? e.level : top), 'warning');
    const notification: Notification = {
      audience,
      district,
      localAuthority: config.localAuthorityOf(district),
      level,
      cases: [],
      resolved: [],
    };
    groups.set(`${groupKey(audience, district, level)}|resolved`, { notification, items: [] });
    resolvedEntries.set(notification, resolved);
  }

  const ordered = [...groups.values()].sort((a, b) => compareNotifications(a.notification, b.notification));
  const smsCap = config.file.sms.maxPerRun;
  const overflow: Notification[] = [];

  for (const { notification, items } of ordered) {
    // Claim every case in the group; a lost claim means a concurrent run is sending it.
    const claims = await Promise.all(
      items.map((item) =>
        limit(async () => {
          const claimed: LedgerEntry = {
            caseRef: item.line.caseRef,
            audience: item.audience,
            district: item.district,
            level: item.level,
            episode: item.episode,
            ...(item.previous?.notifiedAt !== undefined && item.previous.episode === item.episode
              ? { notifiedAt: item.previous.notifiedAt }
              : {}),
            state: 'pending',
            runId,
            leaseUntil: nowMs + leaseMs,
            version: (item.previous?.version ?? 0) + 1,
          };
          const ok = await ledger.put(claimed, item.previous?.version, nowMs + ttlMs);
          return ok ? { item, claimed } : undefined;
        }),
      ),
    );
    const won = claims.filter((c) => c !== undefined);
    result.lostClaims += claims.length - won.length;
    const resolved = resolvedEntries.get(notification) ?? [];
    if (won.length === 0 && resolved.length === 0) continue;

    notification.cases = won.map((c) => c.item.line).sort(oldestLineFirst);
    notification.resolved = resolved.map((e) => e.caseRef).sort();
    const withSms = result.smsSent < smsCap;
    const message: OutgoingMessage = {
      kind: withSms ? 'alert' : 'email-only',
      audience: notification.audience,
      district: notification.district,
      localAuthority: notification.localAuthority,
      level: notification.level,
      categories: [...new Set(won.map((c) => c.item.category))],
      ...(withSms ? { sms: renderSms(notification, config) } : {}),
      email: renderEmail(notification, config, nowMs),
    };

    let messageId: string;
    try {
      messageId = await input.publisher.publish(message);
    } catch (error) {
      // Not sent: put every claim back as it was, so the next run finds it due again.
      await Promise.all(
        won.map(({ item, claimed }) =>
          limit(() =>
            item.previous
              ? ledger.put(item.previous, claimed.version, nowMs + ttlMs)
              : ledger.remove(claimed, claimed.version),
          ),
        ),
      );
      result.failed.push({
        audience: notification.audience,
        district: notification.district,
        level: notification.level,
        error: error instanceof Error ? error.name : 'publish failed',
      });
      continue;
    }
    if (withSms) result.smsSent += 1;
    else {
      result.emailOnly += 1;
      overflow.push(notification);
    }

    await Promise.all([
      ...won.map(({ claimed }) =>
        limit(() =>
          ledger.put(
            { ...claimed, state: 'sent', notifiedAt: nowMs, version: claimed.version + 1, messageId },
            claimed.version,
            nowMs + ttlMs,
          ),
        ),
      ),
      ...resolved.map((entry) => limit(() => ledger.remove(entry, entry.version))),
    ]);
    result.resolved += resolved.length;
    const caseRefs = notification.cases.map((c) => c.caseRef);
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
    result.messages.push({
      kind: message.kind,
      audience: notification.audience,
      district: notification.district,
      level: notification.level,
      caseRefs,
      resolved: notification.resolved,
      messageId,
      ...(message.sms ? { sms: message.sms } : {}),
      ...(message.email ? { email: message.email } : {}),
    });
  }

  if (overflow.length > 0) await sendSummary(input, result, overflow);
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
