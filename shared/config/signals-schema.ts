// The admin config's `signals` section: the silence signals (a referral rate or share that falls
// below its district's normal, a flow that stops), how normal is learned, and who hears of each.
// Compiled and checked against the rest of the config in compile-signals.ts.

import { ID_PATTERN, RISK_LEVELS, STAGES } from '../domain/case.ts';
import { FROM_STAGES } from '../domain/flow.ts';
import { LEVELS } from '../domain/levels.ts';
import * as z from '../domain/zod.ts';

const id = z.string().check(z.regex(ID_PATTERN, 'must be a lower-case id like child-referrals'));
/** A value or a non-empty list of them, refused in words that say what a value may be (`expected`:
 * 'one of high, medium, standard'), not zod's "Invalid input". */
/** A value quoted in an error only when it is a short word (a typo), as an unknown name is quoted:
 * a config is the admin's own text, but never echo more than a word of it. */
const quotable = (value: unknown): value is string =>
  typeof value === 'string' && /^[\w-]{1,40}$/.test(value);
export const oneOrMany = <T extends z.ZodMiniType>(item: T, expected: string) =>
  z.union([item, z.array(item).check(z.minLength(1))], {
    error: (issue) => {
      const bad = [issue.input].flat().find((v) => !z.safeParse(item, v).success);
      return quotable(bad)
        ? `'${bad}' is not ${expected} (give one, or a list of them)`
        : `must be ${expected}, or a list of them`;
    },
  });
export const oneOfThese = (values: readonly string[]) => `one of ${values.join(', ')}`;
/** One of these values, the wrong one quoted (config schemas only: never for a case record, whose
 * errors must not echo its input). */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) =>
      quotable(issue.input)
        ? `'${issue.input}' is not ${oneOfThese(values)}`
        : `must be ${oneOfThese(values)}`,
  });
export const AN_ID = 'a lower-case id';
export const A_NAME = 'a name';
/** Which transitions a signal counts: any of these keys, a value or a list each. */
export const flowMatchSchema = z.strictObject({
  from: z.optional(oneOrMany(z.enum(FROM_STAGES), oneOfThese(FROM_STAGES))),
  to: z.optional(oneOrMany(z.enum(STAGES), oneOfThese(STAGES))),
  category: z.optional(oneOrMany(id, AN_ID)),
  riskLevel: z.optional(oneOrMany(z.enum(RISK_LEVELS), oneOfThese(RISK_LEVELS))),
  childrenInvolved: z.optional(z.boolean()),
});

/** What an SMS calls the signal ("child referrals 3 of 11"): short, plain ASCII. */
const label = z
  .string()
  .check(
    z.minLength(3),
    z.maxLength(30, 'must be at most 30 characters so the SMS fits one segment'),
    z.regex(/^[A-Za-z0-9 '&/-]+$/, "must be plain letters, digits, spaces and - / & ' (one SMS segment)"),
  );

/** The fall the signal is tuned to notice fastest: 0.5 is a halving. */
const fall = z._default(
  z.number().check(z.gt(0, 'must be above 0'), z.lt(1, 'must be below 1 (0.5: a halving)')),
  0.5,
);

/** The alert level subscribers filter on. */
const level = oneOf(LEVELS);

const rateSchema = z.strictObject({
  id,
  label,
  description: z.optional(z.string().check(z.maxLength(200))),
  count: flowMatchSchema,
  fall,
  level: z._default(level, 'breach'),
});

const proportionSchema = z.strictObject({
  id,
  label,
  description: z.optional(z.string().check(z.maxLength(200))),
  /** The cases judged: each transition matching this is one case leaving the stage. */
  cases: flowMatchSchema,
  /** Of those, the ones that count as referred. */
  referred: flowMatchSchema,
  fall,
  /** A share below which the signal is raised whatever its own normal, from day one. */
  floor: z.optional(
    z
      .number()
      .check(z.gt(0, 'must be a share above 0 (0.6: 60%)'), z.lt(1, 'must be a share below 1 (0.6: 60%)')),
  ),
  level: z._default(level, 'escalation'),
});

const limitText = z.string({ error: 'must be a duration like 4h or 1d' });

export const signalsSchema = z.strictObject({
  baseline: z._default(
    z.strictObject({
      weeks: z._default(z.int().check(z.minimum(4), z.maximum(26)), 8),
      minWeeks: z._default(z.int().check(z.minimum(1), z.maximum(26)), 4),
    }),
    { weeks: 8, minWeeks: 4 },
  ),
  /** Design false-alarm rate: one chance alarm per signal and district in this many days. */
  falseAlarmDays: z._default(z.int().check(z.minimum(100), z.maximum(100_000)), 3000),
  /** A raised signal is sent again this often. */
  repeat: z._default(limitText, '24h'),
  rates: z._default(z.array(rateSchema), []),
  proportions: z._default(z.array(proportionSchema), []),
  flowStopped: z._default(
    z.strictObject({
      districts: z._default(z.boolean(), true),
      feed: z._default(z.boolean(), true),
      repeat: z._default(limitText, '4h'),
      districtLevel: z._default(level, 'breach'),
      feedLevel: z._default(level, 'escalation'),
    }),
    {
      districts: true,
      feed: true,
      repeat: '4h',
      districtLevel: 'breach',
      feedLevel: 'escalation',
    },
  ),
  routes: z
    .array(
      z.strictObject({
        description: z.optional(z.string().check(z.maxLength(200))),
        match: z._default(
          z.strictObject({
            signal: z.optional(oneOrMany(id, AN_ID)),
            district: z.optional(oneOrMany(z.string(), A_NAME)),
            localAuthority: z.optional(oneOrMany(z.string(), A_NAME)),
          }),
          {},
        ),
        audiences: z.array(id).check(z.minLength(1)),
      }),
    )
    .check(z.minLength(1)),
});

export type SignalsFile = z.infer<typeof signalsSchema>;
export type FlowMatch = z.infer<typeof flowMatchSchema>;

/** The two flow-stopped signals' ids, for routes. */
export const FLOW_STOPPED_ID = 'flow-stopped';
export const FEED_STOPPED_ID = 'feed-stopped';
