// What SNS holds for a topic's subscriptions: each one's protocol, whether it awaits confirmation,
// and (for a phone) whether the number opted out of SMS from the account. Endpoints are compared
// here and never handed on.

import {
  paginateListPhoneNumbersOptedOut,
  paginateListSubscriptionsByTopic,
  type SNSClient,
} from '@aws-sdk/client-sns';
import type {
  ListedSubscription,
  SubscriptionDirectory,
  TopicName,
} from '../delivery/subscription-health.ts';

/** The SubscriptionArn SNS lists for an email subscription not yet confirmed. */
const PENDING = 'PendingConfirmation';

export class SnsSubscriptionDirectory implements SubscriptionDirectory {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArns: Readonly<Record<TopicName, string>>,
  ) {}

  async list(topic: TopicName): Promise<ListedSubscription[]> {
    const listed: Array<{ protocol: string; pending: boolean; endpoint: string | undefined }> = [];
    for await (const page of paginateListSubscriptionsByTopic(
      { client: this.client },
      { TopicArn: this.topicArns[topic] },
    )) {
      for (const s of page.Subscriptions ?? []) {
        // Pending is listed as such; anything else but an ARN (one being deleted) is left out, and so
        // counts as missing.
        const arn = s.SubscriptionArn ?? '';
        if (arn !== PENDING && !arn.startsWith('arn:')) continue;
        listed.push({ protocol: s.Protocol ?? '', pending: arn === PENDING, endpoint: s.Endpoint });
      }
    }
    const optedOut = listed.some((s) => s.protocol === 'sms') ? await this.optedOutNumbers() : new Set();
    return listed.map(({ endpoint, ...s }) => ({
      ...s,
      optedOut: s.protocol === 'sms' && endpoint !== undefined && optedOut.has(endpoint),
    }));
  }

  /** Every number opted out of SMS from this account (the account's list, a page at a time). */
  private async optedOutNumbers(): Promise<Set<string>> {
    const numbers = new Set<string>();
    for await (const page of paginateListPhoneNumbersOptedOut({ client: this.client }, {})) {
      for (const n of page.phoneNumbers ?? []) numbers.add(n);
    }
    return numbers;
  }
}
