// The signals run with in-memory adapters: learning, quiet on normal flow, raised on each kind of
// fall to the right audiences, repeated on a cadence, cleared with one recovery line, every message
// in the disclosure log and fitting one SMS segment; a stopped district and a stopped feed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFlowStore } from '#shared/adapters/memory-flow.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { MemorySignalStates } from '#shared/adapters/signal-state.ts';
import { describeStatuses } from '#shared/cli/signals-command.ts';
import { DAY_MS, epochDay, londonLocalToUtc } from '#shared/domain/calendar.ts';
import { fitsOneSegment } from '#shared/domain/notify.ts';
import type { OutgoingMessage, Publisher } from '#shared/scan/ports.ts';
import { judgeDaily, judgeFlowStopped, type ProfileCache } from '#shared/signals/evaluate.ts';
import { renderSignal } from '#shared/signals/messages.ts';
import {
  readHistory,
  runSignals,
  type SignalsMode,
  type SignalsResult,
} from '#shared/signals/run-signals.ts';
import { configWith, defaultConfig } from '#test/support/fixtures.ts';
import { NORMAL_DAY, synthesiseFlow } from '#test/support/flow-traffic.ts';

const config = defaultConfig();
const DISTRICTS = Object.keys(config.file.districts);
const START = epochDay('2026-08-03'); // a Monday
const at = (day: number, hour: number) => londonLocalToUtc(day * DAY_MS + hour * 3_600_000);

function harness() {
  const flow = new MemoryFlowStore();
  const states = new MemorySignalStates();
  const audit = new MemoryAuditLog();
  const published: OutgoingMessage[] = [];
  const publisher = new CallbackPublisher((m) => published.push(m));
  const profiles: ProfileCache = new Map();
  const run = (nowMs: number, mode: SignalsMode, over: { publisher?: Publisher } = {}) =>
    runSignals({
      config,
      nowMs,
      runId: `test-${nowMs}`,
      mode,
      flow,
      states,
      publisher: over.publisher ?? publisher,
      audit,
      profiles,
    });
  return { flow, states, audit, published, run };
}

