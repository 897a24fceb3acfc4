// The daily picture: when it falls due (London time, across the clock changes), what it says about a
// seeded queue (checked against the engine evaluated independently), the all-clear, acknowledged and
// unacknowledged alerts, the trend with and without last week's snapshot, its size within SNS's
// limit, once a day per audience and place however often the function runs, and no personal data.

import { describe, expect, it, vi } from 'vitest';
import { MemoryDigestStore } from '#shared/adapters/digest-store.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { MemorySignalStates } from '#shared/adapters/signal-state.ts';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { messageAttributes, SNS_MAX_BYTES, snsMessageBytes } from '#shared/delivery/sns-message.ts';
import type { SubscriptionDirectory } from '#shared/delivery/subscription-health.ts';
import { createDigestHandler, type DigestDeps, DigestIncompleteError } from '#shared/digest/handler.ts';
import { DIGEST_METRICS } from '#shared/digest/metrics.ts';
import { digestGroups, levelChanges, pastLimits } from '#shared/digest/picture.ts';
import type { DigestHistory, DistrictSnapshot } from '#shared/digest/ports.ts';
import { renderDigest } from '#shared/digest/render.ts';
import { type GatherInput, gatherDigests, runDigest } from '#shared/digest/run-digest.ts';
import { currentSlot, DIGEST_OVERDUE_AFTER_MS } from '#shared/digest/schedule.ts';
import { type CaseRecord, caseFields } from '#shared/domain/case.ts';
import { audienceLevels, type Evaluation, evaluateCase } from '#shared/domain/engine.ts';
import { LEVELS, rankOf } from '#shared/domain/levels.ts';
import { ALL_SHARDS } from '#shared/domain/shards.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { logger, metrics } from '#shared/lambda/observability.ts';
import type { OpenCaseSource, OutgoingMessage, Publisher } from '#shared/scan/ports.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import {
  at,
  configWith,
  DAY,
  defaultConfig,
  HOUR,
  MINUTE,
  PII_MARKERS,
  piiMarkerIn,
  runCli,
} from '#test/support/fixtures.ts';

const config = defaultConfig();
const NOW = at('2026-11-27T07:00:00Z'); // a Friday, 07:00 London (GMT)
const DISTRICTS = Object.keys(config.file.districts);
const NO_RETRY = { attempts: 1, baseDelayMs: 0 };

const queue = (
  options: { open?: number; seed?: number; nowMs?: number; withSourceFields?: boolean } = {},
) => [
  ...generateQueue({
    open: options.open ?? 600,
    seed: options.seed ?? 9,
    nowMs: options.nowMs ?? NOW,
    districts: DISTRICTS,
    withSourceFields: options.withSourceFields ?? false,
  }),
];

/** The open-cases index as the mirror would serve these records. */
const sourceOf = (records: Array<Record<string, unknown>>): OpenCaseSource => ({
  shards: () => [ALL_SHARDS],
  async *pages() {
    yield records.map((r) => ({ ...r, openQueue: 'open' }));
  },
});

/** A queue with one scan run behind it, so the alert ledger holds what that run sent (and what
 * earlier runs on the same ledger sent). */
async function scanned(
  records: CaseRecord[],
  nowMs = NOW,
  withConfig: CompiledConfig = config,
  ledger = new MemoryLedger(),
) {
  const source = sourceOf(records.map((r) => ({ ...toMirrorItem(caseFields(r), nowMs) })));
  await runScan({
    config: withConfig,
    nowMs,
    runId: 'scan',
    source,
    ledger,
    publisher: new CallbackPublisher(),
    audit: new MemoryAuditLog(),
    retry: NO_RETRY,
  });
  return { ledger, source };
}

function gatherInput(overrides: Partial<GatherInput> & Pick<GatherInput, 'source' | 'ledger'>): GatherInput {
  return {
    config,
    nowMs: NOW,
    day: '2026-11-27',
    feed: { lastIngestAt: async () => NOW - 10 * MINUTE },
    history: {},
    groups: digestGroups(config),
    ...overrides,
  };
}

const digestFor = (gathered: Awaited<ReturnType<typeof gatherDigests>>, group: string) => {
  const found = gathered.digests.find((d) => `${d.group.audience}@${d.group.place}` === group);
  if (!found) throw new Error(`no digest for ${group}`);
  return found;
};

/** A ledger whose case records could not be read: none of them comes back, and each is counted. */
const unreadableCases = (ledger: MemoryLedger, unreadable: number) => ({
  loadGroups: ledger.loadGroups.bind(ledger),
  loadCaseShards: async () => ({ shards: new Map(), unreadable }),
});

// One domestic abuse case, scanned on one ledger at each instant given, as the mirror
// holds it then.
const daCase = (
  stage: CaseRecord['stage'],
  stageEnteredAt: number,
  riskLevel: CaseRecord['riskLevel'],
  updatedAt = stageEnteredAt,
) =>
  ({
    caseRef: 'DA-001-0000101',
    category: 'domestic-abuse',
    riskLevel,
    district: 'D01',
    stage,
    stageEnteredAt: new Date(stageEnteredAt).toISOString(),
    childrenInvolved: false,
    sourceUpdatedAt: new Date(updatedAt).toISOString(),
  }) satisfies CaseRecord;
const scanAt = async (ledger: MemoryLedger, record: CaseRecord, nowMs: number) => {
  const source = sourceOf([{ ...toMirrorItem(record, nowMs) }]);
  await runScan({
    config,
    nowMs,
    runId: `scan-${nowMs}`,
    source,
    ledger,
    publisher: new CallbackPublisher(),
    audit: new MemoryAuditLog(),
    retry: NO_RETRY,
  });
  return source;
};

describe('when the digest falls due', () => {
  it('is 07:00 London time in winter (GMT) and in summer (BST)', () => {
    expect(currentSlot('07:00', at('2026-11-27T07:00:00Z'))).toEqual({
      day: '2026-11-27',
      dueAtMs: at('2026-11-27T07:00:00Z'),
    });
    expect(currentSlot('07:00', at('2026-07-01T06:00:00Z'))).toEqual({
      day: '2026-07-01',
      dueAtMs: at('2026-07-01T06:00:00Z'),
    });
  });

  it('stays yesterday’s until the minute it falls due', () => {
    expect(currentSlot('07:00', at('2026-11-27T06:59:59.999Z'))).toEqual({
      day: '2026-11-26',
      dueAtMs: at('2026-11-26T07:00:00Z'),
    });
  });

  it('follows London across the spring and autumn clock changes', () => {
    // 29 March 2026: clocks go forward at 01:00 GMT, so 07:00 London is 06:00 UTC; the day before, 07:00 UTC.
    expect(currentSlot('07:00', at('2026-03-29T06:00:00Z')).dueAtMs).toBe(at('2026-03-29T06:00:00Z'));
    expect(currentSlot('07:00', at('2026-03-29T05:59:00Z'))).toEqual({
      day: '2026-03-28',
      dueAtMs: at('2026-03-28T07:00:00Z'),
    });
    // 25 October 2026: clocks go back, so 07:00 London is 07:00 UTC again; the day before, 06:00 UTC.
    expect(currentSlot('07:00', at('2026-10-25T06:30:00Z'))).toEqual({
      day: '2026-10-24',
      dueAtMs: at('2026-10-24T06:00:00Z'),
    });
    expect(currentSlot('07:00', at('2026-10-25T07:00:00Z')).dueAtMs).toBe(at('2026-10-25T07:00:00Z'));
  });

  it('counts a late-evening time against its own London date, past midnight UTC', () => {
    // 23:30 BST on 1 July is 22:30 UTC; at 23:45 UTC (00:45 London on 2 July) that digest is still current.
    expect(currentSlot('23:30', at('2026-07-01T23:45:00Z'))).toEqual({
      day: '2026-07-01',
      dueAtMs: at('2026-07-01T22:30:00Z'),
    });
  });
});

