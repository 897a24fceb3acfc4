// What a person reads: one message per audience and place, every level in it highest first, an SMS
// that always fits one segment and an email that leads with what happened and what to do, built to
// fit by bytes, carrying nothing but references, categories, risk levels, stages, ages and links.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, parseConfig } from '#shared/config/load.ts';
import {
  emptySection,
  type GroupMessage,
  renderEmail,
  renderSms,
  renderSummarySms,
  smsSegments,
} from '#shared/domain/notify.ts';
import { aGroupMessage, alertLine, DAY, fitsOneSmsSegment, HOUR, ref } from '#test/support/fixtures.ts';

const LINK = 'https://qw.example.police.uk/q';

/** A message with cases at every level: 2 escalation (1 new), 3 breach, 4 warning. */
function allLevels(): GroupMessage {
  const m = aGroupMessage([], { level: 'breach' });
  const lines = (from: number, n: number, ageDays: number) =>
    Array.from({ length: n }, (_, i) => alertLine(from + i, (ageDays - i) * DAY));
  const escalation = lines(1, 2, 60);
  m.sections.escalation = { count: 2, newCount: 1, lines: escalation, newRefs: new Set([ref(2)]) };
  m.sections.breach = { count: 3, newCount: 0, lines: lines(10, 3, 20), newRefs: new Set() };
  m.sections.warning = { count: 4, newCount: 0, lines: lines(20, 4, 5), newRefs: new Set() };
  return m;
}

describe('renderSms', () => {
  it('counts every level highest first, says how many are new, and lists new cases first', () => {
    const sms = renderSms(allLevels());

    const lines = sms.split('\n');
    expect(lines[0]).toBe('QW D01 Northgate: 2 ESCALATION (1 new), 3 BREACH, 4 WARNING');
    expect(lines[1]).toBe(`${ref(2)} 59d new`);
    expect(lines[2]).toBe(`${ref(1)} 60d`);
    expect(lines.at(-1)).toBe(LINK);
    expect(fitsOneSmsSegment(sms)).toBe(true);
  });

  it('fits one GSM-7 segment with the header, as many cases as fit and the link', () => {
    const cases = Array.from({ length: 70 }, (_, i) => alertLine(i + 1, (80 - i) * DAY));

    const sms = renderSms(aGroupMessage(cases, { newCount: 0 }));

    expect(smsSegments(sms)).toMatchObject({ segments: 1, encoding: 'GSM-7' });
    expect(fitsOneSmsSegment(sms)).toBe(true);
    const lines = sms.split('\n');
    expect(lines[0]).toBe('QW D01 Northgate: 70 BREACH');
    expect(lines[1]).toBe(`${ref(1)} 80d`);
    expect(lines.at(-1)).toBe(LINK);
    expect(lines.length).toBeGreaterThan(4);
  });

  it('lists every case when they all fit', () => {
    const sms = renderSms(aGroupMessage([alertLine(1, 50 * HOUR), alertLine(2, 30 * HOUR)], { newCount: 0 }));

    expect(sms).toBe(`QW D01 Northgate: 2 BREACH\n${ref(1)} 2d 2h\n${ref(2)} 30h\n${LINK}`);
  });

  it('links to the acknowledgement page when there is one', () => {
    const m = aGroupMessage();
    m.ackLinks = { sms: 'https://qw.example.police.uk/a/Ab3dEf7hJk', email: 'https://x.example/a/e' };

    const sms = renderSms(m);

    expect(sms.split('\n').at(-1)).toBe('https://qw.example.police.uk/a/Ab3dEf7hJk');
    expect(sms).not.toContain(LINK);
  });

  it('fits one segment for 1000 cases with long references at escalation', () => {
    const cases = Array.from({ length: 1000 }, (_, i) =>
      alertLine(i, 89 * DAY, { caseRef: `CP-${'9'.repeat(30)}-${String(i).padStart(4, '0')}` }),
    );

    const sms = renderSms(aGroupMessage(cases, { level: 'escalation' }));

    expect(smsSegments(sms).segments).toBe(1);
    expect(fitsOneSmsSegment(sms)).toBe(true);
    expect(sms).toContain('1000 ESCALATION (1000 new)');
  });

  it('uses UCS-2 and still fits one 70-character segment when the place name needs it', () => {
    const m = aGroupMessage([alertLine(1, 30 * HOUR)], {
      newCount: 0,
      overrides: { place: 'D04', placeName: 'D04 Ŵ', linkBase: 'https://q.example/q' },
    });

    const sms = renderSms(m);

    expect(sms).toBe(`QW D04 Ŵ: 1 BREACH\n${ref(1)} 30h\nhttps://q.example/q`);
    expect(smsSegments(sms)).toMatchObject({ segments: 1, encoding: 'UCS-2' });
    expect(sms.length).toBeLessThanOrEqual(70);
  });

  it('drops a non-GSM place name, and then the "new" counts, rather than list no case at all', () => {
    const m = aGroupMessage([alertLine(1, 30 * HOUR)], { overrides: { place: 'D05', placeName: 'D05 Ŵ' } });

    const sms = renderSms(m);

    expect(sms).toBe(`QW D05: 1 BREACH (1 new)\n${ref(1)} 30h new\n${LINK}`);
  });

  it('fits one segment when the place name holds an emoji (two UTF-16 units)', () => {
    for (const count of [1, 2, 3, 10, 500]) {
      const cases = Array.from({ length: count }, (_, i) => alertLine(i, (500 - i) * HOUR));
      const m = aGroupMessage(cases, {
        overrides: { place: 'D10', placeName: 'D10 Riverside 🌊', linkBase: 'https://q.example/q' },
      });

      const sms = renderSms(m);

      expect(smsSegments(sms).segments).toBe(1);
      expect(fitsOneSmsSegment(sms)).toBe(true);
      expect(sms).toMatch(/^QW D10/);
    }
  });

  it('says how many cases no longer wait when that is all there is', () => {
    const m = aGroupMessage([], { overrides: { resolved: [ref(1), ref(2)], resolvedCount: 2 } });

    expect(renderSms(m).split('\n')[0]).toBe('QW D01 Northgate: 2 cases no longer waiting');
  });
});

