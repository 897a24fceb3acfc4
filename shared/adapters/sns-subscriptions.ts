// What SNS holds for a topic's subscriptions: each one's protocol, whether it awaits confirmation,
// and (for a phone) whether the number opted out of SMS from the account. Each of the topic's own
// numbers is asked about (never the account's whole opted-out list, which would hold other forces'
// numbers in an account shared by several). Endpoints are compared here and never handed on.

import {
  CheckIfPhoneNumberIsOptedOutCommand,
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
    const out: ListedSubscription[] = [];
    // One at a time: a force has tens of phones, and the call's rate is limited account-wide.
    for (const { endpoint, ...s } of listed) {
      out.push({
        ...s,
        optedOut: s.protocol === 'sms' && endpoint !== undefined && (await this.optedOut(endpoint)),
      });
    }
    return out;
  }

  private async optedOut(phoneNumber: string): Promise<boolean> {
    const response = await this.client.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber }));
    return response.isOptedOut === true;
  }
}