describe('the engine’s next levels, followed', () => {
  it('gives each level a case reaches in a window, and when', () => {
    const record = {
      caseRef: 'DA-000-0000001',
      category: 'domestic-abuse',
      riskLevel: 'high' as const,
      district: 'D01',
      stage: 'awaiting-risk-assessment' as const,
      stageEnteredAt: new Date(NOW - 2 * HOUR).toISOString(),
      childrenInvolved: false,
    };
    // High-risk domestic abuse awaiting assessment: warn 4h, breach 24h, escalate 48h.
    expect(levelChanges(record, config, NOW, NOW + DAY)).toEqual([
      { level: 'warning', atMs: NOW + 2 * HOUR },
      { level: 'breach', atMs: NOW + 22 * HOUR },
    ]);
    expect(levelChanges(record, config, NOW, NOW + 22 * HOUR - 1)).toEqual([
      { level: 'warning', atMs: NOW + 2 * HOUR },
    ]);
  });
});

describe('the daily picture of a seeded queue', () => {
  const records = queue();
  // The oracle: the engine at three instants, independently of the digest's own bookkeeping.
  const rank = (level: string) => (level === 'none' ? -1 : rankOf(level as (typeof LEVELS)[number]));
  const levelAt = (r: CaseRecord, ms: number) => evaluateCase(r, config, ms)?.level ?? 'none';
  const inDistricts = (districts: string[]) => records.filter((r) => districts.includes(r.district));

  it('counts every open case of the director’s local authority by district, risk, age band and level', async () => {
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture, rendered } = digestFor(gathered, 'director-childrens-services@la-northgate');
    const mine = inDistricts(['D01']);

    expect(picture.districts.map((d) => d.id)).toEqual(['D01']);
    expect(picture.total.open).toBe(mine.length);
    expect(picture.total.risk.high).toBe(mine.filter((r) => r.riskLevel === 'high').length);
    expect(picture.total.ages.reduce((a, b) => a + b, 0)).toBe(mine.length);
    expect(picture.total.ages[4]).toBe(
      mine.filter((r) => NOW - Date.parse(r.stageEnteredAt) >= 30 * DAY).length,
    );
    const past = mine.filter((r) => rank(levelAt(r, NOW)) >= 1).length;
    expect(pastLimits(picture.total)).toBe(past);
    expect(past).toBeGreaterThan(0);
    expect(rendered.body).toContain(`${past} cases are waiting past their limits`);
    expect(rendered.body).toContain(`D01 Northgate: ${mine.length} open`);
  });

  it('covers the whole force for the senior officer', async () => {
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture, rendered } = digestFor(gathered, 'senior-officer@force');

    expect(picture.districts.map((d) => d.id)).toEqual(DISTRICTS);
    expect(picture.total.open).toBe(records.length);
    expect(rendered.subject).toBe(
      `[queuewatch] Daily picture for ${config.file.force}, Fri 27 Nov 2026: ${pastLimits(picture.total)} cases past limits`,
    );
    for (const district of DISTRICTS) expect(rendered.body).toContain(`${config.districtName(district)}: `);
  });

  it('sends one digest per director’s local authority and one to the senior officer', () => {
    expect(digestGroups(config).map((g) => `${g.audience}@${g.place}`)).toEqual([
      ...Object.keys(config.file.localAuthorities).map((la) => `director-childrens-services@${la}`),
      'senior-officer@force',
    ]);
  });

  it('lists what breached since yesterday and what falls due in the next 24 hours, as the engine says', async () => {
    // Scanned when yesterday's digest fell due, as the mirror held the queue then, and again now: a
    // case first told of now but past its limits yesterday would be news to the digest.
    const yesterday = records
      .filter((r) => Date.parse(r.stageEnteredAt) <= NOW - DAY)
      .map((r) => ({
        ...r,
        sourceUpdatedAt: new Date(Math.min(Date.parse(r.sourceUpdatedAt), NOW - DAY)).toISOString(),
      }));
    const { ledger: told } = await scanned(yesterday, NOW - DAY);
    const { ledger, source } = await scanned(records, NOW, config, told);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture, rendered } = digestFor(gathered, 'senior-officer@force');
    const breached = records.filter((r) => {
      const now = rank(levelAt(r, NOW));
      return now >= 1 && now > rank(levelAt(r, NOW - DAY));
    });
    const due = records.filter((r) => {
      const later = rank(levelAt(r, NOW + DAY));
      return later >= 1 && later > rank(levelAt(r, NOW));
    });

    expect(picture.breached.count).toBe(breached.length);
    expect(picture.due.count).toBe(due.length);
    expect(breached.length).toBeGreaterThan(0);
    expect(due.length).toBeGreaterThan(0);
    const breachedRefs = new Set(breached.map((r) => r.caseRef));
    for (const line of picture.breached.lines) {
      expect(breachedRefs.has(line.caseRef)).toBe(true);
      expect(line.atMs).toBeGreaterThan(NOW - DAY);
      expect(line.atMs).toBeLessThanOrEqual(NOW);
      expect(line.reaches).toBe(levelAt(records.find((r) => r.caseRef === line.caseRef) as CaseRecord, NOW));
    }
    const dueRefs = new Set(due.map((r) => r.caseRef));
    for (const line of picture.due.lines) {
      expect(dueRefs.has(line.caseRef)).toBe(true);
      expect(line.atMs).toBeGreaterThan(NOW);
      expect(line.atMs).toBeLessThanOrEqual(NOW + DAY);
    }
    // Soonest first, and at most LIST_LIMIT listed with the rest counted.
    expect(picture.due.lines.map((l) => l.atMs)).toEqual([...picture.due.lines.map((l) => l.atMs)].sort());
    expect(rendered.body).toContain(`BREACHED SINCE YESTERDAY (${breached.length})`);
    expect(rendered.body).toContain(`DUE TO BREACH IN THE NEXT 24 HOURS (${due.length})`);
    if (due.length > 50) expect(rendered.body).toContain(`and ${due.length - 50} more: see the case system`);
  });

  describe('since yesterday: from when yesterday’s digest fell due', () => {
    // Medium-risk domestic abuse breaches at 72h (and escalates at 5 days, long after).
    const breachingAt = (breachMs: number) =>
      ({
        caseRef: 'DA-001-0000201',
        category: 'domestic-abuse',
        riskLevel: 'medium',
        district: 'D01',
        stage: 'awaiting-risk-assessment',
        stageEnteredAt: new Date(breachMs - 72 * HOUR).toISOString(),
        childrenInvolved: false,
        sourceUpdatedAt: new Date(breachMs - 72 * HOUR).toISOString(),
      }) satisfies CaseRecord;
    const breachedAt = async (record: CaseRecord, nowMs: number) => {
      const gathered = await gatherDigests(
        gatherInput({
          source: sourceOf([{ ...toMirrorItem(record, nowMs) }]),
          ledger: new MemoryLedger(),
          nowMs,
        }),
      );
      return digestFor(gathered, 'senior-officer@force').picture.breached.lines.map((l) => l.atMs);
    };

    it('lists a breach in the 25-hour autumn day once: the hour after the clocks go back is no gap', async () => {
      // 07:00 London is 06:00 UTC on Sat 24 Oct 2026 (BST) and 07:00 UTC on Sun 25 Oct (GMT).
      const record = breachingAt(at('2026-10-24T06:30:00Z'));

      expect(await breachedAt(record, at('2026-10-24T06:00:00Z'))).toEqual([]);
      expect(await breachedAt(record, at('2026-10-25T07:00:00Z'))).toEqual([at('2026-10-24T06:30:00Z')]);
    });

    it('lists a breach in the 23-hour spring day once, not on both days', async () => {
      // 07:00 London is 07:00 UTC on Sat 28 Mar 2026 (GMT) and 06:00 UTC on Sun 29 Mar (BST).
      const record = breachingAt(at('2026-03-28T06:30:00Z'));

      expect(await breachedAt(record, at('2026-03-28T07:00:00Z'))).toEqual([at('2026-03-28T06:30:00Z')]);
      expect(await breachedAt(record, at('2026-03-29T06:00:00Z'))).toEqual([]);
    });

    it('leaves no gap after a late digest: the next day’s starts when yesterday’s fell due', async () => {
      const record = breachingAt(at('2026-11-26T08:00:00Z'));

      // Thursday's digest went out on time at 07:00; Friday's only at 10:00.
      expect(await breachedAt(record, at('2026-11-26T07:00:00Z'))).toEqual([]);
      expect(await breachedAt(record, at('2026-11-27T10:00:00Z'))).toEqual([at('2026-11-26T08:00:00Z')]);
    });
  });

  it('keeps the subject under 100 characters by shortening a long place name, never the count', async () => {
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture } = digestFor(gathered, 'senior-officer@force');

    const { subject } = renderDigest({
      ...picture,
      placeName: `The ${'Very '.repeat(12)}Long Police Service`,
    });

    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(
      new RegExp(
        `^\\[queuewatch\\] Daily picture for The Very Very .*\\.\\.\\., Fri 27 Nov 2026: ${pastLimits(picture.total)} cases past limits$`,
      ),
    );
  });

  it('names the oldest cases by reference', async () => {
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture, rendered } = digestFor(gathered, 'senior-officer@force');
    const oldest = [...records]
      .sort(
        (a, b) =>
          Date.parse(a.stageEnteredAt) - Date.parse(b.stageEnteredAt) || (a.caseRef < b.caseRef ? -1 : 1),
      )
      .slice(0, 10)
      .map((r) => r.caseRef);

    expect(picture.oldest.lines.map((l) => l.caseRef)).toEqual(oldest);
    const section = rendered.body.split('OLDEST CASES')[1]?.split('OPEN CASES BY DISTRICT')[0] ?? '';
    expect([...section.matchAll(/^ {2}([A-Z]{2}-\d{3}-\d{7}) /gm)].map((m) => m[1])).toEqual(oldest);
  });

  it('tells the feed’s health, and leads with a warning when it has gone quiet', async () => {
    const { ledger, source } = await scanned(records);
    const fresh = await gatherDigests(gatherInput({ source, ledger }));
    const quiet = await gatherDigests(
      gatherInput({ source, ledger, feed: { lastIngestAt: async () => NOW - 9 * HOUR } }),
    );
    const never = await gatherDigests(
      gatherInput({ source, ledger, feed: { lastIngestAt: async () => undefined } }),
    );

    const body = (g: typeof fresh) => digestFor(g, 'senior-officer@force').rendered.body;
    expect(body(fresh)).toContain('Last case change received 10m ago (27 Nov 2026, 06:50 London time).');
    expect(body(fresh)).not.toContain('WARNING');
    const quietLines = body(quiet).split('\n');
    expect(quietLines[2]).toBe(
      'WARNING: no case change has come from the case system for 9h: these figures may be out of date.',
    );
    expect(body(quiet)).toContain(': QUIET, over 6h.');
    expect(body(never).split('\n')[2]).toMatch(
      /^WARNING: no case change from the case system has ever been recorded/,
    );
  });
});

