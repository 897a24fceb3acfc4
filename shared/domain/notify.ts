// What a person receives: one message per audience and place per run, covering every level waiting
// for them (highest first), rendered as an SMS that fits one segment and a plain-text email that
// fits SNS's limit by bytes. Only caseRef, category, risk level, stage, age, the place and links
// appear: never anything else about a case.

import { SegmentedMessage } from 'sms-segments-calculator';
import type { AlertLine } from './alert-line.ts';
import { formatLondon } from './calendar.ts';
import { formatAge } from './duration.ts';
import { LEVELS_HIGHEST_FIRST, type Level } from './levels.ts';

/** The cases of one level in a message. */
export interface LevelSection {
  /** Every case waiting at this level for this audience and place. */
  count: number;
  /** Of those, how many reached the level since the last message. */
  newCount: number;
  /** The cases to list, oldest first (may be fewer than `count`: the rest are counted). */
  lines: AlertLine[];
  /** Which listed cases are new. */
  newRefs: ReadonlySet<string>;
}

/** What one audience at one place hears in one run. */
export interface GroupMessage {
  audience: string;
  /** The district, local authority or 'force' the audience subscribes by. */
  place: string;
  /** For people: "D07 Millbrook", a council's name, the force's name. */
  placeName: string;
  atMs: number;
  sections: Record<Level, LevelSection>;
  /** Cases an acknowledgement covers: counted in the sections, their reminders paused. */
  acknowledged: number;
  /** Cases notified before that no longer wait (listed, then counted). */
  resolved: string[];
  resolvedCount: number;
  /** Sent for its resolved lines alone: nothing new, no reminder due (the cases it also counts as
   * waiting are listed for context, and the subject must not read as a reminder). */
  resolvedOnly?: boolean;
  /** The case system (needs sign-in). */
  linkBase: string;
  /** Acknowledgement page links, one per channel (absent when none could be made). */
  ackLinks?: { sms?: string; email?: string };
  /** False when the audience is reminded of none of the levels listed (a director): acknowledging
   * then says who owns the cases, and pauses nothing. */
  reminded?: boolean;
}

export const emptySection = (): LevelSection => ({ count: 0, newCount: 0, lines: [], newRefs: new Set() });

export const casesIn = (m: Pick<GroupMessage, 'sections'>) =>
  LEVELS_HIGHEST_FIRST.reduce((n, l) => n + m.sections[l].count, 0);

/** The highest level with a case in the message (undefined: only resolved lines). */
export const topLevel = (m: Pick<GroupMessage, 'sections'>): Level | undefined =>
  LEVELS_HIGHEST_FIRST.find((l) => m.sections[l].count > 0);

/** The highest level with a new case (undefined: a reminder or resolved lines only). */
export const topNewLevel = (m: Pick<GroupMessage, 'sections'>): Level | undefined =>
  LEVELS_HIGHEST_FIRST.find((l) => m.sections[l].newCount > 0);

