// The admin config file's shape (YAML or JSON). Types come from this schema; compile.ts turns a
// parsed file into the structures the engine runs on and checks what a schema cannot.

import * as z from 'zod';
import { RISK_LEVELS, STAGES } from '../domain/case.ts';
import { signalsSchema } from './signals-schema.ts';

const id = z.string().regex(/^[a-z][a-z0-9-]{0,47}$/, 'must be a lower-case id like district-supervisor');
const limitText = z.string({ error: 'must be a limit like 30m, 4h, 7d or 1wd' });
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

export const LEVELS = ['warning', 'breach', 'escalation'] as const;
export type Level = (typeof LEVELS)[number];

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
    categories: z.array(id).min(1),
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
      .object({ warning: limitText, breach: limitText, escalation: limitText })
      .strict()
      .describe('how often a case still at the same level is re-notified'),
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
      .min(1),
    audiences: z.record(
      id,
      z
        .object({
          description: z.string().max(200),
          scope: z.enum(['district', 'local-authority', 'force']),
        })
        .strict(),
    ),
    routes: z
      .array(
        z
          .object({
            description: z.string().max(200).optional(),
            match: routeMatchSchema.default({}),
            audiences: z.array(id).min(1),
          })
          .strict(),
      )
      .min(1),
    fallbackAudience: id.describe('receives any alert no route matched, so nothing is ever dropped'),
    sms: z
      .object({ maxPerRun: z.number().int().min(1).max(1000).default(20) })
      .strict()
      .default({ maxPerRun: 20 }),
    signals: signalsSchema
      .optional()
      .describe('silence: flow that falls below normal or stops (signals-schema.ts)'),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
export type RuleMatch = z.infer<typeof matchSchema>;
export type RouteMatch = z.infer<typeof routeMatchSchema>;
