// The daily picture as a person reads it: a plain-text email that leads with what matters (how many
// cases are past their limits, what changed since yesterday, what falls due today, whether the
// feed is working), then the lists and counts, within SNS's size limit by bytes (long lists are cut
// with "and N more"). The subject carries no case detail. Only case references, categories, risk
// levels, stages, ages, districts and counts appear: never anything else about a case.

import { formatDate, formatLondon, formatLondonClock } from '../domain/calendar.ts';
import { formatAge } from '../domain/duration.ts';
import { LEVELS_HIGHEST_FIRST, type Level } from '../domain/levels.ts';
import type { Trend } from './history.ts';
import {
  AGE_BANDS,
  type ChangeLine,
  type DigestLine,
  type Listed,
  pastLimits,
  type Tally,
} from './picture.ts';
import type { DistrictSnapshot } from './ports.ts';

/** Cases listed per list at most (the rest are counted): enough to act on, short enough to read. */
export const LIST_LIMIT = 50;
export const OLDEST_LIMIT = 10;
/** The body's budget: SNS takes 256 KB a message, and the subject, the `default` body and the
 * attributes travel with it (the alert email keeps the same margin). */
export const DIGEST_MAX_BYTES = 200 * 1024;
const SUBJECT_MAX = 99;

/** Everything one digest says: an audience at one place. */
export interface DigestPicture {
  audience: string;
  place: string;
  placeName: string;
  /** The London date it is for, and when it was taken. */
  day: string;
  atMs: number;
  /** The config's digest time (London), for the reader. */
  digestAt: string;
  districts: Array<{ id: string; name: string; tally: Tally }>;
  total: Tally;
  breached: Listed<ChangeLine>;
  due: Listed<ChangeLine>;
  oldest: Listed<DigestLine>;
  /** Alerts about cases still waiting, per audience at its place, in these districts. */
  alerts: Array<{
    audience: string;
    placeName: string;
    unacked: Record<Level, number>;
    acknowledged: number;
  }>;
  feed: { lastIngestAt: number | undefined; quietAfterMs: number };
  /** Silence signals raised for this place (its districts, or the whole feed), as the signals
   * function left them: referrals that stop or fall show nothing in the queue. */
  signals: RaisedSignal[];
  trend: Trend;
  /** Items in the mirror that could not be read (anywhere in the force): not counted. */
  unreadable: number;
  /** Alert-ledger records that could not be read (anywhere in the force): the alerts they hold are
   * not counted, so the unacknowledged count may be low. */
  unreadableAlertRecords: number;
  linkBase: string;
}

export interface RaisedSignal {
  /** What is watched, as the signal's messages name it ("child referrals", "case movements"). */
  label: string;
  /** A rate or share that fell, or case movements that stopped. */
  kind: 'fall' | 'stop';
  /** The district (id and name), or undefined for the whole feed. */
  district?: { id: string; name: string };
  /** When it was raised (ISO). */
  raisedAt?: string;
}

export interface RenderedDigest {
  subject: string;
  body: string;
  /** The case references the body lists: what it discloses. */
  caseRefs: string[];
}

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
const isAre = (n: number) => (n === 1 ? 'is' : 'are');

/** What a line costs inside the SNS message: its UTF-8 bytes as a JSON string, quotes standing in
 * for the escaped newline. */
const lineBytes = (line: string) => Buffer.byteLength(JSON.stringify(line), 'utf8');

/** "Fri 27 Nov 2026" for a YYYY-MM-DD date. */
export const formatDay = (day: string) => formatDate(day, 'year');

const pastOnly = (t: Tally) => ({ breach: t.levels.breach, escalation: t.levels.escalation });

/** "breached", "escalates": what a case did or will do on reaching a level. */
const PAST_TENSE: Record<Level, string> = { warning: 'warned', breach: 'breached', escalation: 'escalated' };
const PRESENT_TENSE: Record<Level, string> = {
  warning: 'warns',
  breach: 'breaches',
  escalation: 'escalates',
};

const ago = (ms: number) => (ms < 60_000 ? 'less than a minute ago' : `${formatAge(ms)} ago`);

function levelsText(counts: Partial<Record<Level, number>>): string {
  return LEVELS_HIGHEST_FIRST.filter((l) => (counts[l] ?? 0) > 0)
    .map((l) => `${counts[l]} ${l}`)
    .join(', ');
}

function change(now: number, before: number): string {
  if (now === before) return 'no change from a week ago';
  return `${now > before ? 'up' : 'down'} ${Math.abs(now - before)} from ${before}`;
}

