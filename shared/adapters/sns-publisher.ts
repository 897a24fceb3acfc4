// Delivers messages through SNS: one publish per grouped message, `MessageStructure: json` with an
// `sms` body (one segment), an `email` body and a `default`, and the attributes that subscription
// filter policies route on.

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { messageAttributes } from '../delivery/subscriptions.ts';
import type { OutgoingMessage, Publisher } from '../scan/ports.ts';

/** SNS subjects must be ASCII, one line, under 100 characters. */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7e]/g, '?');
  return ascii.length < 100 ? ascii : `${ascii.slice(0, 96)}...`;
}

/** The `MessageStructure: json` body: the SMS, the email (subject and text), and a default. */
export function snsMessageBody(message: OutgoingMessage): string {
  const body: Record<string, string> = {
    default: message.sms ?? message.email?.subject ?? 'queuewatch alert',
  };
  if (message.sms) body.sms = message.sms;
  if (message.email) body.email = `${message.email.subject}\n\n${message.email.body}`;
  return JSON.stringify(body);
}

/** SNS accepts at most 256 KB a message, attributes included. */
export const SNS_MAX_BYTES = 256 * 1024;

export class SnsPublisher implements Publisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: OutgoingMessage): Promise<string> {
    const levels = typeof message.level === 'string' ? message.level : [...message.level];
    const response = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        MessageStructure: 'json',
        Message: snsMessageBody(message),
        ...(message.email ? { Subject: snsSubject(message.email.subject) } : {}),
        MessageAttributes: messageAttributes({
          audience: message.audience,
          district: message.district,
          localAuthority: message.localAuthority,
          level: levels,
          categories: message.categories,
          kind: message.kind,
        }),
      }),
    );
    if (!response.MessageId) throw new Error('SNS accepted the message but returned no MessageId');
    return response.MessageId;
  }
}
