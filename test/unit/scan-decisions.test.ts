// What a run decides to send, against the ledger: news goes at once, reminders on each audience's
// interval and outside its quiet hours, one message per audience and place covering every level,
// acknowledgements pause reminders but never news, what no longer waits gets one line, and a case
// the scan cannot read is neither sent nor resolved.

import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { loadConfig } from '#shared/config/load.ts';
import { ALL_SHARDS } from '#shared/domain/shards.ts';
import type { OpenCaseSource, OutgoingMessage } from '#shared/scan/ports.ts';
import { runScan, type SentMessage } from '#shared/scan/run-scan.ts';
import { aCaseView, configWith, iso } from '#test/support/fixtures.ts';

const config = loadConfig();
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-27T09:00:00Z'); // a Friday, 09:00 London (GMT)

type Item = Record<string, unknown>;
const daHigh = (caseRef: string, enteredMs: number, district = 'D01'): Item =>
  aCaseView({ caseRef, district, stageEnteredAt: iso(enteredMs) });

function harness(withConfig: CompiledConfig = config) {
  const ledger = new MemoryLedger();
  let items: Item[] = [];
  const source: OpenCaseSource = {
    shards: () => [ALL_SHARDS],
    async *pages() {
      yield items;
    },
  };
  const sent: OutgoingMessage[] = [];
  const audit = new MemoryAuditLog();
  const run = (nowMs: number, runId = `run-${nowMs}`) =>
    runScan({
      config: withConfig,
      nowMs,
      runId,
      source,
      ledger,
      publisher: new CallbackPublisher((m) => sent.push(m)),
      audit,
      retry: { attempts: 1, baseDelayMs: 0 },
    });
  return { ledger, sent, audit, run, set: (next: Item[]) => (items = next) };
}

const to = (group: string, messages: SentMessage[]) => messages.filter((m) => m.groups.includes(group));
const SUPERVISOR = 'district-supervisor@D01';

