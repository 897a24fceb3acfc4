// Who receives what: the deployment's subscribers (SMS numbers and email addresses, each with its
// audience and place) and the SNS filter policy that routes each message to exactly its audience.
// The stack creates subscriptions from this; the delivery tests use the same policies.

import * as z from 'zod';
import { maskContact } from '../config/contacts.ts';
import type { ConfigFile } from '../config/schema.ts';
import { LEVELS } from '../domain/levels.ts';
import { STAGE_PATTERN, STAGE_RULE } from './names.ts';

/** E.164: a plus, the country code and the number, 7 to 15 digits in all, no spaces, no leading 0. */
const E164 = /^\+[1-9]\d{6,14}$/;

export { maskContact };

const missingOr =
  (problem: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is missing' : `${maskContact(issue.input)} ${problem}`;

export const phoneNumberSchema = z.string({ error: missingOr('is not text') }).regex(E164, {
  error: missingOr(
    'is not an E.164 phone number (a plus, the country code and the number: no spaces, no leading 0)',
  ),
});

export const emailAddressSchema = z.email({ error: missingOr('is not an email address') });

const subscriberFields = {
  audience: z.string(),
  district: z.string().optional(),
  localAuthority: z.string().optional(),
  /** Only these levels (default: all). */
  levels: z.array(z.enum(LEVELS)).min(1).optional(),
};

/** One person or shared inbox. Real numbers and addresses never go in the repository. */
export const subscriberSchema = z.discriminatedUnion(
  'protocol',
  [
    z.object({ protocol: z.literal('sms'), endpoint: phoneNumberSchema, ...subscriberFields }).strict(),
    z.object({ protocol: z.literal('email'), endpoint: emailAddressSchema, ...subscriberFields }).strict(),
  ],
  { error: (issue) => (issue.input === undefined ? 'is missing' : "must be 'sms' or 'email'") },
);

export type Subscriber = z.infer<typeof subscriberSchema>;

/** The share of the SMS spend limit at which the sms-spend alarm fires. */
export const SMS_SPEND_WARN_SHARE = 0.8;

/** The morning signals run's London time (HH:MM), as a deployment gives it (see `signalsAt` below). */
export const signalsAtSchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a London time like 06:30')
  // The schedule runs at a London time, and EventBridge Scheduler skips a time the clocks jump
  // over: the morning run would be lost on the last Sunday of March (and the heartbeat alarm fire).
  .refine(
    (at) => !at.startsWith('01:'),
    'must not be between 01:00 and 01:59: that hour does not exist in London on the day the clocks go forward, so that morning run would be skipped',
  )
  .default('06:30');

/** One force's deployment (a deployment config holds one, or several under `forces`). */
export const deploymentSchema = z
  .object({
    /** The force's name in every resource it gets: queuewatch-<stage>-... (names.ts). */
    stage: z.string().regex(STAGE_PATTERN, STAGE_RULE),
    /** Where the force's stacks go (default: the account and region of the credentials in use). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region name, like eu-west-2')
      .optional(),
    production: z.boolean().default(false),
    /** The force's admin config, relative to the deployment config file (default: -c adminConfig,
     * else the shipped config/queuewatch.yaml). */
    adminConfig: z.string().min(1, 'must name a file').optional(),
    /** Minutes between scans. */
    scheduleMinutes: z.number().int().min(1).max(60).default(5),
    /** Only while a mirror from the first release migrates to the sharded open-cases index (README:
     * "Migrating to the sharded index"): `legacy` adds the sharded index and keeps reading the old
     * one; `migrating` reads the sharded one, the old one still there; absent, only the sharded. */
    openCasesIndex: z.enum(['legacy', 'migrating']).optional(),
    /** London time of the morning run that judges referral rates and shares (HH:MM): after the
     * day it judges ends at midnight, and well before the daily digest (the admin config's
     * `digest.at`, default 07:00), which shows what that run judged (checkDeployment warns when it
     * is not). */
    signalsAt: signalsAtSchema,
    /** Minutes between checks for stopped flow. */
    flowCheckMinutes: z.number().int().min(5).max(60).default(15),
    subscribers: z.array(subscriberSchema).default([]),
    /** Email addresses for system-health alerts (the ops topic). */
    opsEmails: z.array(emailAddressSchema).default([]),
    /** The account's monthly SMS spend limit in the region (USD), as set in SNS: an alarm fires at
     * SMS_SPEND_WARN_SHARE of it, before SNS stops sending every SMS. */
    smsSpendLimitUsd: z.number().positive('must be the limit in US dollars, above 0').optional(),
  })
  .strict()
  .superRefine((deployment, ctx) => {
    for (const issue of productionIssues(deployment)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** What production needs that a trial deployment may go without. Checked on a parsed deployment by
 * the schema, and on the raw file by checkDeployment (so it is reported beside other problems). */
export function productionIssues(deployment: {
  production?: unknown;
  subscribers?: unknown;
  opsEmails?: unknown;
}): Array<{ path: string[]; message: string }> {
  if (deployment.production !== true) return [];
  const empty = (list: unknown) => !Array.isArray(list) || list.length === 0;
  return [
    ...(empty(deployment.opsEmails)
      ? [
          {
            path: ['opsEmails'],
            message:
              'production needs at least one ops email: the alarms (a stopped scan, a silent feed) go nowhere without one',
          },
        ]
      : []),
    ...(empty(deployment.subscribers)
      ? [{ path: ['subscribers'], message: 'production needs subscribers: alerts would reach nobody' }]
      : []),
  ];
}

export type Deployment = z.infer<typeof deploymentSchema>;

export type FilterPolicy = Record<string, string[]>;

/** The filter policy for a subscriber, by the scope of its audience. Throws naming the subscriber
 * when it lacks the district or local authority its audience's scope needs. */
export function filterPolicyFor(
  subscriber: Subscriber,
  config: ConfigFile,
  where = 'subscriber',
): FilterPolicy {
  const audience = config.audiences[subscriber.audience];
  if (!audience) throw new Error(`${where}: unknown audience '${subscriber.audience}'`);
  let place: string;
  if (audience.scope === 'district') {
    if (!subscriber.district || !config.districts[subscriber.district]) {
      throw new Error(`${where}: audience '${subscriber.audience}' is per district: set a known district`);
    }
    place = subscriber.district;
  } else if (audience.scope === 'local-authority') {
    if (!subscriber.localAuthority || !config.localAuthorities[subscriber.localAuthority]) {
      throw new Error(
        `${where}: audience '${subscriber.audience}' is per local authority: set a known localAuthority`,
      );
    }
    place = subscriber.localAuthority;
  } else place = 'force';
  // One group per subscriber: the audience at its place. Every message names the groups it is for,
  // so a phone receives its own group's alert, or the summary that its group's alert went by email.
  const policy: FilterPolicy = { group: [`${subscriber.audience}@${place}`] };
  if (subscriber.levels) policy.level = [...subscriber.levels];
  // Past the per-run SMS budget, alerts go out email-only and one summary goes to phones; the daily
  // digest is an email.
  policy.kind = subscriber.protocol === 'sms' ? ['alert', 'summary'] : ['alert', 'email-only', 'digest'];
  return policy;
}