/** A list part: its lines in order, how many there are in all, and how to say the rest. */
interface ListPart {
  lines: Array<{ text: string; caseRef: string }>;
  count: number;
  more: (n: number) => string;
}
type Part = string | ListPart;

export function renderDigest(p: DigestPicture, maxBytes = DIGEST_MAX_BYTES): RenderedDigest {
  const past = pastLimits(p.total);
  const warnings = p.total.levels.warning;
  const unacked = p.alerts.reduce(
    (n, a) => n + LEVELS_HIGHEST_FIRST.reduce((m, l) => m + a.unacked[l], 0),
    0,
  );
  const acknowledged = p.alerts.reduce((n, a) => n + a.acknowledged, 0);
  const feedAgeMs = p.feed.lastIngestAt === undefined ? undefined : p.atMs - p.feed.lastIngestAt;
  const feedQuiet = feedAgeMs === undefined || feedAgeMs >= p.feed.quietAfterMs;

  // A long place name gives way, never the date or the count.
  const lead = '[queuewatch] Daily picture for ';
  // Never an all-clear in the subject while the figures may be stale or a silence signal stands.
  const cases = past > 0 ? `${plural(past, 'case')} past limits` : 'none past limits';
  const alarms = [
    ...(feedQuiet ? ['FEED QUIET'] : []),
    ...(p.signals.length > 0 ? [`${plural(p.signals.length, 'signal')} raised`] : []),
  ];
  const tail = `, ${formatDay(p.day)}: ${alarms.length > 0 ? `${alarms.join(', ')}, ${past} past limits` : cases}`;
  const room = SUBJECT_MAX - lead.length - tail.length;
  const place = p.placeName.length <= room ? p.placeName : `${p.placeName.slice(0, room - 3)}...`;
  const subject = `${lead}${place}${tail}`;

  const parts: Part[] = [];
  const districtNames = p.districts.map((d) => d.name);
  const covering =
    p.districts.length === 1
      ? ''
      : p.districts.length <= 4
        ? ` (${districtNames.join(', ')})`
        : ` (${p.districts.length} districts)`;
  parts.push(
    `Daily picture for ${p.placeName}${covering}, for the ${p.audience}, as of ${formatLondon(p.atMs)}.`,
    '',
  );

  // What matters first: figures that may be stale, then the cases past their limits.
  if (feedQuiet) {
    parts.push(
      feedAgeMs === undefined
        ? 'WARNING: no case change from the case system has ever been recorded: these figures may not reflect the queue.'
        : `WARNING: no case change has come from the case system for ${formatAge(feedAgeMs)}: these figures may be out of date.`,
    );
  }
  for (const s of p.signals) {
    const where = s.district ? `${s.district.id} ${s.district.name}` : 'every district (the whole feed)';
    const when = s.raisedAt ? ` ${formatLondon(Date.parse(s.raisedAt))}` : '';
    const what =
      s.kind === 'stop' ? `${s.label} in ${where} have stopped` : `${s.label} in ${where} below normal`;
    parts.push(`SIGNAL RAISED${when}: ${what}; nothing in the queue shows it.`);
  }
  if (p.unreadable > 0) {
    parts.push(
      `${plural(p.unreadable, 'record')} in the mirror could not be read and ${isAre(p.unreadable)} not counted here.`,
    );
  }
  const alertRecordsUnread =
    p.unreadableAlertRecords > 0
      ? `${plural(p.unreadableAlertRecords, 'alert record')} could not be read: the alerts ${p.unreadableAlertRecords === 1 ? 'it holds are' : 'they hold are'} not counted, so the unacknowledged count may be low.`
      : undefined;
  if (alertRecordsUnread) parts.push(alertRecordsUnread);
  parts.push(
    past === 0
      ? 'No case is waiting past its limits.'
      : `${plural(past, 'case')} ${isAre(past)} waiting past ${past === 1 ? 'its' : 'their'} limits: ${levelsText(pastOnly(p.total))}.`,
  );
  if (warnings > 0) {
    parts.push(`${plural(warnings, 'more case')} ${isAre(warnings)} close (warning).`);
  }
  parts.push(
    p.breached.count > 0
      ? `Since yesterday, ${plural(p.breached.count, 'case')} reached breach or escalation.`
      : 'No case reached breach or escalation since yesterday.',
    p.due.count > 0
      ? `In the next 24 hours, ${plural(p.due.count, 'case')} will reach breach or escalation unless ${p.due.count === 1 ? 'it moves' : 'they move'} on.`
      : 'No case is due to reach breach or escalation in the next 24 hours.',
  );
  if (unacked > 0) {
    parts.push(
      `${plural(unacked, 'alert')} about cases still waiting ${unacked === 1 ? 'has' : 'have'} not been acknowledged: nobody has said they own ${unacked === 1 ? 'it' : 'them'}.`,
    );
  }
  const steps = [
    ...(feedQuiet
      ? [
          'check that the case system is sending its changes: until it does, these figures may not reflect the queue',
        ]
      : []),
    ...(p.signals.length > 0
      ? [
          `find out why ${p.signals.length === 1 ? 'the signal above is' : 'the signals above are'} raised: referrals that stop or fall leave no case waiting`,
        ]
      : []),
    ...(past > 0 || unacked > 0 || p.due.count > 0
      ? [
          'check that each case past its limits, or about to be, has someone acting on it, escalations and the oldest first',
        ]
      : []),
  ];
  parts.push(
    '',
    steps.length > 0
      ? `What to do: ${steps.join('; ')}. The cases are in the case system (sign-in required): ${p.linkBase}`
      : `Nothing needs doing today. The case system (sign-in required): ${p.linkBase}`,
  );

  const width = (lines: DigestLine[]) => ({
    ref: Math.max(0, ...lines.map((l) => l.caseRef.length)),
    district: Math.max(0, ...lines.map((l) => l.district.length)),
  });
  const caseText = (l: DigestLine, w: { ref: number; district: number }, tail: string) =>
    `  ${l.caseRef.padEnd(w.ref)}  ${l.district.padEnd(w.district)}  ${l.category}  ${l.riskLevel}  ${l.stage}  ${formatAge(l.ageMs)}  ${tail}`;
  const list = <T extends DigestLine>(
    title: string,
    listed: Listed<T>,
    tail: (l: T) => string,
    none: string,
  ) => {
    parts.push('', `${title} (${listed.count})`);
    if (listed.count === 0) {
      parts.push(`  ${none}`);
      return;
    }
    const w = width(listed.lines);
    parts.push({
      lines: listed.lines.map((l) => ({ text: caseText(l, w, tail(l)), caseRef: l.caseRef })),
      count: listed.count,
      more: (n) => `  and ${n} more: see the case system`,
    });
  };

  list(
    'BREACHED SINCE YESTERDAY',
    p.breached,
    // A case its clock does not explain (re-graded up, late to the mirror) says when it was first
    // alerted: "escalated 1h ago" would be untrue of a case that waited 80 days unseen.
    (l) =>
      l.firstAlerted
        ? `first alerted at ${l.reaches} ${ago(p.atMs - l.atMs)}`
        : `${PAST_TENSE[l.reaches]} ${ago(p.atMs - l.atMs)}`,
    'None.',
  );
  list(
    'DUE TO BREACH IN THE NEXT 24 HOURS',
    p.due,
    (l) => `${PRESENT_TENSE[l.reaches]} in ${formatAge(l.atMs - p.atMs)} (${formatLondonClock(l.atMs)})`,
    'None.',
  );

  parts.push('', `UNACKNOWLEDGED ALERTS (${unacked})`);
  if (alertRecordsUnread) parts.push(`  ${alertRecordsUnread}`);
  const withUnacked = p.alerts.filter((a) => LEVELS_HIGHEST_FIRST.some((l) => a.unacked[l] > 0));
  // "Every alert is acknowledged" only when there were alerts, and every record of them was read.
  if (withUnacked.length === 0) {
    parts.push(
      acknowledged === 0
        ? `  None: ${alertRecordsUnread ? 'no alert about a case still waiting could be read' : 'no alert about a case still waiting'}.`
        : alertRecordsUnread
          ? '  None among the alerts that could be read.'
          : '  None: every alert about a case still waiting is acknowledged.',
    );
  }
  for (const a of withUnacked) {
    const n = LEVELS_HIGHEST_FIRST.reduce((m, l) => m + a.unacked[l], 0);
    parts.push(`  ${a.audience}, ${a.placeName}: ${n} (${levelsText(a.unacked)})`);
  }
  if (acknowledged > 0) {
    parts.push(
      `  ${plural(acknowledged, 'more alert')} ${isAre(acknowledged)} acknowledged: someone has said they own ${acknowledged === 1 ? 'it' : 'them'}.`,
    );
  }

  list(
    'OLDEST CASES (time in their current stage)',
    { count: Math.min(p.oldest.count, p.oldest.lines.length), lines: p.oldest.lines },
    (l) => (l.level === 'none' ? 'within limits' : l.level),
    'No open case.',
  );

  parts.push('', `OPEN CASES BY DISTRICT (${p.total.open})`);
  for (const d of p.districts) parts.push(...districtLines(d.name, d.tally));

  parts.push(
    '',
    `TREND AGAINST LAST WEEK (${formatDay(p.trend.weekAgo)})`,
    ...trendLines(p.trend, p.districts),
  );

  parts.push('', 'FEED FROM THE CASE SYSTEM');
  parts.push(
    p.feed.lastIngestAt === undefined || feedAgeMs === undefined
      ? '  No case change has ever been recorded.'
      : `  Last case change received ${ago(feedAgeMs)} (${formatLondon(p.feed.lastIngestAt)})${feedQuiet ? `: QUIET, over ${formatAge(p.feed.quietAfterMs)}` : ''}.`,
  );

  parts.push(
    '',
    `This picture comes every day at ${p.digestAt} London time, even when all is clear: if one does not arrive, tell the queuewatch service owner, as the watcher may have stopped.`,
    'It carries case references, categories, risk levels, stages, ages and counts only. Do not forward it outside the force.',
  );

  return layOut(subject, parts, maxBytes);
}