describe('scan decisions', () => {
  it('notifies a warning once, then the breach as soon as it falls due', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0)]);

    const atWarn = await h.run(T0 + 4 * HOUR);
    const stillWarn = await h.run(T0 + 5 * HOUR);
    const atBreach = await h.run(T0 + 24 * HOUR);

    expect(to(SUPERVISOR, atWarn.messages).map((m) => m.trigger)).toEqual(['new-warning']);
    expect(stillWarn.messages).toEqual([]);
    expect(to(SUPERVISOR, atBreach.messages).map((m) => [m.trigger, m.levels])).toEqual([
      ['new-breach', ['breach']],
    ]);
  });

  it('reminds an audience of an unacknowledged breach on its own interval and not before', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]);

    await h.run(T0);
    const before = await h.run(T0 + 8 * HOUR - 5 * 60_000);
    const after = await h.run(T0 + 8 * HOUR);

    expect(to(SUPERVISOR, before.messages)).toEqual([]);
    expect(to(SUPERVISOR, after.messages).map((m) => `${m.trigger} ${m.caseRefs.join()}`)).toEqual([
      'repeat-breach DA-000-0000001',
    ]);
    // The MARAC coordinator's breach reminder is 24 hours: not yet.
    expect(to('marac-coordinator@la-northgate', after.messages)).toEqual([]);
  });

  it('reminds on the run its interval falls due in, though that run starts a few seconds earlier in its five minutes', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]);

    // Scheduled runs start a few seconds either side of their time: the one telling the breach
    // 3 seconds late, the one 8 hours on 1 second late.
    await h.run(T0 + 3_000);
    const onTime = await h.run(T0 + 8 * HOUR + 1_000);

    expect(to(SUPERVISOR, onTime.messages).map((m) => m.trigger)).toEqual(['repeat-breach']);
  });

  it('sends each audience at each place one message covering every level due, highest first', async () => {
    const h = harness();
    h.set([
      daHigh('DA-000-0000001', T0 - 50 * HOUR), // escalation
      daHigh('DA-000-0000002', T0 - 30 * HOUR), // breach
      daHigh('DA-000-0000003', T0 - 5 * HOUR), // warning
    ]);

    const first = await h.run(T0);

    const [message] = to(SUPERVISOR, first.messages);
    expect(to(SUPERVISOR, first.messages)).toHaveLength(1);
    expect(message?.levels).toEqual(['warning', 'breach', 'escalation']);
    expect(message?.sms?.split('\n')[0]).toBe(
      'QW D01 Northgate: 1 ESCALATION (1 new), 1 BREACH (1 new), 1 WARNING (1 new)',
    );
    expect(message?.caseRefs).toEqual(['DA-000-0000001', 'DA-000-0000002', 'DA-000-0000003']);
  });

  it('lists the whole picture in a reminder, so reminders of every level line up', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 50 * HOUR), daHigh('DA-000-0000002', T0 - 30 * HOUR)]);
    await h.run(T0);

    const reminder = await h.run(T0 + 4 * HOUR);
    const laterBreachReminder = await h.run(T0 + 8 * HOUR);

    expect(to(SUPERVISOR, reminder.messages).map((m) => [m.trigger, m.levels])).toEqual([
      ['repeat-escalation', ['breach', 'escalation']],
    ]);
    // The breach was listed four hours ago: its own 8-hour reminder counts from then.
    expect(to(SUPERVISOR, laterBreachReminder.messages).map((m) => m.trigger)).toEqual(['repeat-escalation']);
  });

  it('treats a new stage as a new episode, with a new clock', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * HOUR)]);
    await h.run(T0);
    h.set([{ ...daHigh('DA-000-0000001', T0 - 5 * HOUR), stage: 'awaiting-supervisor-review' }]);

    const next = await h.run(T0 + 5 * 60_000);

    expect(to(SUPERVISOR, next.messages).map((m) => m.trigger)).toEqual(['new-warning']);
  });

  it('does not send a level again when a re-grade takes a case down and back up in the same stage', async () => {
    const h = harness();
    const high = daHigh('DA-000-0000001', T0 - 30 * HOUR); // breach under da-high-assessment (24h)
    h.set([high]);
    await h.run(T0);
    h.set([{ ...high, riskLevel: 'medium' }]); // 30h: warning under da-medium (24h/72h)
    const lowered = await h.run(T0 + 5 * 60_000);
    h.set([high]);

    const raised = await h.run(T0 + 10 * 60_000);
    const reminder = await h.run(T0 + 8 * HOUR);

    expect(to(SUPERVISOR, lowered.messages)).toEqual([]);
    expect(to(SUPERVISOR, raised.messages)).toEqual([]);
    expect(to(SUPERVISOR, reminder.messages).map((m) => m.trigger)).toEqual(['repeat-breach']);
  });

  it('leaves a group another run is sending alone until its lease runs out', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * HOUR)]);
    await h.ledger.claimGroup({ audience: 'district-supervisor', place: 'D01' }, undefined, {
      runId: 'other',
      leaseUntil: T0 + 60_000,
    });

    const during = await h.run(T0);
    const afterLease = await h.run(T0 + 2 * 60_000);

    expect(to(SUPERVISOR, during.messages)).toEqual([]);
    expect(during.inFlightElsewhere).toBeGreaterThanOrEqual(1);
    expect(to(SUPERVISOR, afterLease.messages).map((m) => m.caseRefs)).toEqual([['DA-000-0000001']]);
  });

  it('sends resolved lines alone by email only, once the audience has heard nothing for 4 hours', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR)]);
    await h.run(T0);
    h.set([]);

    const soon = await h.run(T0 + 5 * 60_000);
    const later = await h.run(T0 + 4 * HOUR);
    const after = await h.run(T0 + 4 * HOUR + 5 * 60_000);

    expect(to(SUPERVISOR, soon.messages)).toEqual([]);
    expect(
      to(SUPERVISOR, later.messages).map((m) => ({ kind: m.kind, cases: m.caseRefs, resolved: m.resolved })),
    ).toEqual([{ kind: 'email-only', cases: [], resolved: ['DA-000-0000001'] }]);
    expect(h.ledger.casesOf('district-supervisor')).toEqual([]);
    expect(after.messages).toEqual([]);
  });

  it('carries resolved lines on the next message to the same audience and place', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR)]);
    await h.run(T0);
    h.set([daHigh('DA-000-0000002', T0 - 30 * HOUR)]);

    const next = await h.run(T0 + 5 * 60_000);

    expect(to(SUPERVISOR, next.messages).map((m) => [m.trigger, m.caseRefs, m.resolved])).toEqual([
      ['new-breach', ['DA-000-0000002'], ['DA-000-0000001']],
    ]);
  });

  it('neither sends nor resolves a case it cannot read, and tells which', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR), daHigh('DA-000-0000002', T0 - 5 * HOUR)]);
    await h.run(T0);
    // A config push removed the category, or the item was corrupted: unreadable now.
    h.set([
      { ...daHigh('DA-000-0000001', T0 - 5 * HOUR), category: 'burglary' },
      daHigh('DA-000-0000002', T0 - 5 * HOUR),
    ]);

    const later = await h.run(T0 + 5 * HOUR);

    expect(later.invalid).toEqual({
      total: 1,
      listed: [{ caseRef: 'DA-000-0000001', reason: expect.any(String) }],
    });
    expect(later.messages.flatMap((m) => m.resolved)).toEqual([]);
    expect(h.ledger.casesOf('district-supervisor').sort()).toEqual(['DA-000-0000001', 'DA-000-0000002']);
  });

  it('resolves nothing when the index could not be read to the end, and still sends what it read', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR)]);
    await h.run(T0);
    const failing: OpenCaseSource = {
      shards: () => [ALL_SHARDS],
      async *pages() {
        yield [daHigh('DA-000-0000009', T0 - 30 * HOUR)];
        throw Object.assign(new Error('network'), { name: 'TimeoutError' });
      },
    };

    const result = await runScan({
      config,
      nowMs: T0 + 5 * HOUR,
      runId: 'partial',
      source: failing,
      ledger: h.ledger,
      publisher: new CallbackPublisher(),
      audit: new MemoryAuditLog(),
    });

    expect(result.readComplete).toBe(false);
    expect(result.failures.map((f) => [f.stage, f.error])).toEqual([['read', 'TimeoutError']]);
    expect(to(SUPERVISOR, result.messages).map((m) => [m.caseRefs, m.resolved])).toEqual([
      [['DA-000-0000009'], []],
    ]);
    expect(h.ledger.casesOf('district-supervisor')).toContain('DA-000-0000001');
  });
});

