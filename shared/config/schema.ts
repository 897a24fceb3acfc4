// The admin config file's shape (YAML or JSON). Types come from this schema; compile.ts turns a
// parsed file into the structures the engine runs on and checks what a schema cannot.

import * as z from 'zod';
import { ID_PATTERN, RISK_LEVELS, STAGES } from '../domain/case.ts';
import { LEVELS } from '../domain/levels.ts';
import { signalsSchema } from './signals-schema.ts';

const id = z.string().regex(ID_PATTERN, 'must be a lower-case id like district-supervisor');
const limitText = z.string({ error: 'must be a limit like 30m, 4h, 7d or 1wd' });
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

/** A repeat interval: a limit, or `never` (the level is sent once, when it is reached). */
const repeatText = z.string({ error: 'must be a limit like 4h or 1wd, or never' });
/** A London wall-clock time, HH:MM (24-hour). */
const clockTime = z
  .string({ error: 'must be a time like 22:00 (London time, 24-hour)' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 22:00 (London time, 24-hour)');
const perLevel = <T extends z.ZodType>(value: T) =>
  z.object({ warning: value.optional(), breach: value.optional(), escalation: value.optional() }).strict();

export const matchSchema = z
  .object({
    category: oneOrMany(id).optional(),
    riskLevel: oneOrMany(z.enum(RISK_LEVELS)).optional(),
    stage: oneOrMany(z.enum(STAGES)).optional(),
    childrenInvolved: z.boolean().optional(),
    district: oneOrMany(z.string()).optional(),
  })
  .strict();

export const routeMatchSchema = matchSchema
  .extend({
    localAuthority: oneOrMany(z.string()).optional(),
    rule: oneOrMany(id).optional(),
    level: oneOrMany(z.enum(LEVELS)).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1, { error: 'must be 1' }),
    force: z.string().min(1).max(40),
    linkBase: z
      .url({ protocol: /^https$/, error: 'must be an https URL (the case system, behind sign-in)' })
      .max(60, 'must be at most 60 characters so an SMS still fits one segment'),
    categories: z.array(id).min(1, 'needs at least one category'),
    localAuthorities: z.record(id, z.object({ name: z.string().min(1).max(60) }).strict()),
    districts: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'must be a district id like D01'),
      z.object({ name: z.string().min(1).max(24), localAuthority: id }).strict(),
    ),
    calendar: z
      .object({
        extraNonWorkingDays: z.array(z.iso.date({ error: 'must be a date like 2027-06-07' })).default([]),
      })
      .strict()
      .default({ extraNonWorkingDays: [] }),
    repeat: z
      .object({ warning: repeatText, breach: repeatText, escalation: repeatText })
      .strict()
      .describe('how often an audience still waiting on cases at a level is reminded (or never)'),
    rules: z
      .array(
        z
          .object({
            id,
            description: z.string().max(200).optional(),
            match: matchSchema.default({}),
            warn: limitText,
            breach: limitText,
            escalate: limitText,
          })
          .strict(),
      )
      .min(1, 'needs at least one rule (and one of them with an empty match: the absolute ceiling)'),
    audiences: z.record(
      id,
      z
        .object({
          description: z.string().max(200),
          scope: z.enum(['district', 'local-authority', 'force']),
          /** This audience's repeat intervals, per level, over the top-level `repeat`. */
          repeat: perLevel(repeatText).optional(),
          /** London times between which reminders and new warnings to this audience wait (new
           * breaches and escalations still go at once). */
          quietHours: z.object({ from: clockTime, to: clockTime }).strict().optional(),
          /** The levels whose news or reminders warrant an SMS; the rest go by email (default: all). */
          smsFor: z.array(z.enum(LEVELS)).optional(),
        })
        .strict(),
    ),
    routes: z
      .array(
        z
          .object({
            description: z.string().max(200).optional(),
            match: routeMatchSchema.default({}),
            audiences: z.array(id).min(1, 'needs at least one audience'),
          })
          .strict(),
      )
      .min(1, 'needs at least one route'),
    fallbackAudience: id.describe('receives any alert no route matched, so nothing is ever dropped'),
    sms: z
      .object({ maxPerRun: z.number().int().min(1).max(1000).default(20) })
      .strict()
      .default({ maxPerRun: 20 }),
    signals: signalsSchema
      .optional()
      .describe('silence: flow that falls below normal or stops (signals-schema.ts)'),
    acknowledge: z
      .object({
        /** The acknowledgement page's public address, which every alert links to (a short one keeps
         * the SMS readable); without it, the deployed stack's own address is used. */
        baseUrl: z
          .url({ protocol: /^https$/, error: 'must be an https URL' })
          .max(48, 'must be at most 48 characters so an SMS still fits one segment')
          .optional(),
        /** How long an alert's acknowledgement link works. */
        linkValidFor: limitText.default('24h'),
        /** How long an acknowledgement pauses repeats of those cases, per level. */
        pause: perLevel(limitText).default({}),
      })
      .strict()
      .default({ linkValidFor: '24h', pause: {} }),
    /** The daily picture: an email each morning (London time) to these audiences, even when all is
     * clear, so that its absence is noticed. */
    digest: z
      .object({
        at: clockTime.default('07:00'),
        audiences: z.array(id).default([]),
      })
      .strict()
      .default({ at: '07:00', audiences: [] }),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
export type RuleMatch = z.infer<typeof matchSchema>;
export type RouteMatch = z.infer<typeof routeMatchSchema>;