function districtLines(name: string, t: Tally): string[] {
  if (t.open === 0) return [`  ${name}: no open case.`];
  const past = pastLimits(t);
  const levels = [
    past > 0 ? `${past} past limits (${levelsText(pastOnly(t))})` : 'none past limits',
    ...(t.levels.warning > 0 ? [`${t.levels.warning} warning`] : []),
  ];
  return [
    `  ${name}: ${t.open} open (${t.risk.high} high, ${t.risk.medium} medium, ${t.risk.standard} standard risk); ${levels.join(', ')}.`,
    `    Waiting ${AGE_BANDS.map((band, i) => `${band.label}: ${t.ages[i] ?? 0}`).join(', ')}.`,
  ];
}

function trendLines(trend: Trend, districts: Array<{ id: string; name: string }>): string[] {
  const { now, before } = trend;
  if (!before) {
    return ['  No figures from last week yet: the trend starts seven days after the first daily picture.'];
  }
  const pastNow = now.breach + now.escalation;
  const pastBefore = before.breach + before.escalation;
  const lines = [
    `  Open cases: ${now.open}, ${change(now.open, before.open)}.`,
    `  Past their limits: ${pastNow}, ${change(pastNow, pastBefore)}.`,
    `  At escalation: ${now.escalation}, ${change(now.escalation, before.escalation)}.`,
    `  High risk: ${now.high}, ${change(now.high, before.high)}.`,
    `  Oldest case: ${formatAge(now.oldestAgeMs)} (a week ago: ${formatAge(before.oldestAgeMs)}).`,
  ];
  const names = new Map(districts.map((d) => [d.id, d.name]));
  const nameOf = (id: string) => names.get(id) ?? id;
  if (trend.notCompared.length > 0) {
    const left = trend.notCompared.map(nameOf).join(', ');
    lines.push(
      `  These figures leave out ${left}: no figures from a week ago, so ${trend.notCompared.length === 1 ? 'it is' : 'they are'} not compared.`,
    );
  }
  for (const d of trend.districts) {
    const name = nameOf(d.district);
    lines.push(
      d.before
        ? `  ${name}: ${d.now.open} open, ${change(d.now.open, d.before.open)}; ${pastOf(d.now)} past limits, ${change(pastOf(d.now), pastOf(d.before))}.`
        : `  ${name}: ${d.now.open} open, ${pastOf(d.now)} past limits (no figures from a week ago).`,
    );
  }
  return lines;
}