describe('acknowledgement', () => {
  it('pauses reminders for that audience only, and never the next level', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]); // breach; escalates at 48h
    const first = await h.run(T0);
    const sentAt = T0;
    await h.ledger.acknowledge({
      audience: 'district-supervisor',
      place: 'D01',
      asOf: sentAt,
      at: T0 + HOUR,
      until: { breach: T0 + HOUR + 8 * HOUR },
    });

    const reminderTime = await h.run(T0 + 8 * HOUR);
    const escalation = await h.run(T0 + 23 * HOUR);

    expect(to(SUPERVISOR, first.messages)).toHaveLength(1);
    expect(to(SUPERVISOR, reminderTime.messages)).toEqual([]);
    expect(to(SUPERVISOR, escalation.messages).map((m) => m.trigger)).toEqual(['new-escalation']);
    // The duty inspector and the MARAC coordinator were not acknowledged for: their news still went.
    expect(to('duty-inspector@D01', escalation.messages).map((m) => m.trigger)).toEqual(['new-escalation']);
  });

  it('does not cover a case notified after the acknowledged message', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR)]);
    await h.run(T0);
    await h.ledger.acknowledge({
      audience: 'district-supervisor',
      place: 'D01',
      asOf: T0,
      at: T0 + 60_000,
      until: { breach: T0 + 20 * HOUR },
    });
    h.set([daHigh('DA-000-0000001', T0 - 25 * HOUR), daHigh('DA-000-0000002', T0 - 24 * HOUR - 60_000)]);
    await h.run(T0 + 2 * HOUR); // DA-2 is news
    const reminder = await h.run(T0 + 10 * HOUR);

    expect(to(SUPERVISOR, reminder.messages).map((m) => [m.trigger, m.caseRefs])).toEqual([
      ['repeat-breach', ['DA-000-0000001', 'DA-000-0000002']],
    ]);
  });
});