/** Case references a message lists (what it discloses), highest level first. */
export const listedRefs = (m: GroupMessage): string[] =>
  LEVELS_HIGHEST_FIRST.flatMap((l) => m.sections[l].lines.map((c) => c.caseRef));

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The ASCII characters of the GSM 03.38 basic set (not ` [ \\ ] ^ { | } ~, which need escapes). */
const GSM_BASIC_ASCII = /^[A-Za-z0-9 \n\r@$_!"#%&'()*+,\-./:;<=>?]*$/;

/** Segments an SMS body takes (GSM-7: 160 characters, UCS-2: 70, per the carriers' rules). */
export function smsSegments(text: string): { segments: number; encoding: string; characters: number } {
  // Fast path: text made only of ASCII characters in GSM-7's basic set is one unit a character.
  // The library (which splits graphemes) handles everything else.
  if (GSM_BASIC_ASCII.test(text)) {
    const n = text.length;
    return { segments: n <= 160 ? 1 : Math.ceil(n / 153), encoding: 'GSM-7', characters: n };
  }
  const message = new SegmentedMessage(text, 'auto');
  return {
    segments: message.segmentsCount,
    encoding: message.encodingName,
    characters: message.numberOfCharacters,
  };
}

export const fitsOneSegment = (text: string) => smsSegments(text).segments === 1;

/** "2 ESCALATION (1 new), 3 BREACH, 4 WARNING": every level with a case, highest first. */
function levelCounts(m: GroupMessage, withNew: boolean): string {
  return LEVELS_HIGHEST_FIRST.filter((l) => m.sections[l].count > 0)
    .map((l) => {
      const s = m.sections[l];
      return `${s.count} ${l.toUpperCase()}${withNew && s.newCount > 0 ? ` (${s.newCount} new)` : ''}`;
    })
    .join(', ');
}

/** The SMS to the phones whose alerts went by email only, past the run's SMS limit: the highest
 * level those alerts carried leads, so a phone can tell an escalation from a warning. One segment
 * for any limit and link the config allows (up to 1000 a run, 60 characters); a link that needs
 * UCS-2 (a host name with a character outside GSM-7) would make it two, and is left out. */
export function renderSummarySms(levels: readonly Level[], maxPerRun: number, linkBase: string): string {
  const top = LEVELS_HIGHEST_FIRST.find((l) => levels.includes(l));
  const what = top ? `${top.toUpperCase()} alert` : 'alert';
  const text = `QW ${what} went by email only: SMS limit (${maxPerRun} a run) reached. Check your email`;
  const withLink = `${text} or ${linkBase}`;
  return fitsOneSegment(withLink) ? withLink : text;
}

/** The SMS: the place, the counts per level, as many case references as fit (new ones first, then
 * the oldest, highest level first) and one link: the acknowledgement page when there is one (it
 * lists the cases and links to the case system), else the case system. Always one segment. */
export function renderSms(m: GroupMessage): string {
  const link = m.ackLinks?.sms ?? m.linkBase;
  const total = casesIn(m);
  const places = [m.placeName, m.place];
  const candidates: Array<{ header: string; link: string }> = [];
  for (const withNew of [true, false]) {
    for (const place of places) {
      const what =
        total > 0 ? levelCounts(m, withNew) : `${plural(m.resolvedCount, 'case')} no longer waiting`;
      candidates.push({ header: `QW ${place}: ${what}`, link });
    }
  }
  // A link too long for any header (an unusual acknowledgement address) gives way to the case system.
  if (link !== m.linkBase)
    candidates.push({ header: `QW ${m.place}: ${levelCounts(m, false)}`, link: m.linkBase });
  const refs: string[] = [];
  for (const level of LEVELS_HIGHEST_FIRST) {
    const s = m.sections[level];
    for (const c of s.lines)
      if (s.newRefs.has(c.caseRef)) refs.push(`${c.caseRef} ${formatAge(c.ageMs)} new`);
  }
  for (const level of LEVELS_HIGHEST_FIRST) {
    const s = m.sections[level];
    for (const c of s.lines) if (!s.newRefs.has(c.caseRef)) refs.push(`${c.caseRef} ${formatAge(c.ageMs)}`);
  }
  // The first candidate that lists a case wins; one that lists none only if no other does better.
  let listsNoCase: string | undefined;
  for (const { header, link: url } of candidates) {
    const fixed = `${header}\n${url}`;
    const measured = smsSegments(fixed);
    if (measured.segments !== 1) continue;
    // Case lines are plain ASCII, one unit a character in either encoding. UCS-2 counts UTF-16
    // units (an emoji is two), not the characters the library reports.
    let room = measured.encoding === 'GSM-7' ? 160 - measured.characters : 70 - fixed.length;
    const lines: string[] = [];
    for (const line of refs) {
      if (line.length + 1 > room) break;
      room -= line.length + 1;
      lines.push(line);
    }
    const sms = [header, ...lines, url].join('\n');
    if (!fitsOneSegment(sms)) continue;
    if (lines.length > 0 || refs.length === 0) return sms;
    listsNoCase ??= sms;
  }
  // Only a config far outside its limits gets past this: a short, safe line rather than nothing.
  return listsNoCase ?? `QW ${m.place.slice(0, 24)}: ${total} cases waiting`;
}

const SUBJECT_MAX = 99;

/** What a line costs inside the SNS message: its UTF-8 bytes, plus the JSON escape of its newline. */
const lineBytes = (line: string) => Buffer.byteLength(line, 'utf8') + 2;

/** The email: a subject that says what happened without any case detail, and a plain-text body
 * that leads with what happened and what to do, then every case it can list by level (oldest
 * first), within `maxBytes` (the rest are counted, with a link). */
export function renderEmail(m: GroupMessage, maxBytes = 200 * 1024): { subject: string; body: string } {
  const top = topLevel(m);
  const topNew = topNewLevel(m);
  const total = casesIn(m);
  const counts = LEVELS_HIGHEST_FIRST.filter((l) => m.sections[l].count > 0)
    .map((l) => `${m.sections[l].count} ${l}`)
    .join(', ');
  let subject =
    top === undefined
      ? `[queuewatch] ${plural(m.resolvedCount, 'case')} no longer waiting in ${m.placeName}`
      : topNew
        ? `[queuewatch] New ${topNew.toUpperCase()} in ${m.placeName}: ${counts}`
        : m.resolvedOnly
          ? `[queuewatch] ${plural(m.resolvedCount, 'case')} no longer waiting in ${m.placeName}; still waiting: ${counts}`
          : `[queuewatch] Reminder, ${top.toUpperCase()} in ${m.placeName}: ${counts}`;
  if (subject.length > SUBJECT_MAX) subject = `${subject.slice(0, SUBJECT_MAX - 3)}...`;

  const head: string[] = [];
  const tail: string[] = [];
  const newTotal = LEVELS_HIGHEST_FIRST.reduce((n, l) => n + m.sections[l].newCount, 0);
  head.push(`${m.placeName}, for the ${m.audience} on call, as of ${formatLondon(m.atMs)}.`);
  if (total > 0) {
    head.push(
      newTotal > 0
        ? `${plural(newTotal, 'case')} reached a new level since the last message. Waiting in all: ${counts}.`
        : m.resolvedOnly
          ? `${plural(m.resolvedCount, 'case')} no longer waiting (below); no case reached a new level, and these are still waiting: ${counts}.`
          : `A reminder: no case reached a new level, and these are still waiting: ${counts}.`,
      '',
      'What to do: open each case in the case system (sign-in required) and act on it, highest level',
      'and oldest first.',
    );
    if (m.ackLinks?.email) {
      head.push(
        m.reminded === false
          ? `If you are dealing with them, acknowledge this message to say you own them: ${m.ackLinks.email}`
          : `If you are dealing with them, acknowledge this message to pause its reminders: ${m.ackLinks.email}`,
        'Acknowledging never stops a case reaching its next level; only the case moving on ends the alerts.',
      );
    }
    if (m.acknowledged > 0) {
      head.push(
        `${plural(m.acknowledged, 'case')} of these ${m.acknowledged === 1 ? 'is' : 'are'} acknowledged: reminders paused.`,
      );
    }
  }
  tail.push(
    '',
    `Open the cases in the case system (sign-in required): ${m.linkBase}`,
    'This message carries no personal data (case references, categories, risk levels, stages, ages and districts only). Do not forward it outside the force.',
  );

  let budget = maxBytes - [...head, ...tail, subject].reduce((n, l) => n + lineBytes(l), 0);
  const body = [...head];
  const spend = (line: string) => {
    const cost = lineBytes(line);
    if (cost > budget) return false;
    budget -= cost;
    body.push(line);
    return true;
  };
  // Room for each section's "and N more" line and the resolved summary is kept back.
  const reserve = 4 * lineBytes(`  and 999999 more at escalation: see ${m.linkBase}`);
  budget -= reserve;
  for (const level of LEVELS_HIGHEST_FIRST) {
    const s = m.sections[level];
    if (s.count === 0) continue;
    body.push('', `${level.toUpperCase()} (${s.count}${s.newCount > 0 ? `, ${s.newCount} new` : ''})`);
    budget -= lineBytes(body.at(-1) as string) + lineBytes('');
    const width = Math.max(...s.lines.map((c) => c.caseRef.length), 0);
    let listed = 0;
    for (const c of s.lines) {
      const line = `  ${c.caseRef.padEnd(width)}  ${c.category}  ${c.riskLevel}  ${c.stage}  ${formatAge(c.ageMs)}${s.newRefs.has(c.caseRef) ? '  NEW' : ''}  ${m.linkBase}/${c.caseRef}`;
      if (!spend(line)) break;
      listed += 1;
    }
    if (listed < s.count) body.push(`  and ${s.count - listed} more at ${level}: see ${m.linkBase}`);
  }
  budget += reserve;
  if (m.resolvedCount > 0) {
    body.push('', 'No longer waiting since the last message (closed, moved on or assessed):');
    let listed = 0;
    for (const caseRef of m.resolved) {
      if (!spend(`  ${caseRef}`)) break;
      listed += 1;
    }
    if (listed < m.resolvedCount) body.push(`  and ${m.resolvedCount - listed} more`);
  }
  body.push(...tail);
  return { subject, body: body.join('\n') };
}
