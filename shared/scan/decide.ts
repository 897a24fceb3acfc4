// Stage 2 of a run: decide, against the ledger, what each audience at each place should hear. The
// open cases come shard by shard, each with its own ledger records; each evaluated case joins its
// audiences' groups (one per audience and place); a case new to a level (or in a new stage) is
// news, the rest are still waiting. A group is due when it has news, when a
// level's reminder interval has passed for cases nobody acknowledged (outside its quiet hours), or
// when resolved lines have waited long enough on their own. Only what a message needs is kept:
// counts, the oldest lines of each level, and the ledger changes to record if it is sent.

import type { CompiledConfig } from '../config/compile.ts';
import { isQuiet } from '../config/policy.ts';
import { type AlertLine, alertLine, oldestLineFirst } from '../domain/alert-line.ts';
import { audienceLevels, type Evaluation } from '../domain/engine.ts';
import { LEVELS, LEVELS_HIGHEST_FIRST, type Level, rankOf } from '../domain/levels.ts';
import { ledgerShardOf } from '../domain/shards.ts';
import { ackId, caseShardId, groupStateId } from './ledger-keys.ts';
import type {
  CaseEntry,
  CaseShard,
  CaseShardsSnapshot,
  GroupAck,
  GroupState,
  GroupsSnapshot,
} from './ports.ts';

/** Why a group hears from us this run, most urgent first: the order the SMS budget serves them.
 * A new warning waits out its audience's quiet hours, as reminders and resolved lines alone do. */
