// Whether the subscriptions the stack made still deliver: counted by topic and protocol against
// what the deployment subscribed (pending confirmation, opted out of SMS, deleted since).

import { describe, expect, it } from 'vitest';
import {
  describeSubscriptionHealth,
  expectedSubscriptionsOf,
  type ListedSubscription,
  subscriptionHealth,
} from '#shared/delivery/subscription-health.ts';

const email = (pending = false): ListedSubscription => ({ protocol: 'email', pending, optedOut: false });
const phone = (optedOut = false): ListedSubscription => ({ protocol: 'sms', pending: false, optedOut });
const EXPECTED = { alert: { sms: 2, email: 3 }, ops: { email: 1 } };

describe('subscription health', () => {
  it('counts the deployment’s subscribers by topic and protocol', () => {
    expect(
      expectedSubscriptionsOf({
        subscribers: [
          { protocol: 'sms', endpoint: '+447700900123', audience: 'district-supervisor', district: 'D01' },
          {
            protocol: 'email',
            endpoint: 'd01@example.org',
            audience: 'district-supervisor',
            district: 'D01',
          },
          { protocol: 'email', endpoint: 'senior@example.org', audience: 'senior-officer' },
        ],
        opsEmails: ['duty@example.org', 'oncall@example.org'],
      }),
    ).toEqual({ alert: { sms: 1, email: 2 }, ops: { email: 2 } });
  });

  it('finds nothing wrong when every subscription the stack made is listed and confirmed', () => {
    const health = subscriptionHealth(EXPECTED, {
      alert: [phone(), phone(), email(), email(), email()],
      ops: [email()],
    });

    expect(health.notReceiving).toBe(0);
    expect(describeSubscriptionHealth(health)).toEqual([]);
    expect(health.counts).toEqual([
      { topic: 'alert', protocol: 'sms', expected: 2, receiving: 2, pending: 0, optedOut: 0, missing: 0 },
      { topic: 'alert', protocol: 'email', expected: 3, receiving: 3, pending: 0, optedOut: 0, missing: 0 },
      { topic: 'ops', protocol: 'email', expected: 1, receiving: 1, pending: 0, optedOut: 0, missing: 0 },
    ]);
  });

  it('counts an unconfirmed inbox, an opted-out phone and a deleted subscription, and says each', () => {
    const health = subscriptionHealth(EXPECTED, {
      alert: [phone(true), phone(), email(true), email()],
      ops: [],
    });

    expect(health.notReceiving).toBe(4);
    expect(health.counts).toEqual([
      { topic: 'alert', protocol: 'sms', expected: 2, receiving: 1, pending: 0, optedOut: 1, missing: 0 },
      { topic: 'alert', protocol: 'email', expected: 3, receiving: 1, pending: 1, optedOut: 0, missing: 1 },
      { topic: 'ops', protocol: 'email', expected: 1, receiving: 0, pending: 0, optedOut: 0, missing: 1 },
    ]);
    expect(describeSubscriptionHealth(health)).toEqual([
      'alert topic, phones: 1 of 2 opted out of SMS from this account (a reply of STOP): no SMS reaches them until the number is opted in again',
      'alert topic, inboxes: 1 of 3 not confirmed (nothing is delivered until the person clicks the link in the email AWS sent)',
      'alert topic, inboxes: 1 of 3 missing (unsubscribed since the deploy, perhaps by a link in an email): subscribe it again',
      'ops topic, inboxes: 1 of 1 missing (unsubscribed since the deploy, perhaps by a link in an email): subscribe it again',
    ]);
  });

  it('counts pending ones whoever made them, but never more than the stack made', () => {
    // Two made, three listed (one added by hand), all pending: at most the two made count.
    const health = subscriptionHealth(
      { alert: { sms: 0, email: 2 }, ops: { email: 0 } },
      { alert: [email(true), email(true), email(true)], ops: [email()] },
    );

    expect(health.notReceiving).toBe(2);
    expect(health.counts.find((c) => c.topic === 'ops')).toMatchObject({ expected: 0, receiving: 1 });
  });

  it('misses a deleted subscription that one added by hand, and confirmed, makes up for (counts only)', () => {
    const health = subscriptionHealth(
      { alert: { sms: 0, email: 2 }, ops: { email: 0 } },
      { alert: [email(), email()], ops: [] },
    );

    expect(health.notReceiving).toBe(0);
  });
});
