// Stage 4 of a run: a due group becomes a message: what it lists, its acknowledgement links, its
// SMS (one segment) and its email, built to fit SNS's size limit by bytes, so that no message can
// ever be refused for its size.

import type { CompiledConfig } from '../config/compile.ts';
import { messageAttributes, SNS_MAX_BYTES, snsMessageBytes } from '../delivery/sns-message.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
import { type GroupMessage, type LevelSection, renderEmail, renderSms } from '../domain/notify.ts';
import { type GroupPlan, sectionLines } from './decide.ts';
import { type AckLinkRequest, groupId, type OutgoingMessage } from './ports.ts';

export function groupMessage(plan: GroupPlan, config: CompiledConfig, nowMs: number): GroupMessage {
  const section = (level: Level): LevelSection => {
    const s = plan.sections[level];
    return {
      count: s.count,
      newCount: s.newCount,
      lines: sectionLines(s),
      newRefs: new Set(s.newLines.map((l) => l.caseRef)),
    };
  };
  const sections = {
    warning: section('warning'),
    breach: section('breach'),
    escalation: section('escalation'),
  };
  const repeatMs = config.policy(plan.audience).repeatMs;
  return {
    audience: plan.audience,
    place: plan.place,
    placeName: config.placeName(plan.audience, plan.place),
    reminded: LEVELS.some((l) => sections[l].count > 0 && Number.isFinite(repeatMs[l])),
    atMs: nowMs,
    sections,
    acknowledged: plan.acknowledged,
    resolved: plan.resolved,
    resolvedCount: plan.resolvedCount,
    ...(plan.trigger === 'resolved-only' ? { resolvedOnly: true } : {}),
    linkBase: config.file.linkBase,
  };
}

/** The levels a message lists cases at, lowest first. */
export const levelsIn = (m: GroupMessage): Level[] => LEVELS.filter((l) => m.sections[l].count > 0);

export function ackLinkRequest(
  m: GroupMessage,
  channel: 'sms' | 'email',
  runId: string,
  config: CompiledConfig,
): AckLinkRequest {
  return {
    audience: m.audience,
    place: m.place,
    placeName: m.placeName,
    channel,
    runId,
    sentAtMs: m.atMs,
    expiresAtMs: m.atMs + config.acknowledge.linkValidForMs,
    sections: Object.fromEntries(
      levelsIn(m).map((l) => [l, { count: m.sections[l].count, lines: m.sections[l].lines }]),
    ),
    linkBase: m.linkBase,
    ...(config.acknowledge.baseUrl ? { baseUrl: config.acknowledge.baseUrl } : {}),
  };
}

/** Attributes and addressing of a group's message. */
function addressing(plan: GroupPlan, m: GroupMessage, kind: OutgoingMessage['kind']) {
  return {
    kind,
    groups: [groupId(plan.audience, plan.place)],
    audience: plan.audience,
    district: plan.districts.size === 1 ? ([...plan.districts][0] as string) : [...plan.districts].sort(),
    localAuthority:
      plan.localAuthorities.size === 1
        ? ([...plan.localAuthorities][0] as string)
        : [...plan.localAuthorities].sort(),
    // A message of resolved lines alone carries the levels they were at (for level filters).
    level: levelsIn(m).length > 0 ? levelsIn(m) : LEVELS.filter((l) => plan.resolvedLevels.has(l)),
    categories: [...plan.categories].sort(),
  };
}

/** The message as published: an SMS only when it has one, and an email cut to fit SNS by bytes. */
export function outgoing(plan: GroupPlan, m: GroupMessage, withSms: boolean): OutgoingMessage {
  const base = addressing(plan, m, withSms ? 'alert' : 'email-only');
  const sms = withSms ? renderSms(m) : undefined;
  // Leave room for the SMS, the subject and the attributes; shrink the email until it all fits.
  let budget = SNS_MAX_BYTES - 16 * 1024;
  for (;;) {
    const email = renderEmail(m, budget);
    const message: OutgoingMessage = { ...base, ...(sms ? { sms } : {}), email };
    const bytes = snsMessageBytes(message, messageAttributes(message));
    if (bytes <= SNS_MAX_BYTES - 1024 || budget < 4096) return message;
    budget = Math.floor(budget * 0.8);
  }
}
