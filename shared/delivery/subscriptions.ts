// Who receives what: the deployment's subscribers (SMS numbers and email addresses, each with its
// audience and place) and the SNS filter policy that routes each message to exactly its audience.
// The stack creates subscriptions from this; the delivery tests use the same policies.

import * as z from 'zod';
import type { ConfigFile } from '../config/schema.ts';
import { LEVELS } from '../config/schema.ts';

/** Message attributes every alert carries; filter policies match on these. */
export const MESSAGE_ATTRIBUTES = [
  'audience',
  'district',
  'localAuthority',
  'category',
  'level',
  'kind',
] as const;

export const subscriberSchema = z
  .object({
    protocol: z.enum(['sms', 'email']),
    /** E.164 phone number for sms, address for email. Real ones never go in the repository. */
    endpoint: z.string().min(3).max(254),
    audience: z.string(),
    district: z.string().optional(),
    localAuthority: z.string().optional(),
    /** Only these levels (default: all). */
    levels: z.array(z.enum(LEVELS)).min(1).optional(),
  })
  .strict();

export type Subscriber = z.infer<typeof subscriberSchema>;

export const deploymentSchema = z
  .object({
    /** Names the stacks and tables: queuewatch-<stage>. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/),
    production: z.boolean().default(false),
    /** Minutes between scans. */
    scheduleMinutes: z.number().int().min(1).max(60).default(5),
    /** London time of the morning run that judges referral rates and shares (HH:MM). */
    signalsAt: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a London time like 07:00')
      .default('07:00'),
    /** Minutes between checks for stopped flow. */
    flowCheckMinutes: z.number().int().min(5).max(60).default(15),
    subscribers: z.array(subscriberSchema).default([]),
    /** Email addresses for system-health alerts (the ops topic). */
    opsEmails: z.array(z.string().email()).default([]),
  })
  .strict();

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
  const policy: FilterPolicy = { audience: [subscriber.audience] };
  if (audience.scope === 'district') {
    if (!subscriber.district || !config.districts[subscriber.district]) {
      throw new Error(`${where}: audience '${subscriber.audience}' is per district: set a known district`);
    }
    policy.district = [subscriber.district];
  } else if (audience.scope === 'local-authority') {
    if (!subscriber.localAuthority || !config.localAuthorities[subscriber.localAuthority]) {
      throw new Error(
        `${where}: audience '${subscriber.audience}' is per local authority: set a known localAuthority`,
      );
    }
    policy.localAuthority = [subscriber.localAuthority];
  }
  if (subscriber.levels) policy.level = [...subscriber.levels];
  // Past the per-run SMS cap, alerts go out email-only and one summary goes to phones.
  policy.kind = subscriber.protocol === 'sms' ? ['alert', 'summary'] : ['alert', 'email-only'];
  return policy;
}

/** What a message is, for filter policies: `alert` goes to every channel; past the per-run SMS
 * cap alerts go `email-only`, and one `summary` tells phones how many more are waiting. */
export type MessageKind = 'alert' | 'email-only' | 'summary';

type AttributeValue = string | readonly string[];

/** The SNS message attributes of a message. Array values (used by the summary, which goes to
 * several audiences at once) become String.Array, which filter policies match by any element. */
export function messageAttributes(m: {
  audience: AttributeValue;
  district: AttributeValue;
  localAuthority: AttributeValue;
  level: AttributeValue;
  categories: readonly string[];
  kind: MessageKind;
}) {
  const attribute = (value: AttributeValue) =>
    typeof value === 'string'
      ? { DataType: 'String', StringValue: value }
      : { DataType: 'String.Array', StringValue: JSON.stringify([...new Set(value)].sort()) };
  return {
    audience: attribute(m.audience),
    district: attribute(m.district),
    localAuthority: attribute(m.localAuthority),
    level: attribute(m.level),
    kind: attribute(m.kind),
    category: attribute(m.categories.length > 0 ? [...m.categories] : ['none']),
  };
}