export const TRIGGERS = [
  'new-escalation',
  'new-breach',
  'repeat-escalation',
  'repeat-breach',
  'new-warning',
  'repeat-warning',
  'resolved-only',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The level a trigger is about (undefined: resolved lines only). */
export const triggerLevel = (trigger: Trigger): Level | undefined =>
  trigger === 'resolved-only' ? undefined : (trigger.split('-')[1] as Level);

/** Cases listed per level in a message; the rest are counted. Bounds a run's memory by the number
 * of groups, not by the queue. */
export const LINES_PER_LEVEL = 300;
/** Resolved lines ride on the next message; alone, they wait this long since the last one. */
export const RESOLVED_ALONE_AFTER_MS = 4 * 3_600_000;
/** A reminder is due this much before its interval is up (a tenth of a short interval): scheduled
 * runs start a few seconds either side of their time, and a run starting earlier in its five minutes
 * than the one that last sent must not hold the reminder back a whole run (an hourly reminder every
 * 65 minutes). Less than a run, so it never comes a run early. */
export const REPEAT_SLACK_MS = 2 * 60_000;

interface Section {
  count: number;
  newCount: number;
  newLines: AlertLine[];
  oldLines: AlertLine[];
}

/** A ledger change to record if the group's message goes out: an entry to set, or null to drop. */
export interface ShardChange {
  audience: string;
  district: string;
  shard: number;
  entries: Map<string, CaseEntry | null>;
}

export interface GroupPlan {
  audience: string;
  place: string;
  state: GroupState | undefined;
  ack: GroupAck | undefined;
  sections: Record<Level, Section>;
  /** Still-waiting cases whose reminders an acknowledgement pauses. */
  acknowledged: number;
  /** Still-waiting cases nobody acknowledged, per level, and when each level was last notified. */
  unacked: Record<Level, number>;
  latestNotified: Partial<Record<Level, number>>;
  resolved: string[];
  resolvedCount: number;
  /** The levels the resolved cases were last notified at. */
  resolvedLevels: Set<Level>;
  /** What the group learnt of as news this run, and what left it, by case: a case moving
   * district appears in both (for an audience whose place spans both districts) and is neither. */
  news: Map<string, { level: Level; episodeMs: number; line: AlertLine; district: string; shard: number }>;
  left: Map<string, { entry: CaseEntry; district: string; shard: number }>;
  /** Set by finish(): every case that is news to the group (listed or only counted). */
  newRefs: string[];
  /** When the group's disclosure thread began (now, if it has not yet): see AuditThread. */
  threadSince: number;
  /** Lines of still-waiting cases notified before the thread began: a message that lists one
   * gives it an item in the disclosure log. Weak, so lines cut from a section are let go. */
  legacyLines: WeakSet<AlertLine>;
  changes: Map<string, ShardChange>;
  districts: Set<string>;
  localAuthorities: Set<string>;
  categories: Set<string>;
  oldestAgeMs: number;
  /** Set by finish(): why this group hears from us, if it does. */
  trigger?: Trigger;
  /** Another run holds this group's claim: its cases are that run's to send. */
  busy: boolean;
}

/** A still-waiting case's line, marked if the case was notified before the group's thread began
 * (its own copy: a line is shared by the case's audiences). */
const waitingLine = (plan: GroupPlan, line: AlertLine, entry: CaseEntry): AlertLine => {
  if (entry.notifiedAt >= plan.threadSince) return line;
  const legacy = { ...line };
  plan.legacyLines.add(legacy);
  return legacy;
};

const keep = (lines: AlertLine[], line: AlertLine) => {
  lines.push(line);
  // Amortised: sort and cut only when the list has doubled.
  if (lines.length >= 2 * LINES_PER_LEVEL) {
    lines.sort(oldestLineFirst);
    lines.length = LINES_PER_LEVEL;
  }
};

export class GroupBook {
  private readonly plans = new Map<string, GroupPlan>();
  /** The stored case records a change will be written over (kept only for shards that change). */
  private readonly stored = new Map<string, CaseShard>();

  constructor(
    private readonly config: CompiledConfig,
    private readonly ledger: GroupsSnapshot,
    private readonly nowMs: number,
    private readonly runId: string,
  ) {}

  /** The stored record a change to this case shard is written over (undefined: none yet). */
  storedShard(id: string): CaseShard | undefined {
    return this.stored.get(id);
  }

  /** One shard of the open cases, with its ledger records: decided as its cases stream past, then
   * forgotten but for what its groups need. */
  shard(records: CaseShardsSnapshot): ShardDecider {
    return new ShardDecider(this, records, this.config, this.nowMs);
  }

  /** The group of an audience at a place, started when first met. */
  planFor(audience: string, place: string): GroupPlan {
    const key = `${audience}@${place}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const state = this.ledger.groups.get(groupStateId(audience, place));
      plan = {
        audience,
        place,
        state,
        ack: this.ledger.acks.get(ackId(audience, place)),
        sections: {
          warning: { count: 0, newCount: 0, newLines: [], oldLines: [] },
          breach: { count: 0, newCount: 0, newLines: [], oldLines: [] },
          escalation: { count: 0, newCount: 0, newLines: [], oldLines: [] },
        },
        acknowledged: 0,
        unacked: { warning: 0, breach: 0, escalation: 0 },
        latestNotified: {},
        resolved: [],
        resolvedCount: 0,
        resolvedLevels: new Set(),
        news: new Map(),
        left: new Map(),
        newRefs: [],
        threadSince: state?.threadSince ?? this.nowMs,
        legacyLines: new WeakSet(),
        changes: new Map(),
        districts: new Set(),
        localAuthorities: new Set(),
        categories: new Set(),
        oldestAgeMs: 0,
        busy:
          state?.claim !== undefined &&
          state.claim.runId !== this.runId &&
          state.claim.leaseUntil > this.nowMs,
      };
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Keeps the stored record a change will be written over. */
  remember(id: string, record: CaseShard | undefined): void {
    if (record && !this.stored.has(id)) this.stored.set(id, record);
  }

  change(plan: GroupPlan, district: string, shard: number, caseRef: string, entry: CaseEntry | null): void {
    const id = caseShardId(plan.audience, district, shard);
    let change = plan.changes.get(id);
    if (!change) {
      change = { audience: plan.audience, district, shard, entries: new Map() };
      plan.changes.set(id, change);
    }
    change.entries.set(caseRef, entry);
  }

  /** Counts a case still waiting for a group: covered by an acknowledgement, or due reminders. */
  waiting(plan: GroupPlan, level: Level, entry: CaseEntry): void {
    const ack = plan.ack;
    if (ack && (ack.until[level] ?? 0) > this.nowMs && entry.notifiedAt <= ack.asOf) plan.acknowledged += 1;
    else {
      plan.unacked[level] += 1;
      plan.latestNotified[level] = Math.max(plan.latestNotified[level] ?? 0, entry.notifiedAt);
    }
  }

  /** After every shard: a case that left one shard of a group and came as news in another (it moved
   * district within the group's place) is neither news nor resolved; what truly left gets its
   * resolved line; then which groups are due. */
  finish(): GroupPlan[] {
    const plans = [...this.plans.values()];
    for (const plan of plans) {
      for (const [caseRef, gone] of plan.left) {
        this.change(plan, gone.district, gone.shard, caseRef, null);
        const news = plan.news.get(caseRef);
        if (news) {
          const still =
            news.episodeMs === gone.entry.episodeMs && rankOf(news.level) <= rankOf(gone.entry.level);
          if (still) {
            const section = plan.sections[news.level];
            section.newCount -= 1;
            const at = section.newLines.indexOf(news.line);
            if (at >= 0) section.newLines.splice(at, 1);
            const entry = { level: news.level, episodeMs: news.episodeMs, notifiedAt: gone.entry.notifiedAt };
            keep(section.oldLines, waitingLine(plan, news.line, entry));
            plan.news.delete(caseRef);
            this.change(plan, news.district, news.shard, caseRef, entry);
            this.waiting(plan, news.level, entry);
          }
          continue;
        }
        plan.resolvedCount += 1;
        plan.resolvedLevels.add(gone.entry.level);
        if (plan.resolved.length < LINES_PER_LEVEL) plan.resolved.push(caseRef);
        plan.districts.add(gone.district);
        plan.localAuthorities.add(this.config.localAuthorityOf(gone.district));
      }
      plan.left.clear();
      plan.newRefs = [...plan.news.keys()];
      plan.news.clear();
      plan.resolved.sort();
      for (const level of LEVELS) {
        const s = plan.sections[level];
        s.newLines.sort(oldestLineFirst);
        s.newLines.length = Math.min(s.newLines.length, LINES_PER_LEVEL);
        s.oldLines.sort(oldestLineFirst);
        s.oldLines.length = Math.min(s.oldLines.length, LINES_PER_LEVEL - s.newLines.length);
      }
      const trigger = this.triggerOf(plan);
      if (trigger) plan.trigger = trigger;
    }
    return plans;
  }

  private triggerOf(plan: GroupPlan): Trigger | undefined {
    const policy = this.config.policy(plan.audience);
    const quiet = isQuiet(policy, this.nowMs);
    const repeatDue = (level: Level) => {
      if (quiet || plan.unacked[level] === 0) return false;
      const last = plan.state?.lastSentAt[level] ?? plan.latestNotified[level] ?? 0;
      const repeatMs = policy.repeatMs[level];
      return this.nowMs - last >= repeatMs - Math.min(repeatMs / 10, REPEAT_SLACK_MS);
    };
    const newTop = LEVELS_HIGHEST_FIRST.find((l) => plan.sections[l].newCount > 0);
    if (newTop === 'escalation') return 'new-escalation';
    if (newTop === 'breach') return 'new-breach';
    if (repeatDue('escalation')) return 'repeat-escalation';
    if (repeatDue('breach')) return 'repeat-breach';
    if (newTop === 'warning' && !quiet) return 'new-warning';
    if (repeatDue('warning')) return 'repeat-warning';
    // Resolved lines alone are no news to wake anyone with: they wait out quiet hours too (and a
    // message sent for them would carry the new warnings that are waiting).
    const lastMessage = plan.state?.lastMessageAt ?? 0;
    if (!quiet && plan.resolvedCount > 0 && this.nowMs - lastMessage >= RESOLVED_ALONE_AFTER_MS)
      return 'resolved-only';
    return undefined;
  }
}

interface SlotRecord {
  id: string;
  stored: CaseShard | undefined;
  seen: Set<string>;
}

interface Slot {
  plan: GroupPlan;
  /** By ledger shard number. */
  records: Array<SlotRecord | undefined>;
}

/** One shard of a run: its cases join their groups as they stream past, against the shard's own
 * ledger records; at the end, what the records hold and the shard no longer does has left. */
export class ShardDecider {
  /** Ledger entries whose case was seen (alerting or held) in this shard, per record. */
  private readonly seen = new Map<string, Set<string>>();
  /** Per audience and district: its group, and its ledger records as met (a shard is most often
   * one district, so this is a handful of entries looked up once per case and audience). */
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly book: GroupBook,
    private readonly records: CaseShardsSnapshot,
    private readonly config: CompiledConfig,
    private readonly nowMs: number,
  ) {}

  private markSeen(shardId: string, caseRef: string) {
    let refs = this.seen.get(shardId);
    if (!refs) {
      refs = new Set();
      this.seen.set(shardId, refs);
    }
    refs.add(caseRef);
  }

  /** The group an audience hears of a district's cases in (the district and its local authority
   * joined to it once), and that district's ledger records for the audience. */
  private slot(audience: string, district: string): Slot {
    const key = `${audience}#${district}`;
    let slot = this.slots.get(key);
    if (!slot) {
      const plan = this.book.planFor(audience, this.config.placeOf(audience, district));
      plan.districts.add(district);
      plan.localAuthorities.add(this.config.localAuthorityOf(district));
      slot = { plan, records: [] };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private record(slot: Slot, audience: string, district: string, shard: number): SlotRecord {
    let record = slot.records[shard];
    if (!record) {
      const id = caseShardId(audience, district, shard);
      let seen = this.seen.get(id);
      if (!seen) {
        seen = new Set();
        this.seen.set(id, seen);
      }
      record = { id, stored: this.records.shards.get(id), seen };
      slot.records[shard] = record;
    }
    return record;
  }

  /** An open case, evaluated: it joins the group of each audience it reaches. */
  add(evaluation: Evaluation): void {
    if (evaluation.level === 'none') return;
    const { record } = evaluation;
    const { caseRef, district } = record;
    const shard = ledgerShardOf(caseRef);
    let line: AlertLine | undefined;
    for (const [audience, level] of audienceLevels(evaluation, this.config)) {
      const slot = this.slot(audience, district);
      const plan = slot.plan;
      const { id: shardId, stored, seen } = this.record(slot, audience, district, shard);
      seen.add(caseRef);
      const entry = stored?.cases.get(caseRef);
      const isNew =
        entry === undefined || entry.episodeMs !== evaluation.startMs || rankOf(level) > rankOf(entry.level);
      line ??= alertLine(evaluation);
      const section = plan.sections[level];
      section.count += 1;
      if (isNew) {
        section.newCount += 1;
        keep(section.newLines, line);
        plan.news.set(caseRef, { level, episodeMs: evaluation.startMs, line, district, shard });
        this.book.remember(shardId, stored);
        this.book.change(plan, district, shard, caseRef, {
          level,
          episodeMs: evaluation.startMs,
          notifiedAt: this.nowMs,
        });
      } else {
        keep(section.oldLines, waitingLine(plan, line, entry));
        // A lower level than notified (a re-grade): remember it, so a rise again is news.
        if (level !== entry.level) {
          this.book.remember(shardId, stored);
          this.book.change(plan, district, shard, caseRef, { ...entry, level });
        }
        this.book.waiting(plan, level, entry);
      }
      plan.categories.add(record.category);
      if (evaluation.ageMs > plan.oldestAgeMs) plan.oldestAgeMs = evaluation.ageMs;
    }
  }

  /** A case that could not be read or evaluated: what the ledger holds for it stays as it is. */
  held(caseRef: string): void {
    for (const [shardId, shard] of this.records.shards) {
      if (shard.cases.has(caseRef)) this.markSeen(shardId, caseRef);
    }
  }

  /** The shard has been read: (only if to the end, as an unseen case may simply not have been
   * read) what its records hold that it no longer does has left its group. */
  end(readComplete: boolean): void {
    if (!readComplete) return;
    const known = this.config.vocabulary.districts;
    for (const [shardId, shard] of this.records.shards) {
      // An audience or district the config no longer has: its entries are left to expire.
      if (!this.config.file.audiences[shard.audience] || !known.has(shard.district)) continue;
      const seen = this.seen.get(shardId);
      for (const [caseRef, entry] of shard.cases) {
        if (seen?.has(caseRef)) continue;
        const plan = this.book.planFor(shard.audience, this.config.placeOf(shard.audience, shard.district));
        plan.left.set(caseRef, { entry, district: shard.district, shard: shard.shard });
        this.book.remember(shardId, shard);
      }
    }
  }
}

/** The lines a group's message lists at a level: every new one (up to the limit), then the oldest. */
export const sectionLines = (s: Section): AlertLine[] => [...s.newLines, ...s.oldLines].sort(oldestLineFirst);
