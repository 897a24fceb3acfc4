// The SNS message a group's message becomes: within SNS's size limit by bytes even for a huge
// backlog with long references and a long link, with an ASCII subject, and the SMS as the body
// phones receive.

import { describe, expect, it } from 'vitest';
import { SNS_MAX_BYTES, snsMessageBody, snsMessageBytes, snsSubject } from '#shared/delivery/sns-message.ts';
import { fitsOneSegment, renderEmail, renderSms } from '#shared/domain/notify.ts';
import { aGroupMessage, alertLine, DAY } from '#test/support/fixtures.ts';

const backlog = (count: number, refLength = 14, linkBase = 'https://qw.example.police.uk/q') =>
  aGroupMessage(
    Array.from({ length: count }, (_, i) =>
      alertLine(i, (90 - (i % 90)) * DAY, {
        caseRef: `DA-${String(i).padStart(Math.max(7, refLength - 3), '0')}`,
        riskLevel: 'standard',
      }),
    ),
    { level: 'escalation', overrides: { linkBase } },
  );

describe('the SNS message', () => {
  it('stays under 256 KB for 5,000 cases with 40-character references and a 60-character link', () => {
    const m = backlog(5000, 40, `https://${'q'.repeat(40)}.example.org/q`);

    const content = { sms: renderSms(m), email: renderEmail(m) };

    expect(snsMessageBytes(content, {})).toBeLessThan(SNS_MAX_BYTES - 4096);
    expect(content.email.body).toMatch(/and \d+ more at escalation: see https:\/\//);
  });

  it('stays under 256 KB when the place name and every line need multi-byte characters', () => {
    const m = backlog(5000);
    m.placeName = `D01 ${'Ŵ'.repeat(20)}`;
    m.resolved = Array.from({ length: 300 }, (_, i) => `CP-${String(i).padStart(37, '9')}`);
    m.resolvedCount = 9000;

    const content = { sms: renderSms(m), email: renderEmail(m) };

    expect(snsMessageBytes(content, {})).toBeLessThan(SNS_MAX_BYTES);
  });

  it('carries the one-segment SMS for phones and the email for inboxes', () => {
    const m = backlog(3);
    const sms = renderSms(m);
    const email = renderEmail(m);

    const body = JSON.parse(snsMessageBody({ sms, email }));

    expect(body.sms).toBe(sms);
    expect(fitsOneSegment(body.sms)).toBe(true);
    expect(body.default).toBe(sms);
    expect(body.email.startsWith(`${email.subject}\n\n`)).toBe(true);
    expect(snsSubject(email.subject)).toBe(email.subject);
  });

  it('has no SMS body in an email-only message', () => {
    const email = renderEmail(backlog(3));

    const body = JSON.parse(snsMessageBody({ email }));

    expect(body.sms).toBeUndefined();
    expect(body.default).toBe(email.subject);
  });
});
