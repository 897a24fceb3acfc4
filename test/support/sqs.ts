// An SQS queue subscribed to an SNS topic (on moto_server), standing in for a phone or an inbox:
// what arrives is what the subscription's filter policy let through.

import { type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Creates a queue and subscribes it to the topic, with the filter policy if given. */
export async function subscribeQueue(
  sns: SNSClient,
  sqs: SQSClient,
  topicArn: string,
  queueName: string,
  filterPolicy?: unknown,
): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl,
      Attributes: {
        Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:*' }] }),
      },
    }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      ...(filterPolicy
        ? {
            Attributes: {
              FilterPolicy: JSON.stringify(filterPolicy),
              FilterPolicyScope: 'MessageAttributes',
            },
          }
        : {}),
    }),
  );
  return QueueUrl as string;
}

/** Every SNS envelope waiting in a queue (parsed JSON bodies). */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return out;
    for (const m of Messages) out.push(JSON.parse(m.Body ?? '{}'));
  }
}