const pastOf = (s: DistrictSnapshot) => s.breach + s.escalation;

/** Lays the parts out within `maxBytes`: every fixed line, then as many list lines as fit, lists in
 * the order they appear; each list cut short ends with its "and N more" line. */
function layOut(subject: string, parts: Part[], maxBytes: number): RenderedDigest {
  const lists = parts.filter((p): p is ListPart => typeof p !== 'string');
  const fixed = parts.filter((p): p is string => typeof p === 'string');
  let budget =
    maxBytes -
    lineBytes(subject) -
    fixed.reduce((n, line) => n + lineBytes(line), 0) -
    lists.reduce((n, l) => n + lineBytes(l.more(l.count)), 0);
  const shown = new Map<ListPart, number>();
  for (const l of lists) {
    let n = 0;
    for (const line of l.lines) {
      const cost = lineBytes(line.text);
      if (cost > budget) break;
      budget -= cost;
      n += 1;
    }
    shown.set(l, n);
  }
  const body: string[] = [];
  const caseRefs: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      body.push(part);
      continue;
    }
    const n = shown.get(part) ?? 0;
    for (const line of part.lines.slice(0, n)) {
      body.push(line.text);
      caseRefs.push(line.caseRef);
    }
    if (n < part.count) body.push(part.more(part.count - n));
  }
  return { subject, body: body.join('\n'), caseRefs: [...new Set(caseRefs)] };
}