describe('breached since yesterday, by what the scan told', () => {
  // "Since yesterday" starts at 07:00 on Thursday 26 Nov (yesterday's digest fell due then).
  const SINCE = NOW - DAY;
  const breachedOf = async (source: OpenCaseSource, ledger: MemoryLedger) => {
    const { picture, rendered } = digestFor(
      await gatherDigests(gatherInput({ source, ledger })),
      'senior-officer@force',
    );
    return {
      lines: picture.breached.lines.map((l) => ({
        caseRef: l.caseRef,
        reaches: l.reaches,
        atMs: l.atMs,
        ...(l.firstAlerted ? { firstAlerted: true } : {}),
      })),
      rendered,
    };
  };
  const toldAt = (ledger: MemoryLedger, audience: string) =>
    [...ledger.shards.values()]
      .filter((s) => s.audience === audience)
      .flatMap((s) => [...s.cases.values()].map((e) => ({ level: e.level, notifiedAt: e.notifiedAt })));

  it('lists a case re-graded up past escalation when the scan first told of it, though its clock passed before yesterday', async () => {
    const ledger = new MemoryLedger();
    const entered = NOW - 80 * HOUR;
    // At 07:00 yesterday, medium risk at 56h: a warning.
    await scanAt(ledger, daCase('awaiting-risk-assessment', entered, 'medium'), SINCE);
    // Re-graded to high at 05:50 (same clock): at 06:00, 78h against the high-risk limits, an escalation.
    const regraded = daCase('awaiting-risk-assessment', entered, 'high', at('2026-11-27T05:50:00Z'));
    const source = await scanAt(ledger, regraded, at('2026-11-27T06:00:00Z'));
    expect(toldAt(ledger, 'duty-inspector')).toEqual([
      { level: 'escalation', notifiedAt: at('2026-11-27T06:00:00Z') },
    ]);

    const { lines, rendered } = await breachedOf(source, ledger);

    expect(lines).toEqual([
      {
        caseRef: 'DA-001-0000101',
        reaches: 'escalation',
        atMs: at('2026-11-27T06:00:00Z'),
        firstAlerted: true,
      },
    ]);
    expect(rendered.body).toContain('Since yesterday, 1 case reached breach or escalation.');
    expect(rendered.body).toContain('BREACHED SINCE YESTERDAY (1)');
    expect(rendered.body).toMatch(/ {2}DA-001-0000101 .*first alerted at escalation 1h ago\n/);
  });

  it('gives a case re-graded up the time the scan told of it, not when today’s limits would have passed', async () => {
    const ledger = new MemoryLedger();
    const entered = NOW - 60 * HOUR;
    await scanAt(ledger, daCase('awaiting-risk-assessment', entered, 'medium'), SINCE);
    // Against the high-risk limits it would have escalated at 48h, 19:00 yesterday; it was medium then.
    const regraded = daCase('awaiting-risk-assessment', entered, 'high', at('2026-11-27T05:50:00Z'));
    const source = await scanAt(ledger, regraded, at('2026-11-27T06:00:00Z'));

    const { lines, rendered } = await breachedOf(source, ledger);

    expect(lines).toEqual([
      {
        caseRef: 'DA-001-0000101',
        reaches: 'escalation',
        atMs: at('2026-11-27T06:00:00Z'),
        firstAlerted: true,
      },
    ]);
    expect(rendered.body).toMatch(/ {2}DA-001-0000101 .*first alerted at escalation 1h ago\n/);
  });

  it('lists a case that reached the mirror late, already past escalation, when the scan first told of it', async () => {
    const ledger = new MemoryLedger();
    // A backfill: a case waiting 80h arrives at 05:55, and the 06:00 scan is the first to see it.
    const late = daCase('awaiting-risk-assessment', NOW - 80 * HOUR, 'high', at('2026-11-27T05:55:00Z'));
    const source = await scanAt(ledger, late, at('2026-11-27T06:00:00Z'));

    const { lines } = await breachedOf(source, ledger);

    expect(lines).toEqual([
      {
        caseRef: 'DA-001-0000101',
        reaches: 'escalation',
        atMs: at('2026-11-27T06:00:00Z'),
        firstAlerted: true,
      },
    ]);
  });

  it('keeps the clock’s time when the scan told of it at its next run, and lists no crossing twice', async () => {
    // High risk, escalating at 48h: at 03:02 today, told by the 03:05 scan.
    const ledger = new MemoryLedger();
    const escalatesAt = at('2026-11-27T03:02:00Z');
    const today = daCase('awaiting-risk-assessment', escalatesAt - 48 * HOUR, 'high');
    await scanAt(ledger, today, at('2026-11-27T03:00:00Z'));
    const source = await scanAt(ledger, today, at('2026-11-27T03:05:00Z'));
    const { lines, rendered } = await breachedOf(source, ledger);
    expect(lines).toEqual([{ caseRef: 'DA-001-0000101', reaches: 'escalation', atMs: escalatesAt }]);
    expect(rendered.body).toMatch(/ {2}DA-001-0000101 .*escalated 3h ago\n/);

    // Escalating at 06:58 yesterday, told by the 07:05 scan after yesterday's digest fell due: that
    // digest listed it, so today's does not.
    const before = new MemoryLedger();
    const yesterday = daCase('awaiting-risk-assessment', at('2026-11-26T06:58:00Z') - 48 * HOUR, 'high');
    await scanAt(before, yesterday, at('2026-11-26T06:55:00Z'));
    const later = await scanAt(before, yesterday, at('2026-11-26T07:05:00Z'));
    expect(toldAt(before, 'duty-inspector')).toEqual([
      { level: 'escalation', notifiedAt: at('2026-11-26T07:05:00Z') },
    ]);
    expect((await breachedOf(later, before)).lines).toEqual([]);
  });

  it('takes the first audience told, so an audience told late (added to the config since) lists nothing', async () => {
    const ledger = new MemoryLedger();
    // High risk, escalated 32h ago (Thursday 23:00), told then; no re-grade.
    const record = daCase('awaiting-risk-assessment', NOW - 80 * HOUR, 'high');
    const source = await scanAt(ledger, record, at('2026-11-25T23:05:00Z'));
    // The duty inspector is first told at 06:00 today, as if added to the escalation's audiences since.
    const inspector = [...ledger.shards.values()].find((s) => s.audience === 'duty-inspector');
    if (!inspector) throw new Error('the duty inspector was not told');
    const entry = inspector.cases.get('DA-001-0000101');
    if (!entry) throw new Error('no entry');
    inspector.cases.set('DA-001-0000101', { ...entry, notifiedAt: at('2026-11-27T06:00:00Z') });

    expect((await breachedOf(source, ledger)).lines).toEqual([]);
  });
});

