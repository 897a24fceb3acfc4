// What the daily picture says, gathered in one pass over the open cases: counts by district, risk
// level, age band and level; which cases reached breach or escalation since yesterday's digest fell
// due (the clock's crossing, checked against when the scan first told of it) and which will in the
// next 24 hours (following the engine's `next` level, so no deadline is worked out twice); the
// oldest cases; and, from the alert ledger, the alerts nobody has acknowledged about cases still
// waiting. Pure: `now` is a parameter, and only references, categories, risk levels, stages, ages
// and districts are kept.

import type { CompiledConfig } from '../config/compile.ts';
import { type AlertLine, alertLine } from '../domain/alert-line.ts';
import type { CaseView, RiskLevel } from '../domain/case.ts';
import { audienceLevels, type Evaluation, evaluateCase, type LevelOrNone } from '../domain/engine.ts';
import { LEVELS, type Level, rankOf } from '../domain/levels.ts';
import { byCodeUnit } from '../domain/order.ts';
import { ackId } from '../scan/ledger-keys.ts';
import type { CaseEntry, GroupAck } from '../scan/ports.ts';
import type { LedgerSnapshot } from '../scan/whole.ts';
import type { DistrictSnapshot } from './ports.ts';

const DAY_MS = 86_400_000;

/** How long cases have waited in their current stage, in bands a reader can compare day to day. */
export const AGE_BANDS = [
  { label: 'under 1 day', belowMs: DAY_MS },
  { label: '1-3 days', belowMs: 3 * DAY_MS },
  { label: '3-7 days', belowMs: 7 * DAY_MS },
  { label: '7-30 days', belowMs: 30 * DAY_MS },
  { label: 'over 30 days', belowMs: Number.POSITIVE_INFINITY },
] as const;

export const ageBandOf = (ageMs: number): number => AGE_BANDS.findIndex((band) => ageMs < band.belowMs);

/** The window ahead: "in the next 24 hours". ("Since yesterday" starts when yesterday's digest fell
 * due: see sinceYesterdayMs.) */
export const WINDOW_MS = DAY_MS;

/** Lines kept per district and list: more than any digest shows, so a place's list, merged from its
 * districts, is still the right one. Bounds memory by districts, not by the queue. */
export const LINES_KEPT = 200;

export interface Tally {
  open: number;
  risk: Record<RiskLevel, number>;
  /** Per AGE_BANDS entry. */
  ages: number[];
  levels: Record<LevelOrNone, number>;
  oldestAgeMs: number;
}

export const emptyTally = (): Tally => ({
  open: 0,
  risk: { high: 0, medium: 0, standard: 0 },
  ages: AGE_BANDS.map(() => 0),
  levels: { none: 0, warning: 0, breach: 0, escalation: 0 },
  oldestAgeMs: 0,
});

export function addTally(into: Tally, other: Tally): Tally {
  into.open += other.open;
  for (const risk of Object.keys(into.risk) as RiskLevel[]) into.risk[risk] += other.risk[risk];
  other.ages.forEach((n, i) => {
    into.ages[i] = (into.ages[i] ?? 0) + n;
  });
  for (const level of Object.keys(into.levels) as LevelOrNone[]) into.levels[level] += other.levels[level];
  into.oldestAgeMs = Math.max(into.oldestAgeMs, other.oldestAgeMs);
  return into;
}

/** Cases at breach or escalation: past their limits. */
export const pastLimits = (t: Pick<Tally, 'levels'>) => t.levels.breach + t.levels.escalation;

/** One case in a digest list: the fields an alert may carry, and its district and level. */
export interface DigestLine extends AlertLine {
  district: string;
  level: LevelOrNone;
}

/** A case reaching breach or escalation, and when it did (or will). */
export interface ChangeLine extends DigestLine {
  reaches: Level;
  atMs: number;
  /** `atMs` is when the scan first alerted anyone of it, the case's clock not explaining it (a
   * re-grade up, a late arrival in the mirror, a scan not running): not when its limit passed. */
  firstAlerted?: true;
}

/** A list as a digest shows it: how many in all, and the lines kept (the rest are counted). */
export interface Listed<T> {
  count: number;
  lines: T[];
}

const byRef = (a: AlertLine, b: AlertLine) => byCodeUnit(a.caseRef, b.caseRef);
export const oldestFirst = (a: DigestLine, b: DigestLine) => b.ageMs - a.ageMs || byRef(a, b);
/** Breaches since yesterday: escalations first, then the oldest. */
export const highestFirst = (a: ChangeLine, b: ChangeLine) =>
  rankOf(b.reaches) - rankOf(a.reaches) || oldestFirst(a, b);
/** What falls due: the soonest first. */
export const soonestFirst = (a: ChangeLine, b: ChangeLine) => a.atMs - b.atMs || oldestFirst(a, b);

