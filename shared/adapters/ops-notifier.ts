// System-health messages to the ops topic: plain text, no case data beyond counts and references.

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { OpsNotifier } from '../scan/ports.ts';
import { snsSubject } from './sns-publisher.ts';

export class SnsOpsNotifier implements OpsNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(subject: string, text: string): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(`[queuewatch ops] ${subject}`),
        Message: text,
      }),
    );
  }
}