describe('unacknowledged alerts', () => {
  it('counts every alert about a case still waiting, and those an acknowledgement covers apart', async () => {
    const records = queue();
    const { ledger, source } = await scanned(records);
    const before = digestFor(
      await gatherDigests(gatherInput({ source, ledger })),
      'director-childrens-services@la-northgate',
    );
    const supervisor = before.picture.alerts.find((a) => a.audience === 'district-supervisor');
    const supervisorCases = ledger
      .casesOf('district-supervisor')
      .filter((ref) => records.some((r) => r.caseRef === ref && r.district === 'D01'));
    expect(supervisor?.placeName).toBe('D01 Northgate');
    expect(LEVELS.reduce((n, l) => n + (supervisor?.unacked[l] ?? 0), 0)).toBe(supervisorCases.length);
    expect(supervisor?.acknowledged).toBe(0);

    await ledger.acknowledge({
      audience: 'district-supervisor',
      place: 'D01',
      asOf: NOW,
      at: NOW + MINUTE,
      until: { warning: NOW + DAY, breach: NOW + DAY, escalation: NOW + DAY },
    });
    const after = digestFor(
      await gatherDigests(gatherInput({ source, ledger, nowMs: NOW + 2 * MINUTE })),
      'director-childrens-services@la-northgate',
    );
    const acknowledged = after.picture.alerts.find((a) => a.audience === 'district-supervisor');

    expect(LEVELS.reduce((n, l) => n + (acknowledged?.unacked[l] ?? 0), 0)).toBe(0);
    expect(acknowledged?.acknowledged).toBe(supervisorCases.length);
    expect(after.rendered.body).not.toContain('district-supervisor, D01 Northgate:');
    expect(after.rendered.body).toContain(`${supervisorCases.length} more alerts are acknowledged`);
  });

  const unackedOf = (picture: { alerts: Array<{ unacked: Record<string, number> }> }) =>
    picture.alerts.reduce((n, a) => n + LEVELS.reduce((m, l) => m + (a.unacked[l] ?? 0), 0), 0);

  it('counts no alert about a case that moved to a new stage, though the scan has not yet said so', async () => {
    const ledger = new MemoryLedger();
    const escalatedAt = at('2026-11-27T04:00:00Z');
    const assessing = daCase('awaiting-risk-assessment', escalatedAt - 53 * HOUR, 'high');
    await scanAt(ledger, assessing, escalatedAt);
    expect(ledger.casesOf('district-supervisor')).toEqual(['DA-001-0000101']);
    // At 05:30 it moves on to awaiting referral: a new clock, within its limits. The scan runs every
    // five minutes and keeps the ledger entries until it next messages the groups.
    const movedAt = at('2026-11-27T05:30:00Z');
    const referring = daCase('awaiting-referral', movedAt, 'high');
    let source = sourceOf([]);
    for (let t = movedAt; t <= at('2026-11-27T06:55:00Z'); t += 5 * MINUTE)
      source = await scanAt(ledger, referring, t);
    expect(ledger.casesOf('district-supervisor')).toEqual(['DA-001-0000101']);

    const { picture, rendered } = digestFor(
      await gatherDigests(gatherInput({ source, ledger })),
      'director-childrens-services@la-northgate',
    );

    expect(unackedOf(picture)).toBe(0);
    expect(rendered.body).toContain('UNACKNOWLEDGED ALERTS (0)');
    expect(rendered.body).not.toContain('have not been acknowledged');
    expect(rendered.body).toContain('Nothing needs doing today.');
  });

  it('counts no alert to an audience a re-graded case no longer alerts', async () => {
    const ledger = new MemoryLedger();
    const escalatedAt = at('2026-11-27T04:00:00Z');
    const entered = escalatedAt - 53 * HOUR;
    await scanAt(ledger, daCase('awaiting-risk-assessment', entered, 'high'), escalatedAt);
    const told = ['district-supervisor', 'duty-inspector', 'marac-coordinator'].filter(
      (a) => ledger.casesOf(a).length > 0,
    );
    // Re-graded to medium risk at 06:50 (same stage, same clock): at 57h a warning, to the supervisor only.
    const regraded = daCase('awaiting-risk-assessment', entered, 'medium', at('2026-11-27T06:50:00Z'));
    const source = await scanAt(ledger, regraded, at('2026-11-27T06:55:00Z'));
    const alertedNow = [...audienceLevels(evaluateCase(regraded, config, NOW) as Evaluation, config).keys()];

    const { picture } = digestFor(
      await gatherDigests(gatherInput({ source, ledger })),
      'director-childrens-services@la-northgate',
    );

    expect(told.length).toBeGreaterThan(alertedNow.length);
    expect(picture.alerts.map((a) => a.audience).sort()).toEqual(alertedNow.sort());
    expect(unackedOf(picture)).toBe(alertedNow.length);
  });

  it('counts an acknowledged alert as acknowledged after its pause on reminders has run out', async () => {
    const records = queue();
    const { ledger, source } = await scanned(records);
    const director = (picture: {
      alerts: Array<{ audience: string; unacked: Record<string, number>; acknowledged: number }>;
    }) => picture.alerts.find((a) => a.audience === 'director-childrens-services');
    const morning = digestFor(
      await gatherDigests(gatherInput({ source, ledger })),
      'director-childrens-services@la-northgate',
    );
    const told = LEVELS.reduce((n, l) => n + (director(morning.picture)?.unacked[l] ?? 0), 0);
    expect(told).toBeGreaterThan(0);
    expect(morning.rendered.body).toContain(`director-childrens-services, Northgate City Council: ${told} (`);

    // "It is recorded that you own these cases": a director is never reminded, so only the
    // escalation pause is set, and it runs out 4 hours later.
    await ledger.acknowledge({
      audience: 'director-childrens-services',
      place: 'la-northgate',
      asOf: NOW,
      at: NOW + MINUTE,
      until: { escalation: NOW + MINUTE + 4 * HOUR },
    });
    const nextMorning = digestFor(
      await gatherDigests(gatherInput({ source, ledger, nowMs: NOW + 5 * HOUR })),
      'director-childrens-services@la-northgate',
    );
    const after = director(nextMorning.picture);

    expect(LEVELS.reduce((n, l) => n + (after?.unacked[l] ?? 0), 0)).toBe(0);
    expect(after?.acknowledged).toBe(told);
    expect(nextMorning.rendered.body).not.toContain('director-childrens-services, Northgate City Council:');
  });

  it('says when alert records could not be read, and never that every alert is acknowledged', async () => {
    const records = queue();
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger: unreadableCases(ledger, 3) }));
    const { picture, rendered } = digestFor(gathered, 'director-childrens-services@la-northgate');
    const line =
      '3 alert records could not be read: the alerts they hold are not counted, so the unacknowledged count may be low.';

    expect(gathered.unreadableLedgerItems).toBe(3);
    expect(pastLimits(picture.total)).toBeGreaterThan(0);
    expect(rendered.body).toContain(`\n${line}\n`);
    expect(rendered.body).toContain(
      `UNACKNOWLEDGED ALERTS (0)\n  ${line}\n  None: no alert about a case still waiting could be read.`,
    );
    expect(rendered.body).not.toContain('every alert');
  });

  it('says there is no alert, rather than that every alert is acknowledged, when none was sent', async () => {
    const gathered = await gatherDigests(gatherInput({ source: sourceOf([]), ledger: new MemoryLedger() }));
    const { rendered } = digestFor(gathered, 'senior-officer@force');

    expect(rendered.body).toContain(
      'UNACKNOWLEDGED ALERTS (0)\n  None: no alert about a case still waiting.',
    );
    expect(rendered.body).not.toContain('every alert');
  });

  it('leaves out alerts about cases that are no longer open', async () => {
    const records = queue();
    const { ledger } = await scanned(records);
    const stillOpen = records.filter((r) => r.district !== 'D01');
    const gathered = await gatherDigests(
      gatherInput({ source: sourceOf(stillOpen.map((r) => ({ ...toMirrorItem(r, NOW) }))), ledger }),
    );
    const { picture, rendered } = digestFor(gathered, 'director-childrens-services@la-northgate');

    expect(picture.alerts).toEqual([]);
    expect(rendered.body).toContain('UNACKNOWLEDGED ALERTS (0)');
    expect(rendered.body).toContain('D01 Northgate: no open case.');
  });
});

