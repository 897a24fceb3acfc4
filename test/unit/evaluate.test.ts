import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newToken } from '#shared/ack/token.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { memoryOpenCases } from '#shared/adapters/mirror-reader.ts';
import { collectCases, evaluateRecords } from '#shared/app/evaluate.ts';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { isOpenStage } from '#shared/domain/case.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import { aCase, at, configWith, defaultConfig, rawRecords, ref } from '#test/support/fixtures.ts';

const NOW = at('2026-11-27T09:00:00Z');

describe('evaluateRecords: the report', () => {
  it('has the shape the issue specifies', async () => {
    const records = rawRecords([
      aCase({ caseRef: ref(1), stageEnteredAt: '2026-11-25T08:00:00Z' }), // 49h: escalation
      aCase({ caseRef: ref(2), stageEnteredAt: '2026-11-27T08:00:00Z' }), // 1h: none
      aCase({ caseRef: ref(3), stage: 'closed', stageEnteredAt: '2026-10-01T00:00:00Z' }),
      { ...aCase({ caseRef: ref(4) }), category: 'burglary' },
    ]);

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    expect(report.at).toBe('2026-11-27T09:00:00.000Z');
    expect(report.cases).toEqual({ total: 4, open: 2, closed: 1, invalid: 1 });
    expect(report.levels).toEqual({ none: 1, warning: 0, breach: 0, escalation: 1 });
    expect(report.breaches).toEqual([
      { caseRef: ref(1), level: 'escalation', ageHours: 49, rule: 'da-high-assessment', district: 'D01' },
    ]);
    expect(report.invalid).toEqual([
      {
        line: 4,
        caseRef: ref(4),
        reason: expect.stringContaining("category is not one of the config's categories"),
      },
    ]);
    // Exactly what a first run sends: one message per audience and place, each with its SMS, in the
    // order the budget serves them (places take turns: D01, then Northgate, then D01 again).
    expect(report.messages.map((m) => m.groups)).toEqual([
      ['district-supervisor@D01'],
      ['marac-coordinator@la-northgate'],
      ['duty-inspector@D01'],
    ]);
    for (const m of report.messages) {
      expect(m).toMatchObject({
        kind: 'alert',
        levels: ['escalation'],
        trigger: 'new-escalation',
        caseRefs: [ref(1)],
        newCaseRefs: [ref(1)],
        sms: expect.any(String),
        email: { subject: expect.any(String), body: expect.stringContaining(ref(1)) },
      });
      expect(m).not.toHaveProperty('messageId');
    }
    expect(report.smsStarved).toEqual([]);
  });

  it('shows the SMS budget at work: what goes by email only, and the summary SMS', async () => {
    const records = rawRecords(
      Array.from({ length: 30 }, (_, i) =>
        aCase({
          caseRef: ref(i + 1),
          district: `D${String((i % 10) + 1).padStart(2, '0')}`,
          stageEnteredAt: new Date(NOW - (49 + i) * 3_600_000).toISOString(),
        }),
      ),
    );

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    const alerts = report.messages.filter((m) => m.kind !== 'summary');
    expect(alerts.filter((m) => m.sms)).toHaveLength(defaultConfig().file.sms.maxPerRun);
    expect(report.smsStarved.length).toBe(alerts.length - defaultConfig().file.sms.maxPerRun);
    expect(report.messages.at(-1)).toMatchObject({ kind: 'summary', groups: report.smsStarved });
  });

  it('gives each breach its next level and when it falls due', async () => {
    const records = rawRecords([aCase({ caseRef: ref(1), stageEnteredAt: '2026-11-27T04:00:00Z' })]);

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    expect(report.breaches).toEqual([
      {
        caseRef: ref(1),
        level: 'warning',
        ageHours: 5,
        rule: 'da-high-assessment',
        district: 'D01',
        nextLevel: 'breach',
        nextDueAt: '2026-11-28T04:00:00.000Z',
      },
    ]);
  });

  it('rounds ageHours to a tenth of an hour', async () => {
    const records = rawRecords([aCase({ stageEnteredAt: '2026-11-27T03:49:00Z' })]); // 5h 11m

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    expect(report.breaches[0]?.ageHours).toBe(5.2);
  });

  it('reports invalid records with line and reason, in line order, and evaluates the rest', async () => {
    const records = [
      { line: 1, raw: aCase({ caseRef: ref(1), stageEnteredAt: '2026-11-25T08:00:00Z' }) },
      { line: 2, code: 'unreadable' as const, error: 'not valid JSON (truncated)' },
      { line: 3, raw: { ...aCase({ caseRef: ref(3) }), stageEnteredAt: '2026-11-27T09:30:00Z' } },
      { line: 4, raw: { ...aCase({ caseRef: ref(4) }), stageEnteredAt: '2026-11-27T08:00:00' } },
    ];

    const report = await evaluateRecords(records, defaultConfig(), NOW);

    expect(report.cases).toEqual({ total: 4, open: 1, closed: 0, invalid: 3 });
    expect(report.invalid).toEqual([
      { line: 2, reason: 'not valid JSON (truncated)' },
      { line: 3, caseRef: ref(3), reason: expect.stringContaining('stageEnteredAt is in the future') },
      { line: 4, caseRef: ref(4), reason: expect.stringContaining('stageEnteredAt has no UTC offset') },
    ]);
    expect(report.breaches.map((b) => b.caseRef)).toEqual([ref(1)]);
  });

  it('reports an empty queue as nothing to send', async () => {
    const report = await evaluateRecords([], defaultConfig(), NOW);

    expect(report).toMatchObject({
      cases: { total: 0, open: 0, closed: 0, invalid: 0 },
      breaches: [],
      messages: [],
      invalid: [],
    });
  });
});