/** A bounded list in an order: amortised, it sorts and cuts only when it has doubled. */
class Kept<T> {
  count = 0;
  private lines: T[] = [];

  constructor(private readonly order: (a: T, b: T) => number) {}

  add(line: T): void {
    this.count += 1;
    this.lines.push(line);
    if (this.lines.length >= 2 * LINES_KEPT) this.cut();
  }

  private cut(): void {
    this.lines.sort(this.order);
    this.lines.length = Math.min(this.lines.length, LINES_KEPT);
  }

  listed(): Listed<T> {
    this.cut();
    return { count: this.count, lines: [...this.lines] };
  }
}

/** Merges districts' lists into a place's, in order, keeping `limit` lines. */
export function mergeListed<T>(lists: Listed<T>[], order: (a: T, b: T) => number, limit: number): Listed<T> {
  const lines = lists.flatMap((l) => l.lines).sort(order);
  return { count: lists.reduce((n, l) => n + l.count, 0), lines: lines.slice(0, limit) };
}

/** The levels a case reaches after `fromMs`, up to and including `toMs`, each with when: the engine's
 * `next`, followed (at most three steps: warning, breach, escalation). */
export function levelChanges(
  record: CaseView,
  config: CompiledConfig,
  fromMs: number,
  toMs: number,
): Array<{ level: Level; atMs: number }> {
  const changes: Array<{ level: Level; atMs: number }> = [];
  let evaluation = evaluateCase(record, config, fromMs);
  while (evaluation?.next && evaluation.next.at <= toMs && changes.length < LEVELS.length) {
    const atMs = evaluation.next.at;
    const before = evaluation.level;
    evaluation = evaluateCase(record, config, atMs);
    if (!evaluation || evaluation.level === 'none') break;
    if (before !== 'none' && rankOf(evaluation.level) <= rankOf(before)) break;
    changes.push({ level: evaluation.level, atMs });
  }
  return changes;
}

const BREACH_RANK = rankOf('breach');
/** The levels past a case's limits. */
const PAST_LIMITS_HIGHEST_FIRST = ['escalation', 'breach'] as const;

/** The scan runs at least hourly (`scheduleMinutes` is at most 60), so a level a case's clock
 * reaches is first told within about this long. A first alert later than this after the clock's
 * crossing (or with no crossing at all under the case's present risk level) is not explained by the
 * clock: the case was re-graded up, reached the mirror late, or the scan was not running. */
export const TOLD_WITHIN_MS = 3_600_000;

/** When the scan first told anyone (any audience) that a case, in one episode (one stage's clock),
 * was at breach or above, and at escalation. From the ledger's entries, each of which keeps its
 * level's first notification only: after an escalation, when the breach was told is gone. */
export interface FirstTold {
  episodeMs: number;
  breach?: number;
  escalation?: number;
}

/** First-told times of the cases the ledger says were told of breach or above after `sinceMs` (and
 * up to `nowMs`): only those cases, so it grows with a day's alerts, not with the queue. Each time is
 * the earliest over every audience, told before `sinceMs` or not, so an audience told late (added
 * to the config since, say) does not make an old breach new. */
export function firstToldSince(
  ledger: Pick<LedgerSnapshot, 'shards'>,
  sinceMs: number,
  nowMs: number,
): Map<string, FirstTold[]> {
  const told = new Map<string, FirstTold[]>();
  const atBreach = (entry: CaseEntry) => rankOf(entry.level) >= BREACH_RANK;
  for (const shard of ledger.shards.values()) {
    for (const [caseRef, entry] of shard.cases) {
      if (!atBreach(entry) || entry.notifiedAt <= sinceMs || entry.notifiedAt > nowMs) continue;
      const episodes = told.get(caseRef) ?? [];
      if (!episodes.some((e) => e.episodeMs === entry.episodeMs))
        episodes.push({ episodeMs: entry.episodeMs });
      told.set(caseRef, episodes);
    }
  }
  if (told.size === 0) return told;
  for (const shard of ledger.shards.values()) {
    for (const [caseRef, entry] of shard.cases) {
      if (!atBreach(entry)) continue;
      const first = told.get(caseRef)?.find((e) => e.episodeMs === entry.episodeMs);
      if (!first) continue;
      for (const level of PAST_LIMITS_HIGHEST_FIRST) {
        if (rankOf(entry.level) < rankOf(level)) continue;
        first[level] = Math.min(first[level] ?? Number.POSITIVE_INFINITY, entry.notifiedAt);
      }
    }
  }
  return told;
}

/** What an open case is now, for the alert ledger: the episode it is in (when it entered its stage)
 * and the audiences it alerts at a level above none. */
export interface CaseNow {
  episodeMs: number;
  audiences: ReadonlyMap<string, Level>;
}