describe('all clear', () => {
  it('is still sent, saying no case is waiting past its limits', async () => {
    // Standard-risk domestic abuse, 10 minutes in its stage: days from any limit.
    const fresh = queue({ open: 40 }).map((r) => ({
      ...r,
      category: 'domestic-abuse',
      riskLevel: 'standard' as const,
      stageEnteredAt: new Date(NOW - 10 * MINUTE).toISOString(),
      sourceUpdatedAt: new Date(NOW - 10 * MINUTE).toISOString(),
    }));
    const { ledger, source } = await scanned(fresh);
    const published: OutgoingMessage[] = [];
    const result = await runDigest({
      config,
      nowMs: NOW,
      runId: 'digest-1',
      source,
      ledger,
      feed: { lastIngestAt: async () => NOW - MINUTE },
      store: new MemoryDigestStore(),
      publisher: new CallbackPublisher((m) => published.push(m)),
      audit: new MemoryAuditLog(),
      retry: NO_RETRY,
    });

    expect(result.failures).toEqual([]);
    expect(published).toHaveLength(digestGroups(config).length);
    for (const message of published) {
      expect(message.email?.subject).toMatch(/: none past limits$/);
      expect(message.email?.body).toContain('\nNo case is waiting past its limits.\n');
      expect(message.email?.body).toContain('Nothing needs doing today.');
    }
  });

  it('is sent for an empty queue too', async () => {
    const gathered = await gatherDigests(gatherInput({ source: sourceOf([]), ledger: new MemoryLedger() }));
    const { rendered } = digestFor(gathered, 'senior-officer@force');

    expect(rendered.body).toContain('No case is waiting past its limits.');
    expect(rendered.body).toContain('OLDEST CASES (time in their current stage) (0)\n  No open case.');
    expect(rendered.caseRefs).toEqual([]);
  });

  it('is never given while the feed is quiet: its subject and what to do say to check the feed', async () => {
    for (const lastIngestAt of [NOW - 3 * 24 * HOUR, undefined]) {
      const gathered = await gatherDigests(
        gatherInput({
          source: sourceOf([]),
          ledger: new MemoryLedger(),
          feed: { lastIngestAt: async () => lastIngestAt },
        }),
      );
      const { rendered } = digestFor(gathered, 'senior-officer@force');

      expect(rendered.subject).toMatch(/: FEED QUIET, 0 past limits$/);
      expect(rendered.body).not.toContain('Nothing needs doing');
      expect(rendered.body).toContain(
        'What to do: check that the case system is sending its changes: until it does, these figures may not reflect the queue.',
      );
    }
  });

  it('is never given while a silence signal stands raised for the place: the digest leads with it', async () => {
    const signals = new MemorySignalStates();
    await signals.save('child-referrals#D07', {
      raised: true,
      raisedAt: '2026-11-19T07:00:00.000Z',
      sentAt: '2026-11-26T07:00:00.000Z',
    });
    await signals.save('flow-stopped#D01', { raised: false, clearedAt: '2026-11-20T07:00:00.000Z' });
    await signals.save('flow-stopped#D07', { raised: true, raisedAt: '2026-11-26T15:15:00.000Z' });
    const gathered = await gatherDigests(
      gatherInput({ source: sourceOf([]), ledger: new MemoryLedger(), signals }),
    );

    const millbrook = digestFor(gathered, 'director-childrens-services@la-millbrook').rendered;
    expect(millbrook.body.split('\n')[2]).toBe(
      'SIGNAL RAISED 19 Nov 2026, 07:00 London time: child referrals in D07 Millbrook below normal; nothing in the queue shows it.',
    );
    expect(millbrook.body.split('\n')[3]).toBe(
      'SIGNAL RAISED 26 Nov 2026, 15:15 London time: case movements in D07 Millbrook have stopped; nothing in the queue shows it.',
    );
    expect(millbrook.subject).toMatch(/: 2 signals raised, 0 past limits$/);
    expect(millbrook.body).not.toContain('Nothing needs doing');
    expect(millbrook.body).toContain('What to do: find out why the signals above are raised');
    // The force's senior officer sees it too (D07 is in the force); another authority's director does not.
    expect(digestFor(gathered, 'senior-officer@force').rendered.body).toContain(
      ': child referrals in D07 Millbrook below normal;',
    );
    const northgate = digestFor(gathered, 'director-childrens-services@la-northgate').rendered;
    expect(northgate.body).not.toContain('SIGNAL RAISED');
    expect(northgate.subject).toMatch(/: none past limits$/);
    expect(northgate.body).toContain('Nothing needs doing today.');
  });
});