describe('quiet hours', () => {
  const quietConfig = configWith([
    'repeat: { warning: never, breach: 8h, escalation: 4h }\n  duty-inspector:',
    "repeat: { warning: 1h, breach: 8h, escalation: 4h }\n    quietHours: { from: '22:00', to: '07:00' }\n  duty-inspector:",
  ]);

  it.each([
    ['in winter (GMT)', '2026-01-15T21:30:00Z', '2026-01-15T22:30:00Z', '2026-01-16T07:00:00Z'],
    ['in summer (BST)', '2026-07-15T20:30:00Z', '2026-07-15T21:30:00Z', '2026-07-16T06:00:00Z'],
    [
      'on the night the clocks go forward',
      '2026-03-28T21:30:00Z',
      '2026-03-28T22:30:00Z',
      '2026-03-29T06:00:00Z',
    ],
    [
      'on the night the clocks go back',
      '2026-10-24T20:30:00Z',
      '2026-10-24T22:30:00Z',
      '2026-10-25T07:00:00Z',
    ],
  ])(
    'holds reminders and new warnings from 22:00 to 07:00 London time %s',
    async (_, beforeIso, nightIso, morningIso) => {
      const h = harness(quietConfig);
      const before = Date.parse(beforeIso);
      const night = Date.parse(nightIso);
      const morning = Date.parse(morningIso);
      h.set([daHigh('DA-000-0000001', before - 5 * HOUR)]); // a warning, reminded hourly
      const evening = await h.run(before);
      h.set([
        daHigh('DA-000-0000001', before - 5 * HOUR),
        daHigh('DA-000-0000002', night - 4 * HOUR - 60_000),
      ]);

      const atNight = await h.run(night);
      const lateNight = await h.run(morning - 60_000);
      const atSeven = await h.run(morning);

      expect(to(SUPERVISOR, evening.messages).map((m) => m.trigger)).toEqual(['new-warning']);
      expect(to(SUPERVISOR, atNight.messages)).toEqual([]);
      expect(to(SUPERVISOR, lateNight.messages)).toEqual([]);
      expect(to(SUPERVISOR, atSeven.messages).map((m) => [m.trigger, m.caseRefs])).toEqual([
        ['new-warning', ['DA-000-0000001', 'DA-000-0000002']],
      ]);
    },
  );

  it('holds resolved lines alone too, so nothing carries a waiting new warning into the night', async () => {
    const h = harness(quietConfig);
    const evening = Date.parse('2026-01-15T21:30:00Z');
    const night = Date.parse('2026-01-16T02:00:00Z'); // four and a half hours after the last message
    const morning = Date.parse('2026-01-16T07:00:00Z');
    h.set([daHigh('DA-000-0000001', evening - 5 * HOUR)]);
    await h.run(evening);
    // The first case moves on; a second reaches warning in the night.
    h.set([daHigh('DA-000-0000002', night - 5 * HOUR)]);

    const atNight = await h.run(night);
    const atSeven = await h.run(morning);

    expect(to(SUPERVISOR, atNight.messages)).toEqual([]);
    expect(to(SUPERVISOR, atSeven.messages).map((m) => [m.trigger, m.caseRefs, m.resolved])).toEqual([
      ['new-warning', ['DA-000-0000002'], ['DA-000-0000001']],
    ]);
  });

  it('still sends a new breach at night at once', async () => {
    const h = harness(quietConfig);
    const night = Date.parse('2026-01-15T23:30:00Z');
    h.set([daHigh('DA-000-0000001', night - 24 * HOUR)]);

    const result = await h.run(night);

    expect(to(SUPERVISOR, result.messages).map((m) => m.trigger)).toEqual(['new-breach']);
  });
});

