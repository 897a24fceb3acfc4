// The SNS message a grouped notification becomes: within SNS's size limit even for a huge backlog,
// with an ASCII subject, and the SMS as the body phones receive.

import { describe, expect, it } from 'vitest';
import { SNS_MAX_BYTES, snsMessageBody, snsSubject } from '#shared/adapters/sns-publisher.ts';
import { loadConfig } from '#shared/config/load.ts';
import { fitsOneSegment, type Notification, renderEmail, renderSms } from '#shared/domain/notify.ts';

const config = loadConfig();
const NOW = Date.parse('2026-11-27T09:00:00Z');

const backlog = (count: number): Notification => ({
  audience: 'district-supervisor',
  district: 'D01',
  localAuthority: 'la-northgate',
  level: 'escalation',
  cases: Array.from({ length: count }, (_, i) => ({
    caseRef: `DA-000-${String(i).padStart(7, '0')}`,
    category: 'domestic-abuse',
    riskLevel: 'standard',
    stage: 'awaiting-risk-assessment',
    ageMs: (90 - (i % 90)) * 86_400_000,
  })),
  resolved: [],
});

describe('the SNS message', () => {
  it('stays under 256 KB for a 5,000-case backlog, listing as many cases as fit and how many more', () => {
    const n = backlog(5000);
    const email = renderEmail(n, config, NOW);

    const body = snsMessageBody({
      ...n,
      kind: 'alert',
      categories: ['domestic-abuse'],
      sms: renderSms(n, config),
      email,
    });

    expect(Buffer.byteLength(body)).toBeLessThan(SNS_MAX_BYTES - 4096);
    expect(email.body).toMatch(/and 3200 more: see https:\/\//);
  });

  it('lists every case of a 700-case backlog in the email', () => {
    const email = renderEmail(backlog(700), config, NOW);

    expect(email.body.match(/^ {2}DA-000-\d{7} /gm)).toHaveLength(700);
  });

  it('carries the one-segment SMS for phones and the email for inboxes', () => {
    const n = backlog(3);
    const sms = renderSms(n, config);
    const email = renderEmail(n, config, NOW);

    const body = JSON.parse(
      snsMessageBody({ ...n, kind: 'alert', categories: ['domestic-abuse'], sms, email }),
    );

    expect(body.sms).toBe(sms);
    expect(fitsOneSegment(body.sms)).toBe(true);
    expect(body.default).toBe(sms);
    expect(body.email.startsWith(`${email.subject}\n\n`)).toBe(true);
    expect(snsSubject(email.subject)).toBe(email.subject);
  });
});
