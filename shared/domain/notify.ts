// From alerting cases to messages: route each case to its audiences, group per audience, district
// and level (never one message per case), and render an SMS that fits one segment and a plain-text
// email. Only caseRef, category, risk level, stage, age, district and the link base appear.

import { SegmentedMessage } from 'sms-segments-calculator';
import type { CompiledConfig } from '../config/compile.ts';
import type { Level } from '../config/schema.ts';
import { formatAge } from './duration.ts';
import { audienceLevels, type Evaluation } from './engine.ts';

/** One case line in a message: the allowed fields, nothing more. */
export interface AlertLine {
  caseRef: string;
  category: string;
  riskLevel: string;
  stage: string;
  ageMs: number;
}

export interface Notification {
  audience: string;
  district: string;
  localAuthority: string;
  level: Level;
  /** Oldest first. */
  cases: AlertLine[];
  /** Cases notified earlier to this audience that no longer need attention. */
  resolved: string[];
}

export interface RenderedNotification extends Notification {
  sms: string;
  email: { subject: string; body: string };
}

export const alertLine = (e: Evaluation): AlertLine => ({
  caseRef: e.record.caseRef,
  category: e.record.category,
  riskLevel: e.record.riskLevel,
  stage: e.record.stage,
  ageMs: e.ageMs,
});

const LEVEL_ORDER: Record<Level, number> = { escalation: 0, breach: 1, warning: 2 };

/** Orders notifications: escalations first, then by district and audience. */
export function compareNotifications(a: Notification, b: Notification): number {
  return (
    LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
    a.district.localeCompare(b.district) ||
    a.audience.localeCompare(b.audience)
  );
}

export const groupKey = (audience: string, district: string, level: Level) =>
  `${audience}|${district}|${level}`;

export function emptyNotification(
  audience: string,
  district: string,
  level: Level,
  config: CompiledConfig,
): Notification {
  return {
    audience,
    district,
    localAuthority: config.localAuthorityOf(district),
    level,
    cases: [],
    resolved: [],
  };
}

/** Groups alerting cases into one notification per audience, district and level. */
export function groupAlerts(alerting: Iterable<Evaluation>, config: CompiledConfig): Notification[] {
  const groups = new Map<string, Notification>();
  for (const evaluation of alerting) {
    if (evaluation.level === 'none') continue;
    const { district } = evaluation.record;
    for (const [audience, level] of audienceLevels(evaluation, config)) {
      const key = groupKey(audience, district, level);
      let group = groups.get(key);
      if (!group) {
        group = emptyNotification(audience, district, level, config);
        groups.set(key, group);
      }
      group.cases.push(alertLine(evaluation));
    }
  }
  const out = [...groups.values()];
  for (const group of out) group.cases.sort(oldestLineFirst);
  return out.sort(compareNotifications);
}