describe('the SMS budget', () => {
  const tight = configWith(['maxPerRun: 20', 'maxPerRun: 5']);

  it('serves new escalations first, then takes places in turns, never in name order', async () => {
    const h = harness(tight);
    // D01 has three escalations and a breach; D02..D10 one new breach each; D09 an escalation.
    h.set([
      daHigh('DA-001-0000001', T0 - 50 * HOUR, 'D01'),
      daHigh('DA-009-0000001', T0 - 49 * HOUR, 'D09'),
      ...['D02', 'D03', 'D04', 'D05', 'D06', 'D07', 'D08', 'D10'].map((d, i) =>
        daHigh(`DA-0${d.slice(1)}-000000${i}`, T0 - (30 + i) * HOUR, d),
      ),
    ]);

    const result = await h.run(T0);

    const withSms = result.messages.filter((m) => m.kind === 'alert');
    expect(withSms).toHaveLength(5);
    // The escalations (supervisor, duty inspector, MARAC coordinator at D01 and D09) come first,
    // the two places taking turns.
    expect(withSms.map((m) => m.trigger)).toEqual(Array(5).fill('new-escalation'));
    expect(
      new Set(withSms.map((m) => m.place.replace('la-northgate', 'D01').replace('la-stonebridge', 'D09'))),
    ).toEqual(new Set(['D01', 'D09']));
    // Every breach went by email, and their phones were told.
    const summaries = result.messages.filter((m) => m.kind === 'summary');
    expect(summaries.flatMap((m) => m.groups)).toEqual(
      expect.arrayContaining(['district-supervisor@D02', 'district-supervisor@D10']),
    );
    expect(result.smsStarved.length).toBeGreaterThan(0);
  });

  it("tells each phone past the budget in a summary carrying the levels of its own group's alert, and no other", async () => {
    const h = harness(tight);
    // Escalations at D01 and D09 (their places get the SMS first), breaches everywhere else, and a
    // warning alone at D05: past the budget, groups whose alerts carry different levels.
    h.set([
      daHigh('DA-001-0000001', T0 - 50 * HOUR, 'D01'),
      daHigh('DA-009-0000001', T0 - 49 * HOUR, 'D09'),
      ...['D02', 'D03', 'D04', 'D06', 'D07', 'D08', 'D10'].map((d, i) =>
        daHigh(`DA-0${d.slice(1)}-000000${i}`, T0 - (30 + i) * HOUR, d),
      ),
      daHigh('DA-005-0000001', T0 - 5 * HOUR, 'D05'),
    ]);

    const result = await h.run(T0);

    const summaries = result.messages.filter((m) => m.kind === 'summary');
    const levelsOfGroup = new Map(
      result.messages.filter((m) => m.kind !== 'summary').flatMap((m) => m.groups.map((g) => [g, m.levels])),
    );
    // One summary per set of levels, each to exactly the starved groups whose alert had those levels.
    expect(summaries.length).toBeGreaterThan(1);
    expect(new Set(summaries.map((m) => m.levels.join(','))).size).toBe(summaries.length);
    for (const summary of summaries) {
      for (const group of summary.groups)
        expect([group, levelsOfGroup.get(group)]).toEqual([group, summary.levels]);
    }
    expect(summaries.flatMap((m) => m.groups).sort()).toEqual([...result.smsStarved].sort());
    // Each leads with the highest level its alerts carried.
    for (const summary of summaries) {
      const top = (['escalation', 'breach', 'warning'] as const).find((l) => summary.levels.includes(l));
      expect(summary.sms).toMatch(new RegExp(`^QW ${top?.toUpperCase()} alert went by email only`));
    }
    expect(result.failures).toEqual([]);
  });

  it('gives every place with a new breach its SMS before any place gets a second, when the budget allows', async () => {
    const budget = configWith(['maxPerRun: 20', 'maxPerRun: 10']);
    const h = harness(budget);
    const districts = ['D01', 'D02', 'D03', 'D04', 'D05', 'D06', 'D07', 'D08', 'D09', 'D10'];
    h.set(districts.map((d, i) => daHigh(`DA-0${d.slice(1)}-000000${i}`, T0 - 30 * HOUR, d)));

    const result = await h.run(T0);

    const supervisorsWithSms = result.messages.filter(
      (m) => m.kind === 'alert' && m.audience === 'district-supervisor',
    );
    expect(supervisorsWithSms.map((m) => m.place).sort()).toEqual(districts);
  });

  it('never sends an SMS to one group twice in a run, nor a summary to a group that had its SMS', async () => {
    const h = harness(tight);
    h.set(
      Array.from({ length: 40 }, (_, i) =>
        daHigh(`DA-000-${String(i).padStart(7, '0')}`, T0 - (20 + i) * HOUR, `D0${(i % 9) + 1}`),
      ),
    );

    const result = await h.run(T0);

    const smsGroups = result.messages.filter((m) => m.sms).flatMap((m) => m.groups);
    expect(new Set(smsGroups).size).toBe(smsGroups.length);
  });
});

