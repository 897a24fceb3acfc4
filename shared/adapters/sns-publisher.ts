// Delivers messages through SNS: one publish per grouped message, `MessageStructure: json` with an
// `sms` body (one segment), an `email` body and a `default`, and the attributes that subscription
// filter policies route on.

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { messageAttributes, snsMessageBody, snsSubject } from '../delivery/sns-message.ts';
import type { OutgoingMessage, Publisher } from '../scan/ports.ts';

export { SNS_MAX_BYTES, snsMessageBody, snsSubject } from '../delivery/sns-message.ts';

export class SnsPublisher implements Publisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: OutgoingMessage): Promise<string> {
    const response = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        MessageStructure: 'json',
        Message: snsMessageBody(message),
        ...(message.email ? { Subject: snsSubject(message.email.subject) } : {}),
        MessageAttributes: messageAttributes({
          groups: message.groups,
          audience: message.audience,
          district: message.district,
          localAuthority: message.localAuthority,
          level: message.level,
          categories: message.categories,
          kind: message.kind,
        }),
      }),
    );
    if (!response.MessageId) throw new Error('SNS accepted the message but returned no MessageId');
    return response.MessageId;
  }
}
