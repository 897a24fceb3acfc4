// How a topic's subscriptions, as SNS lists them, are read: pending confirmation (which moto_server
// never shows: it confirms every subscription at once), being deleted, and phones opted out of SMS.
// The SNS client is a stand-in answering the two list calls; the integration test reads moto_server.

import {
  ListPhoneNumbersOptedOutCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { describe, expect, it, vi } from 'vitest';
import { SnsSubscriptionDirectory } from '#shared/adapters/sns-subscriptions.ts';

const ARN = 'arn:aws:sns:eu-west-2:123456789012:alerts';

function client(pages: { subscriptions: unknown[][]; optedOut: string[][] }) {
  const calls: string[] = [];
  const sns = new SNSClient({ region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  // The paginators want a real client: only its send is stood in for.
  vi.spyOn(sns, 'send').mockImplementation((async (command: unknown) => {
    if (command instanceof ListSubscriptionsByTopicCommand) {
      const page = Number(command.input.NextToken ?? 0);
      calls.push(`subscriptions ${page}`);
      return {
        Subscriptions: pages.subscriptions[page],
        ...(page + 1 < pages.subscriptions.length ? { NextToken: String(page + 1) } : {}),
      };
    }
    if (command instanceof ListPhoneNumbersOptedOutCommand) {
      const page = Number(command.input.nextToken ?? 0);
      calls.push(`opted out ${page}`);
      return {
        phoneNumbers: pages.optedOut[page],
        ...(page + 1 < pages.optedOut.length ? { nextToken: String(page + 1) } : {}),
      };
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
  it('reads every page: pending inboxes, phones on the opted-out list, and leaves out one being deleted', async () => {
    const { sns, calls } = client({
      subscriptions: [
        [sub('email', 'd01@example.org'), sub('email', 'd02@example.org', 'PendingConfirmation')],
        [
          sub('sms', '+447700900123'),
          sub('sms', '+447700900456'),
          sub('email', 'old@example.org', 'Deleted'),
        ],
      ],
      optedOut: [['+447700900999'], ['+447700900456']],
    });

    const listed = await new SnsSubscriptionDirectory(sns, { alert: ARN, ops: `${ARN}-ops` }).list('alert');

    expect(listed).toEqual([
      { protocol: 'email', pending: false, optedOut: false },
      { protocol: 'email', pending: true, optedOut: false },
      { protocol: 'sms', pending: false, optedOut: false },
      { protocol: 'sms', pending: false, optedOut: true },
    ]);
    expect(calls).toEqual(['subscriptions 0', 'subscriptions 1', 'opted out 0', 'opted out 1']);
  });

  it('does not read the opted-out list for a topic without phones', async () => {
    const { sns, calls } = client({ subscriptions: [[sub('email', 'duty@example.org')]], optedOut: [] });

    await new SnsSubscriptionDirectory(sns, { alert: ARN, ops: `${ARN}-ops` }).list('ops');

    expect(calls).toEqual(['subscriptions 0']);
  });
});