describe('renderSummarySms', () => {
  it('leads with the highest level the email-only alerts carried, in one segment at the longest limit and link', () => {
    const link = `https://${'x'.repeat(60 - 'https://'.length - 3)}.uk`;
    expect(link).toHaveLength(60);

    const sms = renderSummarySms(['warning', 'escalation'], 1000, link);

    expect(sms).toBe(
      `QW ESCALATION alert went by email only: SMS limit (1000 a run) reached. Check your email or ${link}`,
    );
    for (const levels of [['warning'], ['breach'], ['warning', 'breach', 'escalation']] as const) {
      expect(fitsOneSmsSegment(renderSummarySms(levels, 1000, link))).toBe(true);
    }
    expect(renderSummarySms(['breach'], 20, LINK).startsWith('QW BREACH alert went by email only')).toBe(
      true,
    );
  });

  it('stays one segment when the case system address needs UCS-2 (a host name the config allows)', () => {
    const link = 'https://qw.exampłe.police.uk/q';
    const config = parseConfig(
      readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace(/^linkBase: .*$/m, `linkBase: ${link}`),
      'test config',
    );
    expect(config.file.linkBase).toBe(link);

    const sms = renderSummarySms(['escalation'], 1000, link);

    expect(fitsOneSmsSegment(sms)).toBe(true);
    expect(sms).toMatch(/^QW ESCALATION alert went by email only/);
  });
});