const ALERTS_NOBODY: ReadonlyMap<string, Level> = new Map();

interface DistrictBook {
  tally: Tally;
  breached: Kept<ChangeLine>;
  due: Kept<ChangeLine>;
  oldest: Kept<DigestLine>;
  open: Map<string, CaseNow>;
}

/** What one pass over the open cases gathers, per district: what reached breach or escalation after
 * `sinceMs` and up to now, and what will in the next WINDOW_MS. `told` (see firstToldSince) is what
 * the alert ledger says was first told since `sinceMs`; without it, only the clock is followed. */
export class PictureBook {
  private readonly books = new Map<string, DistrictBook>();

  constructor(
    private readonly config: CompiledConfig,
    private readonly nowMs: number,
    private readonly sinceMs: number,
    private readonly told: ReadonlyMap<string, readonly FirstTold[]> = new Map(),
  ) {}

  private book(district: string): DistrictBook {
    let book = this.books.get(district);
    if (!book) {
      book = {
        tally: emptyTally(),
        breached: new Kept(highestFirst),
        due: new Kept(soonestFirst),
        oldest: new Kept(oldestFirst),
        open: new Map(),
      };
      this.books.set(district, book);
    }
    return book;
  }

  /** An open case, evaluated at now. */
  add(evaluation: Evaluation): void {
    const { record, ageMs, level } = evaluation;
    const book = this.book(record.district);
    const tally = book.tally;
    tally.open += 1;
    tally.risk[record.riskLevel] += 1;
    const band = ageBandOf(ageMs);
    tally.ages[band] = (tally.ages[band] ?? 0) + 1;
    tally.levels[level] += 1;
    tally.oldestAgeMs = Math.max(tally.oldestAgeMs, ageMs);
    book.open.set(record.caseRef, {
      episodeMs: evaluation.startMs,
      audiences: level === 'none' ? ALERTS_NOBODY : audienceLevels(evaluation, this.config),
    });

    const line: DigestLine = { ...alertLine(evaluation), district: record.district, level };
    book.oldest.add(line);
    if (level !== 'none' && rankOf(level) >= BREACH_RANK) {
      const reached = this.reachedSince(evaluation, level);
      if (reached) book.breached.add({ ...line, ...reached });
    }
    if (evaluation.next && evaluation.next.at <= this.nowMs + WINDOW_MS) {
      const coming = levelChanges(record, this.config, this.nowMs, this.nowMs + WINDOW_MS).find(
        (c) => rankOf(c.level) >= BREACH_RANK,
      );
      if (coming) book.due.add({ ...line, reaches: coming.level, atMs: coming.atMs });
    }
  }

  /** The highest level from breach up to `now` the case reached after `sinceMs`, and when. Where the
   * scan first told of that level, the clock's crossing stands only if it came at most
   * TOLD_WITHIN_MS before the telling (the scan's next run); otherwise the clock, replayed at today's
   * risk level, is wrong (a re-grade, a late arrival) and the telling is when it happened. Where
   * nobody was told since `sinceMs`, the clock's crossing stands (the scan may not have run since). */
  private reachedSince(
    evaluation: Evaluation,
    now: Level,
  ): Pick<ChangeLine, 'reaches' | 'atMs' | 'firstAlerted'> | undefined {
    const { record } = evaluation;
    const told = this.told.get(record.caseRef)?.find((t) => t.episodeMs === evaluation.startMs);
    let replayed: Array<{ level: Level; atMs: number }> | undefined;
    for (const level of PAST_LIMITS_HIGHEST_FIRST) {
      if (rankOf(level) > rankOf(now)) continue;
      const atOrAbove = (c: { level: Level }) => rankOf(c.level) >= rankOf(level);
      const toldAt = told?.[level];
      if (toldAt !== undefined) {
        const crossed = levelChanges(record, this.config, toldAt - TOLD_WITHIN_MS, toldAt).find(atOrAbove);
        if (crossed) return crossed.atMs > this.sinceMs ? { reaches: level, atMs: crossed.atMs } : undefined;
        return toldAt > this.sinceMs ? { reaches: level, atMs: toldAt, firstAlerted: true } : undefined;
      }
      replayed ??= levelChanges(record, this.config, this.sinceMs, this.nowMs);
      const crossed = replayed.find(atOrAbove);
      if (crossed) return { reaches: level, atMs: crossed.atMs };
    }
    return undefined;
  }

  tally(district: string): Tally {
    return this.books.get(district)?.tally ?? emptyTally();
  }

  /** An open case as it is now; undefined when it is not open. */
  caseNow(district: string, caseRef: string): CaseNow | undefined {
    return this.books.get(district)?.open.get(caseRef);
  }

