// Whether the people the stack subscribed still receive: a subscription SNS lists can still reach
// nobody. An email subscription receives nothing until its person clicks the link in the email AWS
// sends (a mail gateway that opens links may click "unsubscribe" instead, which deletes it), and a
// phone that replied STOP to any SMS from the account is opted out of every SMS from it. None of
// this reaches CloudFormation, so the stack goes on believing in subscriptions that deliver nothing.
// The digest function compares what SNS holds with what the stack made, by counts alone (no
// endpoint leaves the function: they are staff's contact details).

import * as z from '../domain/zod.ts';
import type { Deployment } from './subscriptions.ts';

const TOPICS = ['alert', 'ops'] as const;
export type TopicName = (typeof TOPICS)[number];
const PROTOCOLS = ['sms', 'email'] as const;
export type SubscriptionProtocolName = (typeof PROTOCOLS)[number];

const count = z.int().check(z.nonnegative());
/** How many subscriptions the stack made on each topic, by protocol (the ops topic has inboxes only). */
export const expectedSubscriptionsSchema = z.strictObject({
  alert: z.strictObject({ sms: count, email: count }),
  ops: z.strictObject({ email: count }),
});
export type ExpectedSubscriptions = z.infer<typeof expectedSubscriptionsSchema>;

/** What the data stack subscribes for a deployment: each subscriber on the alert topic, each of
 * `opsEmails` on the ops topic (duplicates are refused at synth, so each is one subscription). */
export function expectedSubscriptionsOf(deployment: Pick<Deployment, 'subscribers' | 'opsEmails'>) {
  const on = (protocol: SubscriptionProtocolName) =>
    deployment.subscribers.filter((s) => s.protocol === protocol).length;
  return {
    alert: { sms: on('sms'), email: on('email') },
    ops: { email: deployment.opsEmails.length },
  } satisfies ExpectedSubscriptions;
}

/** One subscription as SNS lists it, without its endpoint. */
export interface ListedSubscription {
  protocol: string;
  /** An email subscription whose person has not yet confirmed it. */
  pending: boolean;
  /** A phone number opted out of SMS from this account. */
  optedOut: boolean;
}

/** What SNS holds, topic by topic. */
export interface SubscriptionDirectory {
  list(topic: TopicName): Promise<ListedSubscription[]>;
}

/** One topic's subscriptions of one protocol: how many the stack made, and how many receive. */
export interface SubscriptionCount {
  topic: TopicName;
  protocol: SubscriptionProtocolName;
  expected: number;
  /** Confirmed, and (for a phone) not opted out. */
  receiving: number;
  /** Email: not yet confirmed. */
  pending: number;
  /** SMS: the number opted out of SMS from this account. */
  optedOut: number;
  /** Fewer listed than the stack made: deleted (unsubscribed) since. */
  missing: number;
}

export interface SubscriptionHealth {
  counts: SubscriptionCount[];
  /** Subscriptions the stack made that deliver nothing: pending, opted out or missing. */
  notReceiving: number;
}

export function subscriptionHealth(
  expected: ExpectedSubscriptions,
  listed: Readonly<Record<TopicName, readonly ListedSubscription[]>>,
): SubscriptionHealth {
  const counts: SubscriptionCount[] = [];
  for (const topic of TOPICS) {
    for (const protocol of PROTOCOLS) {
      const made = (expected[topic] as Partial<Record<SubscriptionProtocolName, number>>)[protocol] ?? 0;
      const these = listed[topic].filter((s) => s.protocol === protocol);
      if (made === 0 && these.length === 0) continue;
      const pending = these.filter((s) => s.pending).length;
      const optedOut = these.filter((s) => !s.pending && s.optedOut).length;
      const receiving = these.length - pending - optedOut;
      counts.push({
        topic,
        protocol,
        expected: made,
        receiving,
        pending,
        optedOut,
        missing: Math.max(0, made - these.length),
      });
    }
  }
  // By count alone (no endpoint is known here): a pending or opted-out subscription counts whoever
  // made it (one added by hand delivers nothing either), at most as many as the stack made; a
  // missing one shows only when fewer are listed than were made, so a confirmed one added by hand
  // hides one of the stack's that was deleted.
  const notReceiving = counts.reduce(
    (sum, c) => sum + Math.min(c.expected, c.pending + c.optedOut + c.missing),
    0,
  );
  return { counts, notReceiving };
}

/** The problems in words, one a line, for the log (and the ops alarm's reader): empty when all
 * receive. */
export function describeSubscriptionHealth(health: SubscriptionHealth): string[] {
  const lines: string[] = [];
  for (const c of health.counts) {
    const what = `${c.topic} topic, ${c.protocol === 'sms' ? 'phones' : 'inboxes'}`;
    if (c.pending > 0)
      lines.push(
        `${what}: ${c.pending} of ${c.expected} not confirmed (nothing is delivered until the person clicks the link in the email AWS sent)`,
      );
    if (c.optedOut > 0)
      lines.push(
        `${what}: ${c.optedOut} of ${c.expected} opted out of SMS from this account (a reply of STOP): no SMS reaches them until the number is opted in again`,
      );
    if (c.missing > 0)
      lines.push(
        `${what}: ${c.missing} of ${c.expected} missing (unsubscribed since the deploy, perhaps by a link in an email): subscribe it again`,
      );
  }
  return lines;
}