describe('SMS by level (smsFor)', () => {
  it('sends a warning to an audience that takes warnings by email only by email, without a summary SMS', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 5 * HOUR)]); // a warning: supervisor (SMS) and MARAC (email only)

    const result = await h.run(T0);

    expect(to('marac-coordinator@la-northgate', result.messages).map((m) => m.kind)).toEqual(['email-only']);
    expect(to(SUPERVISOR, result.messages).map((m) => m.kind)).toEqual(['alert']);
    expect(result.messages.filter((m) => m.kind === 'summary')).toEqual([]);
    expect(result.smsStarved).toEqual([]);
  });

  it('keeps the SMS reminder of a waiting escalation on its interval when an email-only warning lists it', async () => {
    const MARAC = 'marac-coordinator@la-northgate'; // escalations by SMS every 8 hours; warnings by email
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 48 * HOUR)]); // reaches escalation at T0 (09:00)
    const atEscalation = await h.run(T0);
    h.set([daHigh('DA-000-0000001', T0 - 48 * HOUR), daHigh('DA-000-0000002', T0 - 3 * HOUR)]);

    const atWarning = await h.run(T0 + HOUR); // the second case reaches warning
    const before = await h.run(T0 + 8 * HOUR - 5 * 60_000);
    const reminder = await h.run(T0 + 8 * HOUR);

    expect(to(MARAC, atEscalation.messages).map((m) => [m.trigger, m.kind])).toEqual([
      ['new-escalation', 'alert'],
    ]);
    expect(to(MARAC, atWarning.messages).map((m) => [m.trigger, m.kind, m.levels])).toEqual([
      ['new-warning', 'email-only', ['warning', 'escalation']],
    ]);
    expect(to(MARAC, before.messages)).toEqual([]);
    expect(to(MARAC, reminder.messages).map((m) => [m.trigger, m.kind])).toEqual([
      ['repeat-escalation', 'alert'],
    ]);
    // The supervisor's warning went by SMS, listing the escalation: its reminder counts from then.
    expect(to(SUPERVISOR, atWarning.messages).map((m) => [m.trigger, m.kind])).toEqual([
      ['new-warning', 'alert'],
    ]);
    expect(to(SUPERVISOR, reminder.messages)).toEqual([]);
  });

  it('sends resolved lines alone by email without holding back the SMS reminder of what still waits', async () => {
    const MARAC = 'marac-coordinator@la-northgate';
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 48 * HOUR), daHigh('DA-000-0000002', T0 - 48 * HOUR - 60_000)]);
    await h.run(T0); // both reach escalation at 09:00: an SMS, then reminders every 8 hours
    h.set([daHigh('DA-000-0000001', T0 - 48 * HOUR)]); // the other moves on
    await h.run(T0 + HOUR);

    const resolvedAlone = await h.run(T0 + 4 * HOUR);
    const reminder = await h.run(T0 + 8 * HOUR);

    expect(to(MARAC, resolvedAlone.messages).map((m) => [m.trigger, m.kind, m.resolved])).toEqual([
      ['resolved-only', 'email-only', ['DA-000-0000002']],
    ]);
    expect(to(MARAC, reminder.messages).map((m) => [m.trigger, m.kind, m.caseRefs])).toEqual([
      ['repeat-escalation', 'alert', ['DA-000-0000001']],
    ]);
  });
});

describe('acknowledgements together', () => {
  it('keep each level paused until the later of two acknowledgements, whichever is pressed first', async () => {
    const ledger = new MemoryLedger();
    const key = { audience: 'district-supervisor', place: 'D01' };
    const newer = { ...key, asOf: T0 + HOUR, at: T0 + 2 * HOUR, until: { escalation: T0 + 6 * HOUR } };
    const older = {
      ...key,
      asOf: T0,
      at: T0 + 3 * HOUR,
      until: { breach: T0 + 11 * HOUR, escalation: T0 + 4 * HOUR },
    };

    await ledger.acknowledge(newer);
    await ledger.acknowledge(older);

    expect(ledger.acks.get('acks/district-supervisor/D01')).toEqual({
      ...key,
      asOf: T0 + HOUR,
      at: T0 + 3 * HOUR,
      until: { breach: T0 + 11 * HOUR, escalation: T0 + 6 * HOUR },
    });
  });
});

describe('a case moving district', () => {
  it('is news only where the move makes it new: resolved for the old district, new for the new one, neither for the force', async () => {
    const h = harness();
    const stale = daHigh('DA-000-0000001', T0 - 30 * 24 * HOUR); // 30 days: the ceiling's escalation
    h.set([stale]);
    await h.run(T0);
    h.set([{ ...stale, district: 'D02' }]);

    const moved = await h.run(T0 + 5 * 60_000);
    const later = await h.run(T0 + 4 * HOUR + 10 * 60_000);

    // The senior officer (the whole force) heard of it before: no news, no resolved line.
    expect(to('senior-officer@force', moved.messages)).toEqual([]);
    expect(to('district-supervisor@D02', moved.messages).map((m) => [m.trigger, m.caseRefs])).toEqual([
      ['new-escalation', ['DA-000-0000001']],
    ]);
    // D01's supervisor is told it no longer waits there (by email, after four quiet hours).
    expect(to(SUPERVISOR, later.messages).map((m) => [m.kind, m.resolved])).toEqual([
      ['email-only', ['DA-000-0000001']],
    ]);
    expect(h.ledger.casesOf('senior-officer')).toEqual(['DA-000-0000001']);
  });
});