  /** The place's lists, merged from its districts, `limit` lines each (oldest: `oldestLimit`). */
  lists(
    districts: readonly string[],
    limit: number,
    oldestLimit: number,
  ): { breached: Listed<ChangeLine>; due: Listed<ChangeLine>; oldest: Listed<DigestLine> } {
    const books = districts.map((d) => this.book(d));
    return {
      breached: mergeListed(
        books.map((b) => b.breached.listed()),
        highestFirst,
        limit,
      ),
      due: mergeListed(
        books.map((b) => b.due.listed()),
        soonestFirst,
        limit,
      ),
      oldest: mergeListed(
        books.map((b) => b.oldest.listed()),
        oldestFirst,
        oldestLimit,
      ),
    };
  }

  /** Today's counts for every district of the config (none open is a count too), for the trend. */
  snapshot(): Record<string, DistrictSnapshot> {
    return Object.fromEntries(
      Object.keys(this.config.file.districts).map((district) => [district, snapshotOf(this.tally(district))]),
    );
  }
}

export function snapshotOf(t: Tally): DistrictSnapshot {
  return {
    open: t.open,
    high: t.risk.high,
    medium: t.risk.medium,
    standard: t.risk.standard,
    warning: t.levels.warning,
    breach: t.levels.breach,
    escalation: t.levels.escalation,
    oldestAgeMs: t.oldestAgeMs,
  };
}

/** Alerts to one audience (at its own place) about cases in one district. */
export interface AlertCount {
  audience: string;
  district: string;
  /** Cases still waiting whose alert nobody acknowledged, by the level last sent. */
  unacked: Record<Level, number>;
  /** Cases still waiting whose alert an acknowledgement covers (someone owns them). */
  acknowledged: number;
}

/** Whether an acknowledgement covers a case's alert: someone acknowledged a message sent at or after
 * the case was notified at this level. Whether its pause on reminders has run out does not matter:
 * an acknowledgement means "I own this", and an audience that is never reminded (a director) only
 * gets the escalation pause. A rise to a higher level is notified anew, so needs a new one. */
export const isAcknowledged = (entry: CaseEntry, ack: GroupAck | undefined): boolean =>
  ack !== undefined && entry.notifiedAt <= ack.asOf;

/** Whether a ledger entry is about a case still waiting for that audience: the case is open, in the
 * episode the entry was sent about (a new stage is a new clock), and alerts the audience now. The
 * scan drops any other entry only when it next messages the group (hours later, or after quiet
 * hours): until then it is as good as resolved, and counts as no alert. */
export const isStillAlerting = (entry: CaseEntry, audience: string, now: CaseNow | undefined): boolean =>
  now !== undefined && now.episodeMs === entry.episodeMs && now.audiences.has(audience);

/** Every alert in the ledger about a case still waiting for its audience, per audience and district.
 * Entries for audiences or districts the config no longer has, and entries the case no longer
 * stands behind (see isStillAlerting), are left out. */
export function alertCounts(
  config: CompiledConfig,
  ledger: LedgerSnapshot,
  caseNow: (district: string, caseRef: string) => CaseNow | undefined,
): AlertCount[] {
  const counts = new Map<string, AlertCount>();
  for (const shard of ledger.shards.values()) {
    const { audience, district } = shard;
    if (!config.file.audiences[audience] || !config.vocabulary.districts.has(district)) continue;
    const ack = ledger.acks.get(ackId(audience, config.placeOf(audience, district)));
    const key = `${audience}|${district}`;
    for (const [caseRef, entry] of shard.cases) {
      if (!isStillAlerting(entry, audience, caseNow(district, caseRef))) continue;
      let count = counts.get(key);
      if (!count) {
        count = { audience, district, unacked: { warning: 0, breach: 0, escalation: 0 }, acknowledged: 0 };
        counts.set(key, count);
      }
      if (isAcknowledged(entry, ack)) count.acknowledged += 1;
      else count.unacked[entry.level] += 1;
    }
  }
  return [...counts.values()];
}

/** One digest: an audience at one place, and the districts it covers. */
export interface DigestGroup {
  audience: string;
  place: string;
  placeName: string;
  districts: string[];
}

/** Every digest the config asks for: each digest audience at each place its scope has, covering the
 * districts there (a director: their local authority's; the senior officer: the force's). */
export function digestGroups(config: CompiledConfig): DigestGroup[] {
  const groups: DigestGroup[] = [];
  for (const audience of config.file.digest.audiences) {
    const byPlace = new Map<string, string[]>();
    for (const district of Object.keys(config.file.districts)) {
      const place = config.placeOf(audience, district);
      byPlace.set(place, [...(byPlace.get(place) ?? []), district]);
    }
    for (const [place, districts] of byPlace) {
      groups.push({ audience, place, placeName: config.placeName(audience, place), districts });
    }
  }
  return groups;
}