// Each test replays weeks of flow and fits decision limits by simulation: seconds, not milliseconds.
describe('the signals run', { timeout: 60_000 }, () => {
  it('says plainly that every signal is learning when there is no flow yet, and sends nothing', async () => {
    const h = harness();
    const result = await h.run(at(START, 7), 'all');
    expect(result.sent).toEqual([]);
    expect(result.learning.map((l) => l.signal)).toEqual(
      expect.arrayContaining([
        'referrals',
        'high-risk-da-referrals',
        'child-referrals',
        'flow-stopped',
        'feed-stopped',
      ]),
    );
    expect(result.learning).toHaveLength(4 * DISTRICTS.length + 1);
  });

  it('stays quiet on normal flow, then raises a district’s child referrals falling to 28% to the director', async () => {
    const h = harness();
    const goLive = START + 63;
    await synthesiseFlow(h.flow, {
      districts: DISTRICTS,
      fromDay: START,
      toDay: goLive + 20,
      seed: 1,
      nowMs: at(goLive + 21, 7),
      plan: (district, day) =>
        district === 'D07' && day >= goLive ? { ...NORMAL_DAY, childShare: 0.28 } : NORMAL_DAY,
    });
    const quiet = await h.run(at(goLive, 7), 'daily');
    expect(quiet.sent).toEqual([]);
    expect(quiet.learning).toEqual([]);
    expect(quiet.statuses.every((s) => s.state === 'normal')).toBe(true);

    let raisedOn: number | undefined;
    for (let day = goLive + 1; day <= goLive + 20 && raisedOn === undefined; day++) {
      const result = await h.run(at(day, 7), 'daily');
      if (result.sent.length > 0) {
        raisedOn = day;
        expect(result.sent.map((s) => `${s.event} ${s.signal} ${s.district}`)).toEqual([
          'raised child-referrals D07',
        ]);
        const [sent] = result.sent;
        expect(sent?.audiences).toEqual([
          'district-supervisor',
          'director-childrens-services',
          'mash-manager',
        ]);
        expect(sent?.level).toBe('escalation');
        expect(sent?.sms).toMatch(
          /^QW SIGNAL D07 Millbrook: child referrals \d+ of \d+ \(\d+%\) in 7 days, normal \d+%\. (Low since \d+ \w+\. )?https:\/\/qw\.example\.police\.uk\/q$/,
        );
        expect(fitsOneSegment(sent?.sms as string)).toBe(true);
        expect(sent?.email.subject).toBe('[queuewatch] SIGNAL: child referrals low in D07 Millbrook');
        expect(sent?.email.body).toMatch(/district counts only/);
        expect(sent?.email.body).not.toMatch(/SY-D07-/);
      }
    }
    expect(raisedOn).toBeDefined();
    expect((raisedOn as number) - goLive).toBeLessThanOrEqual(10);
    // Published with the attributes filter policies route on, and logged as a disclosure.
    const message = h.published.at(-1) as OutgoingMessage;
    expect(message).toMatchObject({
      kind: 'alert',
      groups: [
        'district-supervisor@D07',
        'director-childrens-services@la-millbrook',
        'mash-manager@la-millbrook',
      ],
      audience: ['district-supervisor', 'director-childrens-services', 'mash-manager'],
      district: 'D07',
      localAuthority: 'la-millbrook',
      level: ['escalation'],
    });
    expect(h.audit.entries.at(-1)).toMatchObject({
      caseRefs: [],
      reason: 'signal child-referrals raised in D07',
      district: 'D07',
    });
  });

  it('sends a raised signal again on its cadence, not every run, and once more when it clears', async () => {
    const h = harness();
    const fall = START + 63;
    const back = fall + 12;
    await synthesiseFlow(h.flow, {
      districts: ['D03'],
      fromDay: START,
      toDay: back + 30,
      seed: 2,
      nowMs: at(back + 31, 7),
      plan: (_, day) =>
        day >= fall && day < back ? { ...NORMAL_DAY, highRiskReferrals: 0, otherReferrals: 2 } : NORMAL_DAY,
    });
    const events: string[] = [];
    for (let day = fall; day <= back + 30; day++) {
      for (const hour of [7, 13]) {
        const result = await h.run(at(day, hour), 'daily');
        for (const s of result.sent) events.push(`${day - fall}@${hour} ${s.event} ${s.signal}`);
      }
    }
    const raised = events.filter((e) => e.includes(' raised '));
    expect(raised.map((e) => e.split(' ').slice(1).join(' ')).sort()).toEqual([
      'raised high-risk-da-referrals',
      'raised referrals',
    ]);
    // Repeated once a day (at the first run 24 hours on), never at the 13:00 run.
    const repeats = events.filter((e) => e.includes(' repeat high-risk-da-referrals'));
    expect(repeats.length).toBeGreaterThanOrEqual(5);
    expect(repeats.every((e) => e.includes('@7 '))).toBe(true);
    // Cleared once each, after the counts came back.
    const cleared = events.filter((e) => e.includes(' cleared '));
    expect(cleared.map((e) => e.split(' ').slice(1).join(' ')).sort()).toEqual([
      'cleared high-risk-da-referrals',
      'cleared referrals',
    ]);
    for (const e of cleared) expect(Number(e.split('@')[0])).toBeGreaterThanOrEqual(12);
    expect(h.published.every((m) => fitsOneSegment(m.sms as string))).toBe(true);
    expect(h.published.filter((m) => (m.sms as string).startsWith('QW CLEARED'))).toHaveLength(2);
  });

  it('repeats a raised rate each morning across the spring clock change (the 06:30 run comes 23 hours after the last)', async () => {
    const h = harness();
    const from = epochDay('2026-01-05'); // a Monday
    const fall = from + 63; // Monday 9 March
    const change = epochDay('2026-03-29');
    await synthesiseFlow(h.flow, {
      districts: ['D03'],
      fromDay: from,
      toDay: change + 2,
      seed: 2,
      nowMs: at(change + 3, 7),
      plan: (_, day) =>
        day >= fall ? { ...NORMAL_DAY, highRiskReferrals: 0, otherReferrals: 2 } : NORMAL_DAY,
    });
    const sentOn = new Map<number, string[]>();
    for (let day = fall; day <= change + 2; day++) {
      const result = await h.run(at(day, 6.5), 'daily');
      sentOn.set(
        day,
        result.sent.map((s) => `${s.event} ${s.signal}`),
      );
    }
    // Raised well before the change, then sent every morning: the one after the change too.
    expect([...sentOn.values()].flat()).toContain('raised high-risk-da-referrals');
    for (const day of [change - 1, change, change + 1]) {
      expect(sentOn.get(day), `day ${day - change} from the change`).toContain(
        'repeat high-risk-da-referrals',
      );
    }
  });

  it('raises a district whose flow stops within a check of its normal quiet spell, and the whole feed', async () => {
    const h = harness();
    const day = START + 56 + 1; // a Tuesday after eight weeks
    await synthesiseFlow(h.flow, {
      districts: DISTRICTS,
      fromDay: START,
      toDay: day,
      seed: 3,
      nowMs: at(day, 23),
      plan: (district, d) =>
        district === 'D04' && d === day ? { ...NORMAL_DAY, stopAtHour: 9 } : NORMAL_DAY,
    });
    let raisedAt: number | undefined;
    for (let t = at(day, 9); t <= at(day, 20) && raisedAt === undefined; t += 15 * 60_000) {
      const result = await h.run(t, 'flow');
      const d04 = result.statuses.find((s) => s.district === 'D04');
      if (d04?.kind === 'flow-stopped' && d04.deadline)
        expect(t - Date.parse(d04.deadline)).toBeLessThan(15 * 60_000);
      if (result.sent.some((s) => s.district === 'D04')) raisedAt = t;
      expect(result.sent.filter((s) => s.district !== 'D04')).toEqual([]);
    }
    expect(raisedAt).toBeDefined();
    const [last] = h.published.slice(-1);
    expect(last?.sms).toMatch(
      /^QW SIGNAL D04 Westbrook: no case movements since \w{3} \d\d:\d\d \(\d+h( \d+m)?\); normally ~\d+ by now\./,
    );
    expect(last?.audience).toEqual(['district-supervisor', 'ops']);
  });

  it('says once that the whole feed has stopped, not once for every district', async () => {
    const h = harness();
    const day = START + 56 + 2; // a Wednesday
    await synthesiseFlow(h.flow, {
      districts: DISTRICTS,
      fromDay: START,
      toDay: day,
      seed: 4,
      nowMs: at(day, 23),
      plan: (_, d) => (d === day ? { ...NORMAL_DAY, stopAtHour: 10 } : NORMAL_DAY),
    });
    const sent: string[] = [];
    for (let t = at(day, 10); t <= at(day, 18); t += 15 * 60_000) {
      for (const s of (await h.run(t, 'flow')).sent) sent.push(`${s.event} ${s.signal} ${s.district ?? '*'}`);
    }
    expect(sent[0]).toBe('raised feed-stopped *');
    expect(sent.filter((s) => s.includes('flow-stopped'))).toEqual([]);
    const feed = h.published[0] as OutgoingMessage;
    expect(feed.sms).toMatch(/^QW SIGNAL All districts: no case movements since .*The feed may be down\./);
    expect(feed.district).toEqual(DISTRICTS);
    expect(feed.audience).toEqual(['ops', 'senior-officer']);
    expect(feed.groups).toEqual(['ops@force', 'senior-officer@force']);
    expect(fitsOneSegment(feed.sms as string)).toBe(true);
  });

  it('keeps a signal due when its message fails to publish, and sends it on the next run', async () => {
    const h = harness();
    const fall = START + 63;
    await synthesiseFlow(h.flow, {
      districts: ['D07'],
      fromDay: START,
      toDay: fall + 15,
      seed: 5,
      nowMs: at(fall + 16, 7),
      plan: (_, day) => (day >= fall ? { ...NORMAL_DAY, childShare: 0.1 } : NORMAL_DAY),
    });
    const failing: Publisher = {
      publish: async () => {
        throw Object.assign(new Error('throttled'), { name: 'ThrottledException' });
      },
    };
    const failed = await h.run(at(fall + 15, 7), 'daily', { publisher: failing });
    expect(failed.failed).toEqual([
      { signal: 'child-referrals', district: 'D07', step: 'publish', error: 'ThrottledException' },
    ]);
    // Its claim released as it was: not raised, and free for the next run.
    expect([...h.states.states.values()].map(({ raised, claim }) => ({ raised, claim }))).toEqual([
      { raised: false, claim: undefined },
    ]);
    const retried = await h.run(at(fall + 15, 7) + 60_000, 'daily');
    expect(retried.sent.map((s) => s.event)).toEqual(['raised']);
  });
});