describe('the trend against last week', () => {
  const snapshot = (open: number, breach: number, escalation: number, oldestAgeMs: number) => ({
    open,
    high: 0,
    medium: 0,
    standard: open,
    warning: 0,
    breach,
    escalation,
    oldestAgeMs,
  });

  it('says there are no figures from last week yet when there is no snapshot from 7 days before', async () => {
    const history: DigestHistory = { '2026-11-26': { D01: snapshot(1, 0, 0, 0) } };
    const gathered = await gatherDigests(
      gatherInput({ source: sourceOf([]), ledger: new MemoryLedger(), history }),
    );
    const { picture, rendered } = digestFor(gathered, 'director-childrens-services@la-northgate');

    expect(picture.trend.before).toBeUndefined();
    expect(rendered.body).toContain(
      'TREND AGAINST LAST WEEK (Fri 20 Nov 2026)\n  No figures from last week yet: the trend starts seven days after the first daily picture.',
    );
  });

  it('compares the place’s counts now with the snapshot of 7 days before, district by district', async () => {
    // Two districts in one local authority, so the digest shows each district's change too.
    const twoDistricts = configWith([
      'D02: { name: Eastmoor, localAuthority: la-eastmoor }',
      'D02: { name: Eastmoor, localAuthority: la-northgate }',
    ]);
    const records = queue({ open: 300 });
    const { ledger, source } = await scanned(records, NOW, twoDistricts);
    const history: DigestHistory = {
      '2026-11-20': { D01: snapshot(3, 1, 1, 40 * DAY), D02: snapshot(2, 0, 0, 2 * DAY) },
    };
    const gathered = await gatherDigests(
      gatherInput({ config: twoDistricts, source, ledger, history, groups: digestGroups(twoDistricts) }),
    );
    const { picture, rendered } = digestFor(gathered, 'director-childrens-services@la-northgate');
    const now = picture.trend.now;
    const past = now.breach + now.escalation;
    const d01 = records.filter((r) => r.district === 'D01').length;

    expect(picture.districts.map((d) => d.id)).toEqual(['D01', 'D02']);
    expect(now.open).toBe(records.filter((r) => r.district === 'D01' || r.district === 'D02').length);
    expect(rendered.body).toContain('Daily picture for Northgate City Council (D01 Northgate, D02 Eastmoor)');
    expect(rendered.body).toContain(`  Open cases: ${now.open}, up ${now.open - 5} from 5.`);
    expect(rendered.body).toContain(`  Past their limits: ${past}, up ${past - 2} from 2.`);
    expect(rendered.body).toContain(`  D01 Northgate: ${d01} open, up ${d01 - 3} from 3;`);
    expect(rendered.body).toMatch(/ {2}Oldest case: \d+d \(a week ago: 40d\)\./);
  });

  it('compares only the districts with figures from a week ago, and names the ones left out', async () => {
    // D02 joins Northgate's local authority this week: it has no snapshot from a week ago.
    const twoDistricts = configWith([
      'D02: { name: Eastmoor, localAuthority: la-eastmoor }',
      'D02: { name: Eastmoor, localAuthority: la-northgate }',
    ]);
    const records = queue({ open: 300 });
    const { ledger, source } = await scanned(records, NOW, twoDistricts);
    const d01 = records.filter((r) => r.district === 'D01');
    const d02 = records.filter((r) => r.district === 'D02');
    const gathered = await gatherDigests(
      gatherInput({ config: twoDistricts, source, ledger, groups: digestGroups(twoDistricts), history: {} }),
    );
    const d01Now = gathered.snapshot.D01 as DistrictSnapshot;
    const history: DigestHistory = { '2026-11-20': { D01: d01Now } };
    const { picture, rendered } = digestFor(
      await gatherDigests(
        gatherInput({ config: twoDistricts, source, ledger, groups: digestGroups(twoDistricts), history }),
      ),
      'director-childrens-services@la-northgate',
    );

    expect(d02.length).toBeGreaterThan(0);
    expect(picture.trend.now.open).toBe(d01.length);
    expect(picture.trend.notCompared).toEqual(['D02']);
    expect(rendered.body).toContain(`  Open cases: ${d01.length}, no change from a week ago.`);
    expect(rendered.body).toContain(
      '  These figures leave out D02 Eastmoor: no figures from a week ago, so it is not compared.',
    );
    expect(rendered.body).toContain(`  D02 Eastmoor: ${d02.length} open,`);
    expect(rendered.body).not.toContain(`up ${d02.length} from ${d01.length}`);
  });

  it('keeps a snapshot a day, so a digest a week later shows the trend', async () => {
    const store = new MemoryDigestStore();
    const run = async (nowMs: number, records: CaseRecord[]) => {
      const { ledger, source } = await scanned(records, nowMs);
      const published: OutgoingMessage[] = [];
      await runDigest({
        config,
        nowMs,
        runId: `digest-${nowMs}`,
        source,
        ledger,
        feed: { lastIngestAt: async () => nowMs },
        store,
        publisher: new CallbackPublisher((m) => published.push(m)),
        audit: new MemoryAuditLog(),
        retry: NO_RETRY,
      });
      return published.find((m) => m.groups[0] === 'senior-officer@force')?.email?.body ?? '';
    };
    const weekLater = NOW + 7 * DAY;

    const first = await run(NOW, queue({ open: 200 }));
    const second = await run(weekLater, queue({ open: 260, nowMs: weekLater }));

    expect(first).toContain('No figures from last week yet');
    expect(Object.keys(store.days)).toEqual(['2026-11-27', '2026-12-04']);
    expect(store.days['2026-11-27']?.D01?.open).toBe(
      queue({ open: 200 }).filter((r) => r.district === 'D01').length,
    );
    expect(second).toContain('TREND AGAINST LAST WEEK (Fri 27 Nov 2026)');
    expect(second).toContain('  Open cases: 260, up 60 from 200.');
  });

  it('keeps the first snapshot of a day and only a fortnight of them', async () => {
    const store = new MemoryDigestStore();
    store.days = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        new Date(NOW - (i + 1) * DAY).toISOString().slice(0, 10),
        { D01: snapshot(i, 0, 0, 0) },
      ]),
    );
    const { ledger, source } = await scanned(queue({ open: 50 }));

    await runDigest({
      config,
      nowMs: NOW,
      runId: 'digest-1',
      source,
      ledger,
      feed: { lastIngestAt: async () => NOW },
      store,
      publisher: new CallbackPublisher(),
      audit: new MemoryAuditLog(),
      retry: NO_RETRY,
    });

    const days = Object.keys(store.days);
    expect(days).toHaveLength(15);
    expect(days.at(-1)).toBe('2026-11-27');
    expect(days[0]).toBe('2026-11-13');
  });
});