describe('the disclosure thread', () => {
  /** What the log gives items of their own, per group, for the messages sent at `at`. */
  const itemsAt = (h: ReturnType<typeof harness>, at: number) =>
    Object.fromEntries(
      h.audit.entries
        .filter((e) => e.sentAt === iso(at) && e.thread)
        .map((e) => [e.thread?.id, [...(e.thread?.itemised ?? [])].sort()]),
    );

  it('itemises news where the thread starts, not the reminders after, nor a move within the place', async () => {
    // The senior officer (the whole force) reminded of escalations, so a reminder lists the moved case.
    const h = harness(configWith(['escalation: never }\n  ops:', 'escalation: 4h }\n  ops:']));
    const stale = daHigh('DA-000-0000001', T0 - 30 * 24 * HOUR); // escalation (the ceiling)
    h.set([stale, daHigh('DA-000-0000002', T0 - 30 * 24 * HOUR)]);
    await h.run(T0);
    h.set([{ ...stale, district: 'D02' }, daHigh('DA-000-0000002', T0 - 30 * 24 * HOUR)]);
    await h.run(T0 + 5 * 60_000);
    await h.run(T0 + 8 * HOUR + 10 * 60_000);

    expect(itemsAt(h, T0)[SUPERVISOR]).toEqual(['DA-000-0000001', 'DA-000-0000002']);
    expect(itemsAt(h, T0)['senior-officer@force']).toEqual(['DA-000-0000001', 'DA-000-0000002']);
    // The move: news at D02's places (its district and local authority), none for the force.
    expect(itemsAt(h, T0 + 5 * 60_000)).toEqual({
      'director-childrens-services@la-eastmoor': ['DA-000-0000001'],
      'district-supervisor@D02': ['DA-000-0000001'],
      'duty-inspector@D02': ['DA-000-0000001'],
      'marac-coordinator@la-eastmoor': ['DA-000-0000001'],
    });
    // Eight hours on: reminders list both cases again (the senior officer the moved one too); no
    // item for either.
    const reminders = h.audit.entries.filter((e) => e.sentAt === iso(T0 + 8 * HOUR + 10 * 60_000));
    expect(reminders.find((e) => e.thread?.id === 'senior-officer@force')?.caseRefs).toEqual([
      'DA-000-0000001',
      'DA-000-0000002',
    ]);
    expect(reminders.flatMap((e) => e.thread?.itemised ?? [])).toEqual([]);
    // The group's first recorded message began its thread.
    expect(h.ledger.groups.get(`groups/district-supervisor/D01`)?.threadSince).toBe(T0);
  });

  it('itemises a case notified before its group thread began each time it is listed', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * 24 * HOUR)]);
    await h.run(T0);
    // As the first release left it: no thread begun.
    for (const state of h.ledger.groups.values()) delete state.threadSince;

    await h.run(T0 + 4 * HOUR);
    await h.run(T0 + 8 * HOUR);

    expect(itemsAt(h, T0 + 4 * HOUR)[SUPERVISOR]).toEqual(['DA-000-0000001']);
    expect(itemsAt(h, T0 + 8 * HOUR)[SUPERVISOR]).toEqual(['DA-000-0000001']);
    expect(h.ledger.groups.get(`groups/district-supervisor/D01`)?.threadSince).toBe(T0 + 4 * HOUR);
  });

  it('does not begin the thread of a group whose message was not recorded', async () => {
    const h = harness();
    h.set([daHigh('DA-000-0000001', T0 - 30 * 24 * HOUR)]);
    const ledger = h.ledger;
    const writeShard = ledger.writeShard.bind(ledger);
    ledger.writeShard = async () => false;
    await h.run(T0);
    ledger.writeShard = writeShard;

    expect(ledger.groups.get(`groups/district-supervisor/D01`)?.threadSince).toBeUndefined();
  });
});

describe('the ledger a run leaves', () => {
  it('counts the ledger entries a run leaves behind, so the next run knows how big the ledger is', async () => {
    const h = harness();
    const held = () => [...h.ledger.shards.values()].reduce((n, shard) => n + shard.cases.size, 0);
    const cases = Array.from({ length: 12 }, (_, i) =>
      daHigh(`DA-000-${String(i).padStart(7, '0')}`, T0 - 25 * HOUR, 'D01'),
    );
    h.set(cases);

    const first = await h.run(T0);
    expect(first.ledgerEntries).toBe(0);
    expect(first.ledgerEntriesAfter).toBe(held());
    expect(first.ledgerEntriesAfter).toBeGreaterThan(cases.length);

    // Four cases move on (their entries go with the news), two new ones breach (theirs come).
    h.set([
      ...cases.slice(4),
      daHigh('DA-000-0000100', T0 - 30 * HOUR),
      daHigh('DA-000-0000101', T0 - 30 * HOUR),
    ]);
    const second = await h.run(T0 + 5 * 60_000);
    expect(second.ledgerEntries).toBe(first.ledgerEntriesAfter);
    expect(second.ledgerEntriesAfter).toBe(held());
    expect(second.ledgerEntriesAfter).toBeLessThan(second.ledgerEntries);
  });
});

