import { describe, expect, it } from 'vitest';
import { evaluateAll } from '#shared/domain/engine.ts';
import {
  groupAlerts,
  renderEmail,
  renderNotification,
  renderSms,
  smsSegments,
} from '#shared/domain/notify.ts';
import {
  aCase,
  alertLine,
  aNotification,
  at,
  configWith,
  DAY,
  defaultConfig,
  fitsOneSmsSegment,
  HOUR,
  ref,
} from '#test/support/fixtures.ts';

const NOW = at('2026-11-27T09:00:00Z');
const DISTRICTS = ['D01', 'D02', 'D03', 'D04', 'D05', 'D06', 'D07', 'D08', 'D09', 'D10'];

/** 700 medium-risk domestic abuse cases without children, all at breach (72h to 5d), over ten districts. */
function breachingBacklog() {
  return Array.from({ length: 700 }, (_, i) =>
    aCase({
      caseRef: ref(i + 1),
      riskLevel: 'medium',
      district: DISTRICTS[i % 10],
      stageEnteredAt: new Date(NOW - 72 * HOUR - i * 60_000).toISOString(),
    }),
  );
}

describe('groupAlerts', () => {
  it('makes one notification per audience, district and level, not one per case', () => {
    const result = evaluateAll(breachingBacklog(), defaultConfig(), NOW);

    const notifications = groupAlerts(result.alerting, defaultConfig());

    expect(result.alerting).toHaveLength(700);
    expect(notifications).toHaveLength(10);
    expect(notifications.map((n) => [n.audience, n.district, n.level])).toEqual(
      DISTRICTS.map((d) => ['district-supervisor', d, 'breach']),
    );
    expect(notifications.map((n) => n.cases.length)).toEqual(DISTRICTS.map(() => 70));
  });

  it('keeps the groups few when cases reach several audiences and levels', () => {
    const records = breachingBacklog().map((c, i) => ({
      ...c,
      riskLevel: i % 2 === 0 ? ('high' as const) : ('medium' as const),
      childrenInvolved: i % 3 === 0,
      stageEnteredAt: new Date(NOW - (i % 4) * 20 * HOUR - 5 * HOUR).toISOString(),
    }));
    const result = evaluateAll(records, defaultConfig(), NOW);

    const notifications = groupAlerts(result.alerting, defaultConfig());
    const keys = notifications.map((n) => `${n.audience}|${n.district}|${n.level}`);

    expect(new Set(keys).size).toBe(keys.length);
    expect(notifications.length).toBeLessThanOrEqual(DISTRICTS.length * 3 * 4);
  });

  it('lists the cases of a notification oldest first', () => {
    const records = [
      aCase({ caseRef: ref(1), stageEnteredAt: '2026-11-26T01:00:00Z' }),
      aCase({ caseRef: ref(2), stageEnteredAt: '2026-11-25T20:00:00Z' }),
      aCase({ caseRef: ref(3), stageEnteredAt: '2026-11-26T05:00:00Z' }),
    ];
    const result = evaluateAll(records, defaultConfig(), NOW);

    const [first] = groupAlerts(result.alerting, defaultConfig());

    expect(first?.cases.map((c) => c.caseRef)).toEqual([ref(2), ref(1), ref(3)]);
  });

  it('puts escalations first, then by district and audience', () => {
    const records = [
      aCase({ caseRef: ref(1), district: 'D02', stageEnteredAt: '2026-11-27T04:00:00Z' }), // warning
      aCase({ caseRef: ref(2), district: 'D01', stageEnteredAt: '2026-11-24T04:00:00Z' }), // escalation
    ];

    const notifications = groupAlerts(evaluateAll(records, defaultConfig(), NOW).alerting, defaultConfig());

    expect(notifications.map((n) => `${n.level} ${n.district} ${n.audience}`)).toEqual([
      'escalation D01 district-supervisor',
      'escalation D01 duty-inspector',
      'escalation D01 marac-coordinator',
      'warning D02 district-supervisor',
      'warning D02 marac-coordinator',
    ]);
  });

  it('sends a child case at escalation to the director of its district’s local authority', () => {
    const child = aCase({
      caseRef: 'CP-000-0000001',
      category: 'child-protection',
      riskLevel: 'high',
      stage: 'awaiting-referral',
      childrenInvolved: true,
      district: 'D07',
      stageEnteredAt: '2026-11-25T09:00:00Z', // 48h: past child-high's 36h escalation
    });

    const notifications = groupAlerts(evaluateAll([child], defaultConfig(), NOW).alerting, defaultConfig());
    const director = notifications.find((n) => n.audience === 'director-childrens-services');

    expect(director).toMatchObject({ district: 'D07', localAuthority: 'la-millbrook', level: 'escalation' });
    expect(director?.cases.map((c) => c.caseRef)).toEqual(['CP-000-0000001']);
  });

  it('carries only the allowed fields of each case', () => {
    const withExtras = { ...aCase(), subjectName: 'SYNTHETIC-PERSON-1', notes: 'SYNTHETIC-NOTE-1' };
    const result = evaluateAll([withExtras], defaultConfig(), NOW);

    const [notification] = groupAlerts(result.alerting, defaultConfig());

    expect(Object.keys(notification?.cases[0] ?? {}).sort()).toEqual([
      'ageMs',
      'caseRef',
      'category',
      'riskLevel',
      'stage',
    ]);
  });
});