describe('a flow stopped for good', { timeout: 120_000 }, () => {
  it('stays raised, never a false "case movements again", and dates a transition weeks old', async () => {
    const h = harness();
    const stop = START + 63; // a Monday
    await synthesiseFlow(h.flow, {
      districts: ['D04', 'D05'],
      fromDay: START,
      toDay: stop + 55,
      seed: 3,
      nowMs: at(stop + 56, 7),
      plan: (district, day) =>
        district === 'D04' && day >= stop ? { ...NORMAL_DAY, stopAtHour: 0 } : NORMAL_DAY,
    });
    const events: string[] = [];
    let last: SignalsResult | undefined;
    for (let day = stop; day <= stop + 55; day++) {
      last = await h.run(at(day, 12), 'flow');
      for (const s of last.sent) if (s.district === 'D04') events.push(`${day - stop} ${s.event} ${s.sms}`);
    }
    const stopped = last?.statuses.find((s) => s.kind === 'flow-stopped' && s.district === 'D04');

    // The profile has learnt the dead weeks: judged too sparse now, not normal ...
    expect(stopped?.state).toBe('sparse');
    // ... and so never cleared: raised once, then repeated while it was judged raised.
    expect(events.filter((e) => / (raised|cleared) /.test(e)).map((e) => e.split(' ')[1])).toEqual([
      'raised',
    ]);
    expect(events.some((e) => e.includes('case movements again'))).toBe(false);
    // A repeat a week on names the last movement's date, not a weekday that reads as this week's.
    const weekOn = events.find((e) => Number(e.split(' ')[0]) >= 7 && e.includes(' repeat '));
    expect(weekOn).toMatch(/no case movements since \d{1,2} (Sep|Oct) \d\d:\d\d \(/);
  });
});

describe('signal messages', () => {
  // The longest labels and district names a valid config allows.
  const long = configWith(
    ['label: child referrals', 'label: child referrals to childrens s'],
    ['label: high-risk DA referrals', 'label: high-risk DA referrals to MA'],
    ['D07: { name: Millbrook,', 'D07: { name: Millbrook-upon-the-Stour,'],
  );

  it('fits one SMS segment, whatever the numbers, and says what was seen and what is normal (property)', () => {
    const statuses = fc.oneof(
      fc.record({
        kind: fc.constant('rate' as const),
        signal: fc.constantFrom('referrals', 'high-risk-da-referrals'),
        district: fc.constantFrom(...DISTRICTS),
        state: fc.constant('raised' as const),
        observed: fc.integer({ min: 0, max: 99_999 }),
        expected: fc.double({ min: 0, max: 99_999, noNaN: true }),
        days: fc.integer({ min: 1, max: 7 }),
        fallSince: fc.constantFrom('2026-11-19', '2026-09-30'),
      }),
      fc.record({
        kind: fc.constant('proportion' as const),
        signal: fc.constant('child-referrals'),
        district: fc.constantFrom(...DISTRICTS),
        state: fc.constant('raised' as const),
        successes: fc.integer({ min: 0, max: 9_999 }),
        trials: fc.integer({ min: 0, max: 9_999 }),
        days: fc.integer({ min: 1, max: 7 }),
        normal: fc.double({ min: 0.02, max: 0.98, noNaN: true }),
        against: fc.constantFrom('own' as const, 'floor' as const),
      }),
      fc.record({
        kind: fc.constantFrom('flow-stopped' as const, 'feed-stopped' as const),
        signal: fc.constant('flow-stopped'),
        district: fc.constantFrom(...DISTRICTS),
        state: fc.constant('raised' as const),
        last: fc.integer({ min: 0, max: 40 * DAY_MS }).map((ms) => new Date(at(START, 7) - ms).toISOString()),
        expected: fc.double({ min: 0, max: 9_999, noNaN: true }),
      }),
    );
    fc.assert(
      fc.property(
        statuses,
        fc.constantFrom('raised' as const, 'repeat' as const, 'cleared' as const),
        (status, event) => {
          for (const c of [config, long]) {
            const { sms, email } = renderSignal(status, event, c, at(START, 7));
            expect(fitsOneSegment(sms), sms).toBe(true);
            expect(sms).toMatch(event === 'cleared' ? /^QW CLEARED / : /^QW SIGNAL /);
            expect(email.subject.length).toBeLessThan(100);
            if (status.kind === 'proportion' && event !== 'cleared')
              expect(sms).toMatch(/(normal|floor) \d+%/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('signals status', { timeout: 60_000 }, () => {
  /** Ten weeks of D07's flow (its child referrals falling to 10% from `childFallFrom`, if given),
   * and D01's, whose flow began ten days before the end. */
  async function d07AndNewD01(options: { childFallFrom?: number } = {}) {
    const h = harness();
    const fallFrom = options.childFallFrom;
    await synthesiseFlow(h.flow, {
      districts: ['D07'],
      fromDay: START,
      toDay: START + 70,
      seed: 8,
      nowMs: at(START + 71, 7),
      ...(fallFrom !== undefined
        ? {
            plan: (_: string, day: number) =>
              day >= fallFrom ? { ...NORMAL_DAY, childShare: 0.1 } : NORMAL_DAY,
          }
        : {}),
    });
    await synthesiseFlow(h.flow, {
      districts: ['D01'],
      fromDay: START + 60,
      toDay: START + 70,
      seed: 9,
      nowMs: at(START + 71, 7),
    });
    return h;
  }

  it('says plainly which signals are learning and until when, and what is raised and why', async () => {
    const h = await d07AndNewD01({ childFallFrom: START + 63 });
    const { statuses } = await h.run(at(START + 71, 7), 'all');
    const lines = describeStatuses(config, statuses);
    expect(lines.find((l) => l.startsWith('D01'))).toMatch(
      /^D01 Northgate +referrals learning until 2026-10-30 · high-risk DA referrals learning until 2026-10-30 · child referrals normal \(\d+ of \d+ \(\d+%\) in 7 days, floor 60%; its own normal learning until 2026-10-30\) · case movements learning until 2026-10-30$/,
    );
    expect(lines.find((l) => l.startsWith('D07'))).toMatch(
      /child referrals RAISED \(\d+ of \d+ \(\d+%\) in 7 days, normal \d+%\)/,
    );
    expect(lines.find((l) => l.startsWith('D02'))).toMatch(/referrals learning \(no flow yet\)/);
    expect(lines.at(-1)).toMatch(/^whole feed +case movements (normal|RAISED)/);
  });

  it('as of a past instant, judges the flow up to it: no later transition, no district whose flow began later', async () => {
    const h = await d07AndNewD01();
    const asOf = at(START + 50, 12);
    const view = async (display: boolean) => {
      const { history } = await readHistory({ config, nowMs: asOf, mode: 'all', flow: h.flow }, { display });
      const lines = describeStatuses(config, [
        ...judgeDaily(config, history),
        ...judgeFlowStopped(config, history, asOf),
      ]);
      return { history, lines };
    };
    const past = await view(true);
    const latest = past.history.last.get('D07') as string;
    expect(Date.parse(latest)).toBeLessThanOrEqual(asOf);
    // The latest transition up to the instant, not merely one before it.
    const upTo = [...h.flow.transitions.values()].filter(
      (t) => t.district === 'D07' && Date.parse(t.at) <= asOf,
    );
    expect(Date.parse(latest)).toBe(Math.max(...upTo.map((t) => Date.parse(t.at))));
    expect(past.lines.find((l) => l.startsWith('D07'))).toContain(
      `case movements normal (latest ${latest.slice(0, 16).replace('T', ' ')} UTC)`,
    );
    expect(past.history.last.has('D01')).toBe(false);
    expect(past.lines.find((l) => l.startsWith('D01'))).toMatch(/referrals learning \(no flow yet\)/);
    // The scheduled run's read keeps the stored pointers as they are (its instant is now).
    const run = await view(false);
    expect(Date.parse(run.history.last.get('D07') as string)).toBeGreaterThan(asOf);
  });
});