describe('sending', () => {
  function harness() {
    const store = new MemoryDigestStore();
    const audit = new MemoryAuditLog();
    const published: OutgoingMessage[] = [];
    let failNext = 0;
    const publisher: Publisher = {
      publish: async (message) => {
        if (failNext > 0) {
          failNext -= 1;
          throw Object.assign(new Error('throttled'), { name: 'ThrottledException' });
        }
        published.push(message);
        return `msg-${published.length}`;
      },
    };
    const ledger = new MemoryLedger();
    const records = queue({ open: 200 });
    const source = sourceOf(records.map((r) => ({ ...toMirrorItem(r, NOW) })));
    const run = (nowMs: number, runId = `run-${nowMs}`) =>
      runDigest({
        config,
        nowMs,
        runId,
        source,
        ledger,
        feed: { lastIngestAt: async () => nowMs - MINUTE },
        store,
        publisher,
        audit,
        retry: NO_RETRY,
      });
    return { store, audit, published, run, failOnce: (n = 1) => (failNext = n) };
  }
  const groups = digestGroups(config).map((g) => `${g.audience}@${g.place}`);

  it('sends each audience’s digest for each place once a day, by email only, to its group', async () => {
    const h = harness();

    const first = await h.run(NOW);
    const again = await h.run(NOW + 15 * MINUTE);
    const tomorrowEarly = await h.run(NOW + DAY - 15 * MINUTE);
    const tomorrow = await h.run(NOW + DAY);

    expect(first.sent.map((s) => s.group).sort()).toEqual([...groups].sort());
    expect(again.sent).toEqual([]);
    expect(again.alreadySent.sort()).toEqual([...groups].sort());
    expect(tomorrowEarly.sent).toEqual([]);
    expect(tomorrowEarly.day).toBe('2026-11-27');
    expect(tomorrow.sent).toHaveLength(groups.length);
    expect(tomorrow.day).toBe('2026-11-28');
    expect(h.published).toHaveLength(2 * groups.length);
    for (const message of h.published) {
      expect(message.kind).toBe('digest');
      expect(message.groups).toHaveLength(1);
      expect(message.sms).toBeUndefined();
      expect(message.level).toEqual(LEVELS);
    }
    const northgate = h.published.find((m) => m.groups[0] === 'director-childrens-services@la-northgate');
    expect(northgate?.district).toEqual(['D01']);
    expect(northgate?.localAuthority).toEqual(['la-northgate']);
  });

  it('sends nothing before the day’s time, then on the first run after it', async () => {
    const h = harness();
    h.store.marksByGroup.set('senior-officer@force', {
      day: '2026-11-26',
      sentAt: at('2026-11-26T07:00:00Z'),
    });

    const early = await h.run(NOW - 15 * MINUTE);
    const onTime = await h.run(NOW + 2 * MINUTE);

    // Before 07:00 the current digest is yesterday's: the senior officer had it, the directors did not.
    expect(early.day).toBe('2026-11-26');
    expect(early.alreadySent).toEqual(['senior-officer@force']);
    expect(onTime.day).toBe('2026-11-27');
    expect(onTime.sent.map((s) => s.group)).toContain('senior-officer@force');
  });

  it('writes one disclosure per digest, naming the cases it lists', async () => {
    const h = harness();

    const result = await h.run(NOW);

    expect(h.audit.entries).toHaveLength(groups.length);
    for (const sent of result.sent) {
      const entry = h.audit.entries.find((e) => e.messageId === sent.messageId);
      expect(entry).toMatchObject({
        kind: 'digest',
        audience: sent.group.split('@')[0],
        caseRefs: sent.caseRefs,
        resolvedCaseRefs: [],
        reason: 'daily digest for 2026-11-27',
        sentAt: '2026-11-27T07:00:00.000Z',
      });
      const published = h.published.find((m) => m.groups[0] === sent.group);
      for (const ref of sent.caseRefs) expect(published?.email?.body).toContain(`  ${ref} `);
    }
  });

  it('leaves a digest that could not be published due for the next run, and calls it overdue after three hours', async () => {
    const h = harness();
    h.failOnce(groups.length);

    const failed = await h.run(NOW);
    h.failOnce(groups.length);
    const stillFailing = await h.run(NOW + DIGEST_OVERDUE_AFTER_MS);
    const recovered = await h.run(NOW + DIGEST_OVERDUE_AFTER_MS + 15 * MINUTE);

    expect(failed.sent).toEqual([]);
    expect(failed.failures.filter((f) => f.stage === 'publish')).toHaveLength(groups.length);
    expect(failed.overdue).toEqual([]);
    expect(stillFailing.overdue.sort()).toEqual([...groups].sort());
    expect(recovered.sent).toHaveLength(groups.length);
    expect(recovered.overdue).toEqual([]);
    expect(h.published).toHaveLength(groups.length);
    // Released claims were never published: nothing is logged as possibly sent.
    expect(h.audit.entries).toHaveLength(groups.length);
    expect(h.audit.entries.every((e) => e.runId === recovered.runId)).toBe(true);
  });

  it('logs a digest a stopped run may have sent as possibly sent, then sends it again', async () => {
    const h = harness();
    // A run claimed the senior officer's digest at 07:00, was about to disclose two cases, and stopped.
    await h.store.claim(
      'senior-officer@force',
      '2026-11-27',
      {
        runId: 'dead-run',
        leaseUntil: NOW + 5 * MINUTE,
        disclosing: { at: NOW, caseRefs: ['DA-009-0000001', 'DA-009-0000002'] },
      },
      NOW,
    );

    const result = await h.run(NOW + 15 * MINUTE);

    expect(result.sent.map((s) => s.group)).toContain('senior-officer@force');
    const unconfirmed = h.audit.entries.filter((e) => e.runId === 'dead-run');
    expect(unconfirmed).toEqual([
      expect.objectContaining({
        kind: 'digest',
        audience: 'senior-officer',
        sentAt: '2026-11-27T07:00:00.000Z',
        caseRefs: ['DA-009-0000001', 'DA-009-0000002'],
        messageId: 'unconfirmed-dead-run-senior-officer@force',
        reason: expect.stringMatching(
          /^possibly sent: run dead-run stopped after claiming the daily digest for 2026-11-27/,
        ),
      }),
    ]);
  });

  it('never sends what another run has claimed', async () => {
    const h = harness();
    await h.store.claim(
      'senior-officer@force',
      '2026-11-27',
      { runId: 'other-run', leaseUntil: NOW + 5 * MINUTE, disclosing: { at: NOW, caseRefs: [] } },
      NOW,
    );

    const result = await h.run(NOW + MINUTE);

    expect(result.busy).toEqual(['senior-officer@force']);
    expect(result.sent.map((s) => s.group)).not.toContain('senior-officer@force');
  });

  it('sends nothing on partial figures: an open-cases read that fails part-way', async () => {
    const h = harness();
    const broken: OpenCaseSource = {
      shards: () => [ALL_SHARDS],
      async *pages() {
        yield [];
        throw Object.assign(new Error('boom'), { name: 'ProvisionedThroughputExceededException' });
      },
    };
    const result = await runDigest({
      config,
      nowMs: NOW,
      runId: 'broken',
      source: broken,
      ledger: new MemoryLedger(),
      feed: { lastIngestAt: async () => NOW },
      store: h.store,
      publisher: new CallbackPublisher((m) => h.published.push(m)),
      audit: h.audit,
      retry: NO_RETRY,
    });

    expect(result.failures).toEqual([
      { stage: 'open-cases', error: 'ProvisionedThroughputExceededException' },
    ]);
    expect(h.published).toEqual([]);
    expect(h.store.marksByGroup.size).toBe(0);
  });
});

describe('size', () => {
  it('fits SNS by bytes for a force of 20,000 open cases', async () => {
    const records = queue({ open: 20_000, seed: 4 });
    const { ledger, source } = await scanned(records);
    const gathered = await gatherDigests(gatherInput({ source, ledger }));

    for (const { group, rendered } of gathered.digests) {
      const attributes = messageAttributes({
        groups: [`${group.audience}@${group.place}`],
        audience: group.audience,
        district: group.districts,
        localAuthority: group.districts.map((d) => config.localAuthorityOf(d)),
        level: LEVELS,
        categories: config.file.categories,
        kind: 'digest',
      });
      expect(snsMessageBytes({ email: rendered }, attributes)).toBeLessThanOrEqual(SNS_MAX_BYTES);
    }
  });

  it('cuts long lists with "and N more" to stay within its budget', async () => {
    const { ledger, source } = await scanned(queue({ open: 2000 }));
    const gathered = await gatherDigests(gatherInput({ source, ledger }));
    const { picture } = digestFor(gathered, 'senior-officer@force');

    const small = renderDigest(picture, 12_000);

    expect(Buffer.byteLength(JSON.stringify(small.body))).toBeLessThanOrEqual(12_000);
    expect(small.body).toMatch(/\n {2}and \d+ more: see the case system\n/);
    expect(small.body).toContain('OPEN CASES BY DISTRICT');
    expect(small.body).toContain('Do not forward it outside the force.');
    for (const ref of small.caseRefs) expect(small.body).toContain(`  ${ref} `);
  });
});

