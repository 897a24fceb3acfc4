// The admin config's `signals` section: the silence signals (a referral rate or share that falls
// below its district's normal, a flow that stops), how normal is learned, and who hears of each.
// Compiled and checked against the rest of the config in compile-signals.ts.

import * as z from 'zod';
import { ID_PATTERN, RISK_LEVELS, STAGES } from '../domain/case.ts';
import { FROM_STAGES } from '../domain/flow.ts';
import { LEVELS } from '../domain/levels.ts';

const id = z.string().regex(ID_PATTERN, 'must be a lower-case id like child-referrals');
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);
/** Which transitions a signal counts: any of these keys, a value or a list each. */
export const flowMatchSchema = z
  .object({
    from: oneOrMany(z.enum(FROM_STAGES)).optional(),
    to: oneOrMany(z.enum(STAGES)).optional(),
    category: oneOrMany(id).optional(),
    riskLevel: oneOrMany(z.enum(RISK_LEVELS)).optional(),
    childrenInvolved: z.boolean().optional(),
  })
  .strict();

/** What an SMS calls the signal ("child referrals 3 of 11"): short, plain ASCII. */
const label = z
  .string()
  .min(3)
  .max(30, 'must be at most 30 characters so the SMS fits one segment')
  .regex(/^[A-Za-z0-9 '&/-]+$/, "must be plain letters, digits, spaces and - / & ' (one SMS segment)");

const fall = z
  .number()
  .gt(0, 'must be above 0')
  .lt(1, 'must be below 1 (0.5: a halving)')
  .default(0.5)
  .describe('the fall the signal is tuned to notice fastest: 0.5 is a halving');

const level = z.enum(LEVELS).describe('the alert level subscribers filter on');

const rateSchema = z
  .object({
    id,
    label,
    description: z.string().max(200).optional(),
    count: flowMatchSchema,
    fall,
    level: level.default('breach'),
  })
  .strict();

const proportionSchema = z
  .object({
    id,
    label,
    description: z.string().max(200).optional(),
    /** The cases judged: each transition matching this is one case leaving the stage. */
    cases: flowMatchSchema,
    /** Of those, the ones that count as referred. */
    referred: flowMatchSchema,
    fall,
    floor: z
      .number()
      .gt(0, 'must be a share above 0 (0.6: 60%)')
      .lt(1, 'must be a share below 1 (0.6: 60%)')
      .optional()
      .describe('a share below which the signal is raised whatever its own normal, from day one'),
    level: level.default('escalation'),
  })
  .strict();

const limitText = z.string({ error: 'must be a duration like 4h or 1d' });

export const signalsSchema = z
  .object({
    baseline: z
      .object({
        weeks: z.number().int().min(4).max(26).default(8),
        minWeeks: z.number().int().min(1).max(26).default(4),
      })
      .strict()
      .default({ weeks: 8, minWeeks: 4 }),
    falseAlarmDays: z
      .number()
      .int()
      .min(100)
      .max(100_000)
      .default(3000)
      .describe('design false-alarm rate: one chance alarm per signal and district in this many days'),
    repeat: limitText.default('24h').describe('a raised signal is sent again this often'),
    rates: z.array(rateSchema).default([]),
    proportions: z.array(proportionSchema).default([]),
    flowStopped: z
      .object({
        districts: z.boolean().default(true),
        feed: z.boolean().default(true),
        repeat: limitText.default('4h'),
        districtLevel: level.default('breach'),
        feedLevel: level.default('escalation'),
      })
      .strict()
      .default({
        districts: true,
        feed: true,
        repeat: '4h',
        districtLevel: 'breach',
        feedLevel: 'escalation',
      }),
    routes: z
      .array(
        z
          .object({
            description: z.string().max(200).optional(),
            match: z
              .object({
                signal: oneOrMany(id).optional(),
                district: oneOrMany(z.string()).optional(),
                localAuthority: oneOrMany(z.string()).optional(),
              })
              .strict()
              .default({}),
            audiences: z.array(id).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type SignalsFile = z.infer<typeof signalsSchema>;
export type FlowMatch = z.infer<typeof flowMatchSchema>;

/** The two flow-stopped signals' ids, for routes. */
export const FLOW_STOPPED_ID = 'flow-stopped';
export const FEED_STOPPED_ID = 'feed-stopped';
