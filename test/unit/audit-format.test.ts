// `queuewatch audit` in words: an acknowledgement sits in the disclosure log beside the messages, but
// discloses nothing to anyone; it is said as what it is, never counted as a disclosure.

import { describe, expect, it } from 'vitest';
import type { Disclosure, LoggedMessage } from '#shared/adapters/audit-log.ts';
import { formatDay, formatDisclosures } from '#shared/cli/audit-command.ts';

const CASE = 'DA-009-0000001';
const common = {
  runId: 'run-1',
  audience: 'district-supervisor',
  district: 'D01',
  localAuthority: 'la-northgate',
  level: 'breach' as const,
};
const alert = {
  ...common,
  sentAt: '2026-11-30T09:00:00.000Z',
  messageId: 'm1',
  kind: 'alert',
  reason: 'a case reached breach',
};
const ack = {
  ...common,
  sentAt: '2026-11-30T09:20:00.000Z',
  messageId: 'ack:abcdef012345',
  kind: 'acknowledgement',
  level: ['breach' as const],
  reason: 'acknowledged by the SMS link of the message sent 2026-11-30T09:00:00.000Z',
};

describe('audit output', () => {
  it('by case: an acknowledgement is not a disclosure, nor said as one "to" its audience', () => {
    const items: Disclosure[] = [
      { ...alert, caseRef: CASE, resolved: false },
      { ...ack, caseRef: CASE, resolved: false },
    ];
    const lines = formatDisclosures(CASE, { items, unreadable: 0 }, 'log').split('\n');

    expect(lines[0]).toBe(`${CASE}: 1 disclosure and 1 acknowledgement in log, oldest first`);
    expect(lines[1]).toMatch(
      /^ {2}2026-11-30 09:00:00Z {2}breach +to district-supervisor in D01 \(la-northgate\) by SMS and email; message m1; /,
    );
    expect(lines[2]).toBe(
      '  2026-11-30 09:20:00Z  acknowledged  by district-supervisor in D01 (la-northgate); ack:abcdef012345; acknowledged by the SMS link of the message sent 2026-11-30T09:00:00.000Z',
    );
  });

  it('by day: acknowledgements are counted apart from the messages that disclosed cases', () => {
    const items: LoggedMessage[] = [
      { ...alert, caseRefs: [CASE], resolvedCaseRefs: [] },
      // Acknowledged today, a case disclosed on an earlier day: not a case disclosed today.
      { ...ack, caseRefs: [CASE, 'DA-009-0000002'], resolvedCaseRefs: [] },
    ];
    const lines = formatDay('2026-11-30', { items, unreadable: 0 }, 'log', false).split('\n');

    expect(lines[0]).toBe('log, 2026-11-30 (UTC): 1 message disclosing 1 case; 1 acknowledgement');
    expect(lines[2]).toBe(
      '  09:20:00  breach      acknowledged by district-supervisor in D01: 2 cases; ack:abcdef012345',
    );
  });
});