export const oldestLineFirst = (a: AlertLine, b: AlertLine) =>
  b.ageMs - a.ageMs || (a.caseRef < b.caseRef ? -1 : a.caseRef > b.caseRef ? 1 : 0);

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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One-segment SMS: header, as many case lines as fit (oldest first), "+N more", the link. */
export function renderSms(n: Notification, config: CompiledConfig): string {
  const name = config.file.districts[n.district]?.name;
  const total = n.cases.length;
  const count = total > 0 ? plural(total, 'case') : '';
  const resolved = n.resolved.length > 0 ? `${n.resolved.length} resolved` : '';
  const summary = [count, resolved].filter(Boolean).join(', ');
  const link = config.file.linkBase;
  const compose = (header: string, lines: string[], more: number, withLink: boolean) =>
    [header, ...lines, ...(more > 0 ? [`+${more} more`] : []), ...(withLink ? [link] : [])].join('\n');
  // Try the fullest header first; drop the district name, then the link, if they cannot fit.
  const headers = [
    `QW ${n.level.toUpperCase()} ${n.district}${name ? ` ${name}` : ''}: ${summary}`,
    `QW ${n.level.toUpperCase()} ${n.district}: ${summary}`,
  ];
  for (const withLink of [true, false]) {
    // A header that leaves no room for a single case is kept only if a shorter one does no better.
    let listsNoCase: string | undefined;
    for (const header of headers) {
      // Measure the fixed part once (with room for "+N more"); case lines are plain ASCII, one
      // unit a character in either encoding, so the rest is arithmetic. UCS-2 counts UTF-16
      // units (an emoji is two), not the characters the library reports.
      const fixedText = compose(header, [], total, withLink);
      const fixed = smsSegments(fixedText);
      if (fixed.segments !== 1) continue;
      let room = fixed.encoding === 'GSM-7' ? 160 - fixed.characters : 70 - fixedText.length;
      const lines: string[] = [];
      for (const c of n.cases) {
        const line = `${c.caseRef} ${formatAge(c.ageMs)}`;
        if (line.length + 1 > room) break;
        room -= line.length + 1;
        lines.push(line);
      }
      const sms = compose(header, lines, total - lines.length, withLink);
      if (!fitsOneSegment(sms)) continue;
      if (lines.length > 0 || total === 0) return sms;
      listsNoCase ??= sms;
    }
    if (listsNoCase) return listsNoCase;
  }
  // Unreachable with a valid config (its limits keep the header short); cut to fit regardless.
  return `QW ${n.level.toUpperCase()} ${n.district}: ${summary}`.slice(0, 70);
}

const SUBJECT_MAX = 99;

/** The email: a short subject and a plain-text body with the full list and ages. */
export function renderEmail(
  n: Notification,
  config: CompiledConfig,
  nowMs: number,
  // Every case, up to what keeps the whole message inside SNS's 256 KB limit (~110 bytes a line).
  maxLines = 1800,
): { subject: string; body: string } {
  const district = config.file.districts[n.district];
  const place = `${n.district}${district ? ` ${district.name}` : ''}`;
  const what =
    n.cases.length > 0
      ? `${plural(n.cases.length, 'case')} at ${n.level}`
      : `${plural(n.resolved.length, 'case')} resolved`;
  let subject = `[queuewatch] ${n.level.toUpperCase()}: ${what} in ${place}`;
  if (subject.length > SUBJECT_MAX) subject = `${subject.slice(0, SUBJECT_MAX - 1)}…`;

  const link = config.file.linkBase;
  const at = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body: string[] = [];
  if (n.cases.length > 0) {
    body.push(
      `${plural(n.cases.length, 'case')} in ${place} ${n.cases.length === 1 ? 'has' : 'have'} reached ${n.level.toUpperCase()} level as of ${at}.`,
      '',
      'Oldest first (reference, category, risk, stage, time in stage):',
    );
    const width = Math.max(...n.cases.map((c) => c.caseRef.length));
    for (const c of n.cases.slice(0, maxLines)) {
      body.push(
        `  ${c.caseRef.padEnd(width)}  ${c.category}  ${c.riskLevel}  ${c.stage}  ${formatAge(c.ageMs)}  ${link}/${c.caseRef}`,
      );
    }
    if (n.cases.length > maxLines) body.push(`  and ${n.cases.length - maxLines} more: see ${link}`);
  }
  if (n.resolved.length > 0) {
    if (body.length > 0) body.push('');
    body.push(`No longer waiting (closed, moved on or assessed) since the last message:`);
    body.push(...n.resolved.map((ref) => `  ${ref}`));
  }
  body.push(
    '',
    `Open the cases in the case system (sign-in required): ${link}`,
    'This message carries case references only. Do not forward it outside the force.',
  );
  return { subject, body: body.join('\n') };
}

export function renderNotification(
  n: Notification,
  config: CompiledConfig,
  nowMs: number,
): RenderedNotification {
  return { ...n, sms: renderSms(n, config), email: renderEmail(n, config, nowMs) };
}
