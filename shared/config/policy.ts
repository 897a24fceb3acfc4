// Who hears of what, and how often: each audience's place (the district, local authority or force it
// subscribes by), its repeat intervals per level, its quiet hours in London time, and what an
// acknowledgement pauses. Compiled once from the config file; the scan asks it per group and run.

import { clockMinutes, londonOffsetMs } from '../domain/calendar.ts';
import { type Limit, parseLimit } from '../domain/duration.ts';
import { LEVELS, type Level } from '../domain/levels.ts';
import type { ConfigFile } from './schema.ts';

export type Scope = 'district' | 'local-authority' | 'force';

/** A repeat interval: a limit, or never (the level is sent once, when it is reached). */
export type RepeatLimit = Limit | { readonly kind: 'never'; readonly text: 'never' };

export interface AudiencePolicy {
  audience: string;
  scope: Scope;
  repeat: Record<Level, RepeatLimit>;
  /** Repeat interval per level in ms (Infinity: never). */
  repeatMs: Record<Level, number>;
  /** Reminders and new warnings wait between these London times (minutes after midnight; may
   * wrap past midnight). */
  quietHours?: { from: number; to: number; text: string };
  /** The levels whose news or reminders warrant an SMS; the rest go by email. */
  smsFor: ReadonlySet<Level>;
}

export interface AcknowledgePolicy {
  /** The acknowledgement page's public address from the config; the deployment's own otherwise. */
  baseUrl: string | undefined;
  linkValidForMs: number;
  /** How long an acknowledgement pauses repeats, per level (ms). */
  pauseMs: Record<Level, number>;
}

const NEVER: RepeatLimit = { kind: 'never', text: 'never' };
const DEFAULT_PAUSE: Record<Level, string> = { warning: '24h', breach: '8h', escalation: '4h' };
const DAY_MS = 86_400_000;

/** A limit's length in ms; a working-day limit counts 24 hours a day (a reminder, not a deadline). */
export const approximateMs = (limit: RepeatLimit): number =>
  limit.kind === 'never'
    ? Number.POSITIVE_INFINITY
    : limit.kind === 'elapsed'
      ? limit.ms
      : limit.days * DAY_MS;

export function compilePolicies(
  file: ConfigFile,
  issues: Array<{ path: string; message: string }>,
): {
  repeat: Record<Level, RepeatLimit>;
  audiences: ReadonlyMap<string, AudiencePolicy>;
  acknowledge: AcknowledgePolicy;
} {
  const limit = (path: string, text: string): Limit | undefined => {
    const parsed = parseLimit(text);
    if ('error' in parsed) {
      issues.push({ path, message: parsed.error });
      return undefined;
    }
    return parsed;
  };
  const repeatLimit = (path: string, text: string): RepeatLimit =>
    text.trim() === 'never' ? NEVER : (limit(path, text) ?? NEVER);

  const defaults = Object.fromEntries(
    LEVELS.map((level) => [level, repeatLimit(`repeat.${level}`, file.repeat[level])]),
  ) as Record<Level, RepeatLimit>;

  const audiences = new Map<string, AudiencePolicy>();
  for (const [audience, definition] of Object.entries(file.audiences)) {
    const path = `audiences.${audience}`;
    const repeat = Object.fromEntries(
      LEVELS.map((level) => {
        const own = definition.repeat?.[level];
        return [level, own === undefined ? defaults[level] : repeatLimit(`${path}.repeat.${level}`, own)];
      }),
    ) as Record<Level, RepeatLimit>;
    const policy: AudiencePolicy = {
      audience,
      scope: definition.scope,
      repeat,
      repeatMs: Object.fromEntries(LEVELS.map((l) => [l, approximateMs(repeat[l])])) as Record<Level, number>,
      smsFor: new Set(definition.smsFor ?? LEVELS),
    };
    if (definition.quietHours) {
      const { from, to } = definition.quietHours;
      if (from === to) {
        issues.push({ path: `${path}.quietHours`, message: `from and to are both ${from}: give a period` });
      }
      policy.quietHours = { from: clockMinutes(from), to: clockMinutes(to), text: `${from} to ${to}` };
    }
    audiences.set(audience, policy);
  }

  const ack = file.acknowledge;
  const pauseMs = Object.fromEntries(
    LEVELS.map((level) => {
      const text = ack.pause[level] ?? DEFAULT_PAUSE[level];
      const parsed = limit(`acknowledge.pause.${level}`, text);
      return [level, parsed ? approximateMs(parsed) : 0];
    }),
  ) as Record<Level, number>;
  const validFor = limit('acknowledge.linkValidFor', ack.linkValidFor);
  return {
    repeat: defaults,
    audiences,
    acknowledge: {
      baseUrl: ack.baseUrl?.replace(/\/+$/, ''),
      linkValidForMs: validFor ? approximateMs(validFor) : DAY_MS,
      pauseMs,
    },
  };
}

/** Whether repeats to this audience wait at this instant (its quiet hours, in London time). */
export function isQuiet(policy: AudiencePolicy, nowMs: number): boolean {
  const quiet = policy.quietHours;
  if (!quiet) return false;
  const local = nowMs + londonOffsetMs(nowMs);
  const minute = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
  return quiet.from < quiet.to
    ? minute >= quiet.from && minute < quiet.to
    : minute >= quiet.from || minute < quiet.to;
}