describe('personal data', () => {
  it('appears nowhere in a digest, its subject, its message or its disclosure', async () => {
    const records = queue({ withSourceFields: true });
    expect(JSON.stringify(records)).toContain(PII_MARKERS[0]);
    // The index would hold what the mirror stores; here the raw source records, names and all.
    const source = sourceOf(records.map((r) => ({ ...r })));
    const published: OutgoingMessage[] = [];
    const audit = new MemoryAuditLog();

    const result = await runDigest({
      config,
      nowMs: NOW,
      runId: 'pii',
      source,
      ledger: (await scanned(records)).ledger,
      feed: { lastIngestAt: async () => NOW },
      store: new MemoryDigestStore(),
      publisher: new CallbackPublisher((m) => published.push(m)),
      audit,
      retry: NO_RETRY,
    });

    expect(published.length).toBeGreaterThan(0);
    expect(piiMarkerIn(JSON.stringify(published))).toBeUndefined();
    expect(piiMarkerIn(JSON.stringify(audit.entries))).toBeUndefined();
    expect(piiMarkerIn(JSON.stringify(result))).toBeUndefined();
  });
});

describe('the digest handler', () => {
  const deps = (overrides: Partial<Pick<DigestDeps, 'publisher' | 'subscriptions'>> = {}): DigestDeps => ({
    config: async () => ({ config, source: 'parameter' as const }),
    source: sourceOf([]),
    ledger: new MemoryLedger(),
    feed: { lastIngestAt: async () => NOW },
    store: new MemoryDigestStore(),
    publisher: overrides.publisher ?? new CallbackPublisher(),
    audit: new MemoryAuditLog(),
    ...(overrides.subscriptions ? { subscriptions: overrides.subscriptions } : {}),
  });
  const context = { awsRequestId: 'req-1' };

  it('runs as of its clock, whatever an event says, with a heartbeat after a whole run', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');

    const result = await createDigestHandler(deps(), { clock: () => NOW, retry: NO_RETRY })(
      { at: '2020-01-01T00:00:00Z' },
      context,
    );

    expect(result.at).toBe('2026-11-27T07:00:00.000Z');
    expect(result.sent).toHaveLength(digestGroups(config).length);
    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.sent, 'Count', digestGroups(config).length);
    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.overdue, 'Count', 0);
    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.heartbeat, 'Count', 1);
    addMetric.mockRestore();
  });

  it('counts and logs the alert records it could not read, naming no case', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');
    const { ledger, source } = await scanned(queue({ open: 100 }));

    const result = await createDigestHandler(
      { ...deps(), source, ledger: unreadableCases(ledger, 2) },
      { clock: () => NOW, retry: NO_RETRY },
    )({}, context);

    expect(result.unreadableLedgerItems).toBe(2);
    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.unreadableAlertRecords, 'Count', 2);
    const logged = warn.mock.calls.filter(([message]) => String(message).includes('alert-ledger records'));
    expect(logged).toEqual([[expect.any(String), { unreadableLedgerItems: 2 }]]);
    addMetric.mockRestore();
    warn.mockRestore();
  });

  it('raises after a failed send, with no heartbeat, and counts what is overdue', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const failing: Publisher = {
      publish: async () => {
        throw Object.assign(new Error('DA-SECRET-VALUE'), { name: 'KMSAccessDeniedException' });
      },
    };
    const handler = createDigestHandler(deps({ publisher: failing }), {
      clock: () => NOW + DIGEST_OVERDUE_AFTER_MS,
      retry: NO_RETRY,
    });

    const error = await handler(undefined, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DigestIncompleteError);
    expect((error as Error).message).not.toContain('DA-SECRET-VALUE');
    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.overdue, 'Count', digestGroups(config).length);
    expect(addMetric).not.toHaveBeenCalledWith(DIGEST_METRICS.heartbeat, 'Count', 1);
    addMetric.mockRestore();
  });
});

describe('the digest handler’s subscription check', () => {
  const context = { awsRequestId: 'req-subs' };
  const expected = { alert: { sms: 1, email: 2 }, ops: { email: 1 } };
  const handlerWith = (list: SubscriptionDirectory['list'], budgetMs?: number) =>
    createDigestHandler(
      {
        config: async () => ({ config, source: 'parameter' as const }),
        source: sourceOf([]),
        ledger: new MemoryLedger(),
        feed: { lastIngestAt: async () => NOW },
        store: new MemoryDigestStore(),
        publisher: new CallbackPublisher(),
        audit: new MemoryAuditLog(),
        subscriptions: { directory: { list }, expected },
      },
      {
        clock: () => NOW,
        retry: NO_RETRY,
        ...(budgetMs !== undefined ? { subscriptionCheckBudgetMs: budgetMs } : {}),
      },
    );

  it('counts the subscriptions that deliver nothing each run, and says which kinds in the log', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);

    await handlerWith(async (topic) =>
      topic === 'alert'
        ? [
            { protocol: 'sms', pending: false, optedOut: false },
            { protocol: 'email', pending: true, optedOut: false },
          ]
        : [{ protocol: 'email', pending: false, optedOut: false }],
    )(undefined, context);

    expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.subscriptionsNotReceiving, 'Count', 2);
    expect(warn).toHaveBeenCalledWith(
      'subscriptions that deliver nothing',
      expect.objectContaining({
        notReceiving: 2,
        problems: [
          expect.stringMatching(/^alert topic, inboxes: 1 of 2 not confirmed/),
          expect.stringMatching(/^alert topic, inboxes: 1 of 2 missing/),
        ],
      }),
    );
    addMetric.mockRestore();
    warn.mockRestore();
  });

  it.each([
    [
      'fails',
      // SNS's message may quote a subscription's phone number: only the error's kind is logged.
      async () => {
        throw Object.assign(new Error('Invalid parameter: PhoneNumber Reason: +447700900999 is not valid'), {
          name: 'InvalidParameterException',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { name: 'InvalidParameterException', httpStatusCode: 400 },
    ],
    // One that never answers, against a budget of 50 ms.
    ['outlasts its budget', () => new Promise<never>(() => undefined), { name: 'CheckTimedOut' }],
  ] as const)(
    'publishes no count when the check %s, so the alarm sees it, and ends the run as usual',
    async (_, list, logged) => {
      const addMetric = vi.spyOn(metrics, 'addMetric');
      const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);

      const result = await handlerWith(list, 50)(undefined, context);

      expect(result.sent).toHaveLength(digestGroups(config).length);
      expect(addMetric).not.toHaveBeenCalledWith(
        DIGEST_METRICS.subscriptionsNotReceiving,
        'Count',
        expect.anything(),
      );
      expect(addMetric).toHaveBeenCalledWith(DIGEST_METRICS.heartbeat, 'Count', 1);
      expect(error).toHaveBeenCalledWith('subscription check failed', { error: logged });
      addMetric.mockRestore();
      error.mockRestore();
    },
  );
});

describe('queuewatch digest', { timeout: 60_000 }, () => {
  it('prints each digest for the synthetic queue, sending nothing', async () => {
    const [text, unknown] = await Promise.all([
      runCli([
        'digest',
        '--at',
        '2026-11-27T07:00:00Z',
        '--to',
        'senior-officer,director-childrens-services@la-eastmoor',
      ]),
      runCli(['digest', '--to', 'district-supervisor@D01']),
    ]);

    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      /^daily picture for 2026-11-27 as of 2026-11-27T07:00:00.000Z: 2 digests \(not sent\)\n/,
    );
    expect(text.stdout).toContain(
      '==== to director-childrens-services@la-eastmoor ====\nSubject: [queuewatch] Daily picture for Eastmoor Borough Council, Fri 27 Nov 2026: ',
    );
    expect(text.stdout).toContain('==== to senior-officer@force ====');
    expect(text.stdout).toContain('No figures from last week yet');
    expect(text.stdout).not.toContain('==== to director-childrens-services@la-northgate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /^queuewatch: no daily digest for district-supervisor@D01: the config's digest goes to director-childrens-services@la-northgate, /,
    );
  });

  it('counts one digest in the singular', async () => {
    const one = await runCli(['digest', '--at', '2026-11-27T07:00:00Z', '--to', 'senior-officer']);

    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(
      /^daily picture for 2026-11-27 as of 2026-11-27T07:00:00.000Z: 1 digest \(not sent\)\n/,
    );
  });
});