describe('a publish whose outcome is unknown', () => {
  /** A publisher whose call for one group gets no answer (a time-out, a dropped connection), after
   * SNS may have taken the message, or is refused by SNS outright. */
  const unanswered = (group: string, error: Error, accepted: OutgoingMessage[]) => ({
    async publish(message: OutgoingMessage) {
      accepted.push(message);
      if (message.groups.includes(group)) throw error;
      return `id-${accepted.length}`;
    },
  });
  const timedOut = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
  const refused = () =>
    Object.assign(new Error('refused'), {
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400 },
    });

  it('logs a message that got no answer as possibly sent, keeps it due, and tells ops it may have gone', async () => {
    const ledger = new MemoryLedger();
    const audit = new MemoryAuditLog();
    const items = [daHigh('DA-000-0000001', T0 - 25 * HOUR), daHigh('DA-000-0000002', T0 - 25 * HOUR, 'D02')];
    const source: OpenCaseSource = {
      shards: () => [ALL_SHARDS],
      async *pages() {
        yield items;
      },
    };
    const accepted: OutgoingMessage[] = [];
    const input = { config, source, ledger, audit, retry: { attempts: 1, baseDelayMs: 0 } };

    const result = await runScan({
      ...input,
      nowMs: T0,
      runId: 'lost-answer',
      publisher: unanswered(SUPERVISOR, timedOut(), accepted),
    });

    expect(accepted.filter((m) => m.groups.includes(SUPERVISOR))).toHaveLength(1);
    const logged = audit.entries.filter((e) => e.audience === 'district-supervisor' && e.district === 'D01');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      messageId: `unconfirmed-lost-answer-${SUPERVISOR}`,
      caseRefs: ['DA-000-0000001'],
      reason: expect.stringMatching(/^possibly sent/),
    });
    expect(logged[0]?.thread).toBeUndefined();
    const failure = result.failures.find((f) => f.group === SUPERVISOR);
    expect(failure).toMatchObject({ stage: 'publish', error: 'TimeoutError' });
    expect(failure?.consequence).toMatch(/may have been sent/);
    // Its neighbours went as usual; it stays due and the next run sends it.
    expect(to('district-supervisor@D02', result.messages)).toHaveLength(1);
    const next = await runScan({
      ...input,
      nowMs: T0 + 60_000,
      runId: 'next',
      publisher: new CallbackPublisher(),
    });
    expect(to(SUPERVISOR, next.messages).map((m) => m.newCaseRefs)).toEqual([['DA-000-0000001']]);
  });

  it('logs nothing for a message SNS refused: it was not sent', async () => {
    const h = harness();
    const audit = new MemoryAuditLog();
    const accepted: OutgoingMessage[] = [];
    const result = await runScan({
      config,
      nowMs: T0,
      runId: 'refused',
      source: {
        shards: () => [ALL_SHARDS],
        async *pages() {
          yield [daHigh('DA-000-0000001', T0 - 25 * HOUR)];
        },
      },
      ledger: h.ledger,
      publisher: unanswered(SUPERVISOR, refused(), accepted),
      audit,
      retry: { attempts: 1, baseDelayMs: 0 },
    });

    expect(audit.entries.filter((e) => e.audience === 'district-supervisor' && e.district === 'D01')).toEqual(
      [],
    );
    expect(result.failures.find((f) => f.group === SUPERVISOR)?.consequence).toMatch(/^not sent/);
  });
});

describe('a summary SMS whose publish gets no answer', () => {
  it('is logged as possibly sent', async () => {
    const tight = configWith(['maxPerRun: 20', 'maxPerRun: 1']);
    const audit = new MemoryAuditLog();
    const result = await runScan({
      config: tight,
      nowMs: T0,
      runId: 'summary-lost',
      source: {
        shards: () => [ALL_SHARDS],
        async *pages() {
          yield [
            daHigh('DA-001-0000001', T0 - 30 * HOUR, 'D01'),
            daHigh('DA-002-0000001', T0 - 30 * HOUR, 'D02'),
          ];
        },
      },
      ledger: new MemoryLedger(),
      publisher: {
        async publish(message: OutgoingMessage) {
          if (message.kind === 'summary')
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
          return `id-${message.groups.join()}`;
        },
      },
      audit,
      retry: { attempts: 1, baseDelayMs: 0 },
    });

    expect(result.failures.map((f) => f.stage)).toEqual(['summary']);
    const summaries = audit.entries.filter((e) => e.kind === 'summary');
    expect(summaries).toEqual([
      expect.objectContaining({
        messageId: expect.stringMatching(/^unconfirmed-summary-lost-/),
        reason: expect.stringMatching(/^possibly sent/),
      }),
    ]);
  });
});