describe('renderEmail', () => {
  it('keeps the subject under 100 characters, with no case detail in it', () => {
    const m = aGroupMessage(
      Array.from({ length: 12_345 }, (_, i) => alertLine(i, DAY)),
      {
        level: 'escalation',
        overrides: { placeName: 'D01-NORTHGATE-CENTRAL-WATERSIDE Northgate Upon Waterside' },
      },
    );

    const { subject } = renderEmail(m);

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^\[queuewatch\] New ESCALATION in D01-NORTHGATE/);
    expect(subject).not.toMatch(/DA-/);
  });

  it('names news in the subject, and a reminder as a reminder', () => {
    expect(renderEmail(aGroupMessage()).subject).toBe('[queuewatch] New BREACH in D01 Northgate: 1 breach');
    expect(renderEmail(aGroupMessage(undefined, { newCount: 0 })).subject).toBe(
      '[queuewatch] Reminder, BREACH in D01 Northgate: 1 breach',
    );
    expect(renderEmail(allLevels()).subject).toBe(
      '[queuewatch] New ESCALATION in D01 Northgate: 2 escalation, 3 breach, 4 warning',
    );
  });

  it('says a message sent for its resolved lines alone is that, not a reminder', () => {
    const m = aGroupMessage(undefined, {
      newCount: 0,
      overrides: { resolved: ['DA-001-0000009'], resolvedCount: 1, resolvedOnly: true },
    });
    const { subject, body } = renderEmail(m);
    expect(subject).toBe('[queuewatch] 1 case no longer waiting in D01 Northgate; still waiting: 1 breach');
    expect(body).not.toMatch(/reminder/i);
    expect(body).toContain('1 case no longer waiting (below)');
  });

  it('leads with what happened and what to do, then each level highest first, oldest first', () => {
    const { body } = renderEmail(allLevels());

    const lines = body.split('\n');
    expect(lines[0]).toBe(
      'D01 Northgate, for the district-supervisor on call, as of 27 Nov 2026, 09:00 London time.',
    );
    expect(lines[1]).toBe(
      '1 case reached a new level since the last message. Waiting in all: 2 escalation, 3 breach, 4 warning.',
    );
    expect(body).toMatch(/What to do: open each case in the case system \(sign-in required\)/);
    const headings = lines.filter((l) => /^[A-Z]+ \(/.test(l));
    expect(headings).toEqual(['ESCALATION (2, 1 new)', 'BREACH (3)', 'WARNING (4)']);
    const caseLines = lines.filter((l) => l.startsWith('  DA-'));
    expect(caseLines[0]).toBe(
      `  ${ref(1)}  domestic-abuse  high  awaiting-risk-assessment  60d  ${LINK}/${ref(1)}`,
    );
    expect(caseLines[1]).toBe(
      `  ${ref(2)}  domestic-abuse  high  awaiting-risk-assessment  59d  NEW  ${LINK}/${ref(2)}`,
    );
    expect(caseLines).toHaveLength(9);
    expect(body).toContain(
      'This message carries no personal data (case references, categories, risk levels, stages, ages and districts only).',
    );
  });

  it('offers the acknowledgement link and says what acknowledging does and does not do', () => {
    const m = aGroupMessage();
    m.ackLinks = { email: 'https://qw.example.police.uk/a/Zz9Yy8Xx7W' };
    m.acknowledged = 0;

    const { body } = renderEmail(m);

    expect(body).toContain(
      'acknowledge this message to pause its reminders: https://qw.example.police.uk/a/Zz9Yy8Xx7W',
    );
    expect(body).toContain('Acknowledging never stops a case reaching its next level');
  });

  it('cuts a long list to its byte budget, counting the rest per level', () => {
    const cases = Array.from({ length: 300 }, (_, i) => alertLine(i + 1, (400 - i) * HOUR));

    const { subject, body } = renderEmail(aGroupMessage(cases), 8 * 1024);

    const listed = body.split('\n').filter((line) => line.startsWith('  DA-')).length;
    expect(listed).toBeGreaterThan(10);
    expect(listed).toBeLessThan(300);
    expect(body).toContain(`  and ${300 - listed} more at breach: see ${LINK}`);
    expect(Buffer.byteLength(`${subject}\n\n${body}`)).toBeLessThanOrEqual(8 * 1024);
  });

  it('lists resolved cases, capped with how many more', () => {
    const resolved = Array.from({ length: 400 }, (_, i) => ref(i + 1));
    const m = aGroupMessage([], { overrides: { resolved, resolvedCount: 1000 } });

    const { subject, body } = renderEmail(m, 4 * 1024);

    expect(subject).toBe('[queuewatch] 1000 cases no longer waiting in D01 Northgate');
    expect(body).toContain('No longer waiting since the last message');
    const listed = body.split('\n').filter((l) => /^ {2}DA-/.test(l)).length;
    expect(listed).toBeGreaterThan(0);
    expect(body).toContain(`  and ${1000 - listed} more`);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4 * 1024);
  });
});

describe('a message', () => {
  it('contains only references, categories, risk levels, stages, ages, the place and links', () => {
    const m = aGroupMessage([
      alertLine(1, 3 * DAY),
      alertLine(2, 50 * HOUR, {
        category: 'child-protection',
        riskLevel: 'medium',
        stage: 'awaiting-referral',
      }),
    ]);
    m.sections.warning = emptySection();

    const sms = renderSms(m);
    const { body } = renderEmail(m);

    const allowed = new Set([
      ...[ref(1), ref(2), 'domestic-abuse', 'child-protection', 'high', 'medium', 'awaiting-risk-assessment'],
      ...[
        'awaiting-referral',
        '3d',
        '2d',
        '2h',
        'D01',
        'Northgate',
        LINK,
        'QW',
        'BREACH',
        '(2',
        'new)',
        'new',
      ],
      `${LINK}/${ref(1)}`,
      `${LINK}/${ref(2)}`,
      '2',
      'NEW',
    ]);
    const words = (text: string) =>
      text
        .split(/\s+/)
        .map((w) => w.replace(/[:,]$/, ''))
        .filter(Boolean);
    expect(words(sms).filter((w) => !allowed.has(w))).toEqual([]);
    for (const line of body.split('\n').filter((l) => /^ {2}[A-Z]{2}-/.test(l))) {
      expect(words(line).filter((w) => !allowed.has(w))).toEqual([]);
    }
  });
});
