// Who receives what: the deployment's subscribers (SMS numbers and email addresses, each with its
// audience and place) and the SNS filter policy that routes each message to exactly its audience.
// The stack creates subscriptions from this; the delivery tests use the same policies.

import { z } from 'zod';
import type { ConfigFile, Level } from '../config/schema.ts';
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
  return policy;
}

/** The SNS message attributes of a notification. */
export function messageAttributes(n: {
  audience: string;
  district: string;
  localAuthority: string;
  level: Level;
  categories: readonly string[];
  kind: 'alert' | 'summary';
}) {
  const s = (value: string) => ({ DataType: 'String', StringValue: value });
  return {
    audience: s(n.audience),
    district: s(n.district),
    localAuthority: s(n.localAuthority),
    level: s(n.level),
    kind: s(n.kind),
    category: { DataType: 'String.Array', StringValue: JSON.stringify([...new Set(n.categories)].sort()) },
  };
}