describe('duplicate caseRefs', () => {
  const older = aCase({
    stageEnteredAt: '2026-11-20T00:00:00.000Z',
    sourceUpdatedAt: '2026-11-20T00:00:00.000Z',
  });
  const newer = aCase({
    stage: 'awaiting-referral',
    stageEnteredAt: '2026-11-27T08:00:00.000Z',
    sourceUpdatedAt: '2026-11-27T08:00:00.000Z',
  });

  it('keeps the version with the newest sourceUpdatedAt when it comes last', async () => {
    const { cases, invalid } = await collectCases(rawRecords([older, newer]), defaultConfig(), NOW);

    expect(cases).toEqual([newer]);
    expect(invalid).toEqual([
      {
        line: 1,
        caseRef: 'DA-000-0000001',
        reason: 'duplicate caseRef: superseded by line 2 (same or newer sourceUpdatedAt)',
      },
    ]);
  });

  it('keeps the version with the newest sourceUpdatedAt when it comes first', async () => {
    const { cases, invalid } = await collectCases(rawRecords([newer, older]), defaultConfig(), NOW);

    expect(cases).toEqual([newer]);
    expect(invalid).toEqual([expect.objectContaining({ line: 2, caseRef: 'DA-000-0000001' })]);
  });

  it('compares sourceUpdatedAt as instants, whatever the offset it was written with', async () => {
    // 08:30+01:00 is 07:30 UTC: older than 08:00 UTC, although it sorts later as text.
    const sameInstantOtherOffset = { ...older, sourceUpdatedAt: '2026-11-27T08:30:00+01:00' };

    const { cases } = await collectCases(rawRecords([newer, sameInstantOtherOffset]), defaultConfig(), NOW);

    expect(cases).toEqual([newer]);
  });

  it('keeps the first of two versions with the same sourceUpdatedAt', async () => {
    const twin = { ...newer, stage: 'awaiting-risk-assessment' as const };

    const { cases, invalid } = await collectCases(rawRecords([newer, twin]), defaultConfig(), NOW);

    expect(cases).toEqual([newer]);
    expect(invalid.map((i) => i.line)).toEqual([2]);
  });

  it('raises nothing for a case whose newest version is closed', async () => {
    const closed = { ...newer, stage: 'closed' as const };

    const report = await evaluateRecords(rawRecords([older, closed]), defaultConfig(), NOW);

    expect(report.cases).toMatchObject({ total: 2, open: 0, closed: 1, invalid: 1 });
    expect(report.breaches).toEqual([]);
  });
});

describe('evaluateRecords: what a deployed run sends', () => {
  /** The acknowledgement page's address a deployed stack gives its scan (ACK_BASE_URL): the API's. */
  const DEPLOYED = 'https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com';

  /** What the deployed scan sends for the same cases: the same pipeline, with the links it makes
   * (a fresh 10-character token each, at the config's baseUrl or else the deployment's address). */
  async function deployedRun(records: ReturnType<typeof rawRecords>, config: CompiledConfig) {
    const { cases } = await collectCases(records, config, NOW);
    const open = cases.filter((c) => isOpenStage(c.stage)).map((c) => toMirrorItem(c, NOW));
    let sequence = 0;
    const run = await runScan({
      config,
      nowMs: NOW,
      runId: 'deployed',
      source: memoryOpenCases(open as unknown as Record<string, unknown>[]),
      ledger: new MemoryLedger(),
      publisher: { publish: async () => `m-${++sequence}` },
      audit: new MemoryAuditLog(),
      links: {
        create: async (requests) =>
          requests.map((r) => `${r.baseUrl ?? DEPLOYED}/${newToken(() => randomBytes(20))}`),
      },
      publishConcurrency: 1,
    });
    return run.messages;
  }

  const records = rawRecords(
    Array.from({ length: 12 }, (_, i) =>
      aCase({ caseRef: ref(i + 1), stageEnteredAt: `2026-11-${String(10 + i).padStart(2, '0')}T08:00:00Z` }),
    ),
  );
  const shape = (sms: string | undefined) => ({
    length: sms?.length,
    refs: sms?.match(/[A-Z]{2}-\d{3}-\d{7}/g),
    acknowledgeLink: /\/[0-9A-Za-z]{10}$/.test(sms ?? ''),
  });

  it.each([
    ['with no acknowledge.baseUrl (the shipped config)', defaultConfig()],
    [
      'with acknowledge.baseUrl',
      configWith(['# baseUrl: https://qw.example.police.uk/a', 'baseUrl: https://qw.example.police.uk/a']),
    ],
  ])(
    'shows each SMS as long as it goes, with the same case references and an acknowledgement link, %s',
    async (_, config) => {
      const preview = await evaluateRecords(records, config, NOW);
      const sent = await deployedRun(records, config);

      expect(preview.messages.map((m) => shape(m.sms))).toEqual(sent.map((m) => shape(m.sms)));
      expect(preview.messages.map((m) => m.email?.body.includes('/PREVIEW'))).toEqual(
        sent.map((m) => (m.email ? true : undefined)),
      );
    },
  );
});
