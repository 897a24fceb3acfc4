// The admin config file's shape (YAML or JSON). Types come from this schema; compile.ts turns a
// parsed file into the structures the engine runs on and checks what a schema cannot.

import { ID_PATTERN, RISK_LEVELS, STAGES } from '../domain/case.ts';
import { LEVELS } from '../domain/levels.ts';
import * as z from '../domain/zod.ts';
import { A_NAME, AN_ID, oneOf, oneOfThese, oneOrMany, signalsSchema } from './signals-schema.ts';

const id = z.string().check(z.regex(ID_PATTERN, 'must be a lower-case id like district-supervisor'));
/** A bare number is the commonest slip: say that its unit is missing. */
const withUnit = (usual: string) => (issue: { input?: unknown }) =>
  typeof issue.input === 'number'
    ? `${issue.input} has no unit: write it as ${issue.input}m, ${issue.input}h, ${issue.input}d or ${issue.input}wd`
    : usual;
const limitText = z.string({ error: withUnit('must be a limit like 30m, 4h, 7d or 1wd') });

/** A repeat interval: a limit, or `never` (the level is sent once, when it is reached). */
const repeatText = z.string({ error: withUnit('must be a limit like 4h or 1wd, or never') });
/** A London wall-clock time, HH:MM (24-hour). */
const clockTime = z
  .string({ error: 'must be a time like 22:00 (London time, 24-hour)' })
  .check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 22:00 (London time, 24-hour)'));
const perLevel = <T extends z.ZodMiniType>(value: T) =>
  z.strictObject({ warning: z.optional(value), breach: z.optional(value), escalation: z.optional(value) });

export const matchSchema = z.strictObject({
  category: z.optional(oneOrMany(id, AN_ID)),
  riskLevel: z.optional(oneOrMany(z.enum(RISK_LEVELS), oneOfThese(RISK_LEVELS))),
  stage: z.optional(oneOrMany(z.enum(STAGES), oneOfThese(STAGES))),
  childrenInvolved: z.optional(z.boolean()),
  district: z.optional(oneOrMany(z.string(), A_NAME)),
});

export const routeMatchSchema = z.strictObject({
  ...matchSchema.shape,
  localAuthority: z.optional(oneOrMany(z.string(), A_NAME)),
  rule: z.optional(oneOrMany(id, AN_ID)),
  level: z.optional(oneOrMany(z.enum(LEVELS), oneOfThese(LEVELS))),
});

export const configSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1' }),
  force: z.string().check(z.minLength(1), z.maxLength(40)),
  linkBase: z
    .url({ protocol: /^https$/, error: 'must be an https URL (the case system, behind sign-in)' })
    .check(z.maxLength(60, 'must be at most 60 characters so an SMS still fits one segment')),
  categories: z.array(id).check(z.minLength(1, 'needs at least one category')),
  localAuthorities: z.record(id, z.strictObject({ name: z.string().check(z.minLength(1), z.maxLength(60)) })),
  districts: z.record(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'must be a district id like D01')),
    z.strictObject({ name: z.string().check(z.minLength(1), z.maxLength(24)), localAuthority: id }),
  ),
  calendar: z._default(
    z.strictObject({
      extraNonWorkingDays: z._default(z.array(z.iso.date({ error: 'must be a date like 2027-06-07' })), []),
    }),
    { extraNonWorkingDays: [] },
  ),
  /** How often an audience still waiting on cases at a level is reminded (or never). */
  repeat: z.strictObject({ warning: repeatText, breach: repeatText, escalation: repeatText }),
  rules: z
    .array(
      z.strictObject({
        id,
        description: z.optional(z.string().check(z.maxLength(200))),
        match: z._default(matchSchema, {}),
        warn: limitText,
        breach: limitText,
        escalate: limitText,
      }),
    )
    .check(
      z.minLength(1, 'needs at least one rule (and one of them with an empty match: the absolute ceiling)'),
    ),
  audiences: z.record(
    id,
    z.strictObject({
      description: z.string().check(z.maxLength(200)),
      scope: oneOf(['district', 'local-authority', 'force']),
      /** This audience's repeat intervals, per level, over the top-level `repeat`. */
      repeat: z.optional(perLevel(repeatText)),
      /** London times between which reminders and new warnings to this audience wait (new
       * breaches and escalations still go at once). */
      quietHours: z.optional(z.strictObject({ from: clockTime, to: clockTime })),
      /** The levels whose news or reminders warrant an SMS; the rest go by email (default: all). */
      smsFor: z.optional(z.array(oneOf(LEVELS))),
    }),
  ),
  routes: z
    .array(
      z.strictObject({
        description: z.optional(z.string().check(z.maxLength(200))),
        match: z._default(routeMatchSchema, {}),
        audiences: z.array(id).check(z.minLength(1, 'needs at least one audience')),
      }),
    )
    .check(z.minLength(1, 'needs at least one route')),
  /** Receives any alert no route matched, so nothing is ever dropped. */
  fallbackAudience: id,
  sms: z._default(
    z.strictObject({ maxPerRun: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 20) }),
    {
      maxPerRun: 20,
    },
  ),
  /** Silence: flow that falls below normal or stops (signals-schema.ts). */
  signals: z.optional(signalsSchema),
  acknowledge: z._default(
    z.strictObject({
      /** The acknowledgement page's public address, which every alert links to (a short one keeps
       * the SMS readable); without it, the deployed stack's own address is used. */
      baseUrl: z.optional(
        z
          .url({ protocol: /^https$/, error: 'must be an https URL' })
          .check(z.maxLength(48, 'must be at most 48 characters so an SMS still fits one segment')),
      ),
      /** How long an alert's acknowledgement link works. */
      linkValidFor: z._default(limitText, '24h'),
      /** How long an acknowledgement pauses repeats of those cases, per level. */
      pause: z._default(perLevel(limitText), {}),
    }),
    { linkValidFor: '24h', pause: {} },
  ),
  /** The daily picture: an email each morning (London time) to these audiences, even when all is
   * clear, so that its absence is noticed. */
  digest: z._default(
    z.strictObject({
      at: z._default(clockTime, '07:00'),
      audiences: z._default(z.array(id), []),
    }),
    { at: '07:00', audiences: [] },
  ),
});

export type ConfigFile = z.infer<typeof configSchema>;
export type RuleMatch = z.infer<typeof matchSchema>;
export type RouteMatch = z.infer<typeof routeMatchSchema>;