describe('renderSms', () => {
  it('fits one GSM-7 segment with the header, the oldest cases, the count of the rest and the link', () => {
    const cases = Array.from({ length: 70 }, (_, i) => alertLine(i + 1, (80 - i) * DAY));

    const sms = renderSms(aNotification({ cases }), defaultConfig());

    expect(smsSegments(sms)).toMatchObject({ segments: 1, encoding: 'GSM-7' });
    expect(fitsOneSmsSegment(sms)).toBe(true);
    const lines = sms.split('\n');
    expect(lines[0]).toBe('QW BREACH D01 Northgate: 70 cases');
    expect(lines[1]).toBe(`${ref(1)} 80d`);
    expect(lines.at(-2)).toMatch(/^\+\d+ more$/);
    expect(lines.at(-1)).toBe('https://qw.example.police.uk/q');
    const shown = lines.slice(1, -2).length;
    expect(lines.at(-2)).toBe(`+${70 - shown} more`);
  });

  it('lists every case when they all fit', () => {
    const sms = renderSms(
      aNotification({ cases: [alertLine(1, 50 * HOUR), alertLine(2, 30 * HOUR)] }),
      defaultConfig(),
    );

    expect(sms).toBe(
      `QW BREACH D01 Northgate: 2 cases\n${ref(1)} 2d 2h\n${ref(2)} 30h\nhttps://qw.example.police.uk/q`,
    );
  });

  it('says "1 case" for one case', () => {
    expect(renderSms(aNotification(), defaultConfig()).split('\n')[0]).toBe(
      'QW BREACH D01 Northgate: 1 case',
    );
  });

  it('fits one segment for 1000 cases with long references at escalation', () => {
    const cases = Array.from({ length: 1000 }, (_, i) =>
      alertLine(i, 89 * DAY, { caseRef: `CP-${'9'.repeat(30)}-${String(i).padStart(4, '0')}` }),
    );

    const sms = renderSms(aNotification({ level: 'escalation', cases }), defaultConfig());

    expect(smsSegments(sms).segments).toBe(1);
    expect(fitsOneSmsSegment(sms)).toBe(true);
    expect(sms).toContain('1000 cases');
  });

  it('uses UCS-2 and still fits one 70-character segment when the district name needs it', () => {
    const config = configWith(
      ['D04: { name: Westbrook', 'D04: { name: Ŵ'],
      ['linkBase: https://qw.example.police.uk/q', 'linkBase: https://q.example/q'],
    );

    const sms = renderSms(aNotification({ district: 'D04', cases: [alertLine(1, 30 * HOUR)] }), config);

    expect(sms).toBe(`QW BREACH D04 Ŵ: 1 case\n${ref(1)} 30h\nhttps://q.example/q`);
    expect(smsSegments(sms)).toMatchObject({ segments: 1, encoding: 'UCS-2' });
    expect(sms.length).toBeLessThanOrEqual(70);
    expect(fitsOneSmsSegment(sms)).toBe(true);
  });

  it('drops a non-GSM district name rather than list no case at all', () => {
    const config = configWith(['D05: { name: Kingsford', 'D05: { name: Ŵ']);

    const sms = renderSms(aNotification({ district: 'D05', cases: [alertLine(1, 30 * HOUR)] }), config);

    expect(sms).toBe(`QW BREACH D05: 1 case\n${ref(1)} 30h\nhttps://qw.example.police.uk/q`);
  });

  it('fits one segment with many cases and a non-GSM district name', () => {
    const config = configWith(['D04: { name: Westbrook', 'D04: { name: Ŵestbrook']);
    const cases = Array.from({ length: 300 }, (_, i) => alertLine(i, (300 - i) * HOUR));

    const sms = renderSms(aNotification({ district: 'D04', level: 'escalation', cases }), config);

    expect(smsSegments(sms).segments).toBe(1);
    expect(fitsOneSmsSegment(sms)).toBe(true);
    expect(sms).toContain('300 cases');
  });

  it('fits one segment when the district name holds an emoji (two UTF-16 units)', () => {
    const config = configWith(
      ['D10: { name: Riverside', 'D10: { name: "Riverside 🌊"'],
      ['linkBase: https://qw.example.police.uk/q', 'linkBase: https://q.example/q'],
    );

    for (const count of [1, 2, 3, 10, 500]) {
      const cases = Array.from({ length: count }, (_, i) => alertLine(i, (500 - i) * HOUR));
      const sms = renderSms(aNotification({ district: 'D10', cases }), config);

      expect(smsSegments(sms).segments).toBe(1);
      expect(fitsOneSmsSegment(sms)).toBe(true);
      expect(sms).toMatch(/^QW BREACH D10/);
    }
  });

  it('counts resolved cases in the header', () => {
    const sms = renderSms(aNotification({ cases: [], resolved: [ref(1), ref(2)] }), defaultConfig());

    expect(sms.split('\n')[0]).toBe('QW BREACH D01 Northgate: 2 resolved');
  });
});

