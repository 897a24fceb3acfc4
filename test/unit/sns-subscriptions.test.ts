// How a topic's subscriptions, as SNS lists them, are read: pending confirmation (which moto_server
// never shows: it confirms every subscription at once), being deleted, and phones opted out of SMS,
// asked number by number. The SNS client's send is stood in for; the integration test reads
// moto_server.

import {
  CheckIfPhoneNumberIsOptedOutCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { describe, expect, it, vi } from 'vitest';
import { SnsSubscriptionDirectory } from '#shared/adapters/sns-subscriptions.ts';

const ARN = 'arn:aws:sns:eu-west-2:123456789012:alerts';

function client(pages: unknown[][], optedOut: readonly string[]) {
  const calls: string[] = [];
  const sns = new SNSClient({ region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  // The paginator wants a real client: only its send is stood in for.
  vi.spyOn(sns, 'send').mockImplementation((async (command: unknown) => {
    if (command instanceof ListSubscriptionsByTopicCommand) {
      const page = Number(command.input.NextToken ?? 0);
      calls.push(`subscriptions ${page}`);
      return {
        Subscriptions: pages[page],
        ...(page + 1 < pages.length ? { NextToken: String(page + 1) } : {}),
      };
    }
    if (command instanceof CheckIfPhoneNumberIsOptedOutCommand) {
      calls.push('opted out?');
      return { isOptedOut: optedOut.includes(command.input.phoneNumber ?? '') };
    }
    throw new Error('unexpected command');
  }) as never);
  return { sns, calls };
}

const sub = (Protocol: string, Endpoint: string, SubscriptionArn = `${ARN}:${Endpoint.length}`) => ({
  Protocol,
  Endpoint,
  SubscriptionArn,
  TopicArn: ARN,
});

describe('SnsSubscriptionDirectory', () => {
  it('reads every page: pending inboxes, opted-out phones, and leaves out one being deleted', async () => {
    const { sns, calls } = client(
      [
        [sub('email', 'd01@example.org'), sub('email', 'd02@example.org', 'PendingConfirmation')],
        [
          sub('sms', '+447700900123'),
          sub('sms', '+447700900456'),
          sub('email', 'old@example.org', 'Deleted'),
        ],
      ],
      ['+447700900456'],
    );

    const listed = await new SnsSubscriptionDirectory(sns, { alert: ARN, ops: `${ARN}-ops` }).list('alert');

    expect(listed).toEqual([
      { protocol: 'email', pending: false, optedOut: false },
      { protocol: 'email', pending: true, optedOut: false },
      { protocol: 'sms', pending: false, optedOut: false },
      { protocol: 'sms', pending: false, optedOut: true },
    ]);
    // Only its own phones are asked about.
    expect(calls).toEqual(['subscriptions 0', 'subscriptions 1', 'opted out?', 'opted out?']);
  });

  it('asks nothing about phones for a topic of inboxes', async () => {
    const { sns, calls } = client([[sub('email', 'duty@example.org')]], []);

    await new SnsSubscriptionDirectory(sns, { alert: ARN, ops: `${ARN}-ops` }).list('ops');

    expect(calls).toEqual(['subscriptions 0']);
  });
});