describe('renderEmail', () => {
  it('keeps the subject under 100 characters', () => {
    const config = configWith(
      ['D01: { name: Northgate', 'D01: { name: Northgate Upon Waterside'],
      ['D01:', 'D01-NORTHGATE-CENTRAL-WATERSIDE:'],
    );
    const notification = aNotification({
      district: 'D01-NORTHGATE-CENTRAL-WATERSIDE',
      level: 'escalation',
      cases: Array.from({ length: 12_345 }, (_, i) => alertLine(i, DAY)),
    });

    const { subject } = renderEmail(notification, config, NOW);

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^\[queuewatch\] ESCALATION: 12345 cases at escalation in D01-NORTHGATE/);
  });

  it('gives a short subject naming the level, count and district', () => {
    const { subject } = renderEmail(aNotification(), defaultConfig(), NOW);

    expect(subject).toBe('[queuewatch] BREACH: 1 case at breach in D01 Northgate');
  });

  it('lists every case with its category, risk, stage, age and link, oldest first', () => {
    const cases = Array.from({ length: 120 }, (_, i) => alertLine(i + 1, (200 - i) * HOUR));

    const { body } = renderEmail(aNotification({ cases }), defaultConfig(), NOW);

    const caseLines = body.split('\n').filter((line) => line.startsWith('  DA-'));
    expect(caseLines).toHaveLength(120);
    expect(caseLines[0]).toBe(
      `  ${ref(1)}  domestic-abuse  high  awaiting-risk-assessment  8d 8h  https://qw.example.police.uk/q/${ref(1)}`,
    );
    expect(caseLines[119]).toContain(`${ref(120)}  domestic-abuse  high  awaiting-risk-assessment  3d 9h  `);
    expect(body).toContain('as of 2026-11-27T09:00:00Z');
    expect(body).toContain('sign-in required');
  });

  it('caps a very long list with "and N more"', () => {
    const cases = Array.from({ length: 12 }, (_, i) => alertLine(i + 1, DAY));

    const { body } = renderEmail(aNotification({ cases }), defaultConfig(), NOW, 10);

    expect(body.split('\n').filter((line) => line.startsWith('  DA-'))).toHaveLength(10);
    expect(body).toContain('  and 2 more: see https://qw.example.police.uk/q');
  });

  it('lists resolved cases', () => {
    const { subject, body } = renderEmail(
      aNotification({ cases: [], resolved: [ref(7)] }),
      defaultConfig(),
      NOW,
    );

    expect(subject).toBe('[queuewatch] BREACH: 1 case resolved in D01 Northgate');
    expect(body).toContain(`No longer waiting`);
    expect(body).toContain(`  ${ref(7)}`);
  });
});

describe('renderNotification', () => {
  it('contains only references, categories, risk levels, stages, ages, districts and the link', () => {
    const config = defaultConfig();
    const cases = [
      alertLine(1, 3 * DAY),
      alertLine(2, 50 * HOUR, {
        category: 'child-protection',
        riskLevel: 'medium',
        stage: 'awaiting-referral',
      }),
    ];

    const rendered = renderNotification(aNotification({ cases }), config, NOW);

    const allowedWords = new Set([
      ...[ref(1), ref(2), 'domestic-abuse', 'child-protection', 'high', 'medium', 'awaiting-risk-assessment'],
      ...['awaiting-referral', '3d', '2d', '2h', 'D01', 'Northgate', 'https://qw.example.police.uk/q'],
      `https://qw.example.police.uk/q/${ref(1)}`,
      `https://qw.example.police.uk/q/${ref(2)}`,
    ]);
    const smsWords = rendered.sms
      .split(/\s+/)
      .map((w) => w.replace(/:$/, ''))
      .filter(Boolean);
    expect(
      smsWords.filter((w) => !allowedWords.has(w) && !['QW', 'BREACH', '2', 'cases'].includes(w)),
    ).toEqual([]);
    const emailCaseLines = rendered.email.body.split('\n').filter((l) => /^ {2}[A-Z]{2}-/.test(l));
    for (const line of emailCaseLines) {
      expect(
        line
          .trim()
          .split(/\s+/)
          .filter((w) => !allowedWords.has(w)),
      ).toEqual([]);
    }
  });
});
