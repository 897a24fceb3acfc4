// The signals function's handler when a step fails for some series: each series on its own, a sent
// message always recorded (in the disclosure log, or in full in the function's log), ops told, the
// run failed once everything else has settled, and nothing sent twice for want of a log write.

import { describe, expect, it, vi } from 'vitest';
import { MemoryFlowStore } from '#shared/adapters/memory-flow.ts';
import { MemoryAuditLog, MemoryOpsNotifier, MemoryStateStore } from '#shared/adapters/memory-sinks.ts';
import { MemorySignalStates } from '#shared/adapters/signal-state.ts';
import { DAY_MS, epochDay, londonLocalToUtc } from '#shared/domain/calendar.ts';
import { metrics } from '#shared/lambda/observability.ts';
import type { AuditEntry, OutgoingMessage } from '#shared/scan/ports.ts';
import { createSignalsHandler, type SignalsDeps } from '#shared/signals/handler.ts';
import type { SignalState, SignalStateStore } from '#shared/signals/ports.ts';
import type { SignalsResult } from '#shared/signals/run-signals.ts';
import { defaultConfig } from '#test/support/fixtures.ts';
import { NORMAL_DAY, synthesiseFlow } from '#test/support/flow-traffic.ts';

const config = defaultConfig();
const START = epochDay('2026-08-03'); // a Monday
const LAST = START + 70;
const at = (day: number, hour: number) =>
  new Date(londonLocalToUtc(day * DAY_MS + hour * 3_600_000)).toISOString();
const fail = (name: string) => Object.assign(new Error('said: +447700900999'), { name });
const NO_WAIT = { attempts: 2, baseDelayMs: 0 };

/** Flow in D01 and D02 stops at 09:00 on the last day; D03 flows on. */
async function stoppedFlow() {
  const flow = new MemoryFlowStore();
  await synthesiseFlow(flow, {
    districts: ['D01', 'D02', 'D03'],
    fromDay: START,
    toDay: LAST,
    seed: 3,
    nowMs: londonLocalToUtc(START * DAY_MS),
    plan: (district, day) =>
      day === LAST && district !== 'D03' ? { ...NORMAL_DAY, stopAtHour: 9 } : NORMAL_DAY,
  });
  return flow;
}

function harness(flow: MemoryFlowStore) {
  const published: OutgoingMessage[] = [];
  const audit = new MemoryAuditLog();
  const failing = {
    audit: new Set<string>(),
    state: new Set<string>(),
    publish: new Set<string>(),
    daily: false,
  };
  const states = new MemorySignalStates();
  const ops = new MemoryOpsNotifier();
  const districtOf = (m: OutgoingMessage) => String(m.district);
  const deps: SignalsDeps = {
    config: async () => ({ config, source: 'default' }),
    flow,
    states: {
      load: (names) => states.load(names),
      claim: (name, read, claim) => states.claim(name, read, claim),
      release: async (name: string, state: SignalState, claimedVersion: number) => {
        if ([...failing.state].some((d) => name.includes(d)))
          throw fail('ProvisionedThroughputExceededException');
        return states.release(name, state, claimedVersion);
      },
      dailyCompleted: () => states.dailyCompleted(),
      completeDaily: async (day: string) => {
        if (failing.daily) throw fail('ProvisionedThroughputExceededException');
        await states.completeDaily(day);
      },
    },
    publisher: {
      publish: async (m) => {
        if (failing.publish.has(districtOf(m))) throw fail('ThrottledException');
        published.push(m);
        return `msg-${published.length}`;
      },
    },
    audit: {
      record: async (entry: AuditEntry) => {
        if (failing.audit.has(String(entry.district))) throw fail('ProvisionedThroughputExceededException');
        await audit.record(entry);
      },
    },
    ops,
    retry: NO_WAIT,
    signalsAt: '06:30',
  };
  return { deps, published, audit, failing, ops, handler: createSignalsHandler(deps) };
}

async function run(h: ReturnType<typeof harness>, when: string, id: string) {
  try {
    return { result: await h.handler({ mode: 'flow', at: when }, { awsRequestId: id }) };
  } catch (error) {
    return { error: error as Error };
  }
}

const flowStoppedIn = (published: OutgoingMessage[]) => published.map((m) => String(m.district)).sort();

describe('the signals handler, when a step fails', { timeout: 60_000 }, () => {
  it('a disclosure log that fails for one district: both alerts go, the one not logged is kept in full, ops told, and nothing is sent again', async () => {
    const h = harness(await stoppedFlow());
    h.failing.audit.add('D01');

    const first = await run(h, at(LAST, 17), 'run-1');

    expect(first.error?.name).toBe('SignalsDeliveryError');
    expect(flowStoppedIn(h.published)).toEqual(['D01', 'D02']);
    expect(h.audit.entries.map((e) => e.district)).toEqual(['D02']);
    expect(h.ops.messages).toHaveLength(1);
    expect(h.ops.messages[0]?.subject).toBe('1 signal step failed');
    expect(h.ops.messages[0]?.text).toMatch(
      /message msg-\d \(signal flow-stopped raised in D01\): sent, but not in the disclosure log/,
    );
    // The error's kind only: nothing an SDK message said.
    expect(JSON.stringify(h.ops.messages)).not.toContain('+447700900999');

    // Healed half an hour later: neither is sent again (both were sent, and their states saved).
    h.failing.audit.clear();
    const second = await run(h, at(LAST, 17.5), 'run-2');
    expect(second.error).toBeUndefined();
    expect(h.published).toHaveLength(2);
  });

  it('a publish that fails for one district leaves it due; a state that cannot be saved is said to be sent again; the rest go', async () => {
    const h = harness(await stoppedFlow());
    h.failing.publish.add('D01');
    h.failing.state.add('D02');

    const first = await run(h, at(LAST, 17), 'run-1');

    expect(first.error?.name).toBe('SignalsDeliveryError');
    expect(flowStoppedIn(h.published)).toEqual(['D02']);
    expect(h.audit.entries.map((e) => e.district)).toEqual(['D02']);
    expect(h.ops.messages[0]?.text).toContain(
      'flow-stopped in D01: not sent; it stays due and the next run sends it (ThrottledException)',
    );
    expect(h.ops.messages[0]?.text).toContain(
      'flow-stopped in D02: sent and logged, but its state was not saved: the next run sends it again (ProvisionedThroughputExceededException)',
    );

    h.failing.publish.clear();
    h.failing.state.clear();
    const second = await run(h, at(LAST, 17.5), 'run-2');
    expect(second.error).toBeUndefined();
    expect(flowStoppedIn(h.published)).toEqual(['D01', 'D02', 'D02']);
    expect((second.result as SignalsResult).failed).toEqual([]);
  });

  it('a series another run holds is left to it until its claim lapses, then sent (a run that died holding it)', async () => {
    const h = harness(await stoppedFlow());
    const states = h.deps.states as { claim: SignalStateStore['claim'] };
    await states.claim(
      'flow-stopped#D01',
      { raised: false },
      {
        runId: 'died',
        leaseUntil: Date.parse(at(LAST, 17)) + 5 * 60_000,
      },
    );
    const first = await run(h, at(LAST, 17), 'run-1');
    expect(first.error).toBeUndefined();
    expect(flowStoppedIn(h.published)).toEqual(['D02']);
    const second = await run(h, at(LAST, 17.25), 'run-2');
    expect(second.error).toBeUndefined();
    expect(flowStoppedIn(h.published)).toEqual(['D01', 'D02']);
    expect(second.result?.sent.map((s) => `${s.event} ${s.district}`)).toEqual(['raised D01']);
  });

  it('refuses, at cold start, a signalsAt that is not a London time, naming it', async () => {
    const h = harness(await stoppedFlow());

    expect(() => createSignalsHandler({ ...h.deps, signalsAt: '6:30' })).toThrow(
      'signalsAt (SIGNALS_AT) is not a London time like 06:30: 6:30',
    );
  });

  it('tells ops of a failure that lasts when it changes and hourly, not at every check', async () => {
    const h = harness(await stoppedFlow());
    const told = new MemoryStateStore();
    h.deps.told = told;
    h.failing.publish.add('D01');
    h.failing.publish.add('D02');
    const subjects = async (hour: number) => {
      const before = h.ops.messages.length;
      const { error } = await run(h, at(LAST, hour), `run-${hour}`);
      return { failed: error?.name, told: h.ops.messages.slice(before).map((m) => m.subject) };
    };
    const failing = (told: string[]) => ({ failed: 'SignalsDeliveryError', told });

    // Every check fails (and so raises its alarm); ops hear it once, then hourly.
    expect(await subjects(17)).toEqual(failing(['2 signal steps failed']));
    expect(await subjects(17.25)).toEqual(failing([]));
    expect(await subjects(17.5)).toEqual(failing([]));
    expect(await subjects(18)).toEqual(failing(['2 signal steps failed']));
    // What fails changes: told at once.
    h.failing.publish.delete('D02');
    expect(await subjects(18.25)).toEqual(failing(['1 signal step failed']));
    // Healed: nothing to tell, and remembered as such, so that the next failure is told at once.
    h.failing.publish.clear();
    expect(await subjects(18.5)).toEqual({ failed: undefined, told: [] });
    expect((await told.get('signals-ops-reports'))?.failures).toMatchObject({ fingerprint: '' });
  });

  it('a report to ops that cannot be sent is counted for its alarm, and the run still fails as it should', async () => {
    const h = harness(await stoppedFlow());
    h.failing.publish.add('D01');
    h.deps.ops = new MemoryOpsNotifier(() => {
      throw fail('KMSDisabledException');
    });
    const counted = vi.spyOn(metrics, 'addMetric');
    try {
      const first = await run(h, at(LAST, 17), 'run-1');
      expect(first.error?.name).toBe('SignalsDeliveryError');
      expect(counted).toHaveBeenCalledWith('OpsReportFailures', 'Count', 1);
    } finally {
      counted.mockRestore();
    }
  });

  it('a district whose flow cannot be read is not judged this run, and stops no other; ops told; judged next run', async () => {
    const h = harness(await stoppedFlow());
    const days = h.deps.flow.days.bind(h.deps.flow);
    let failing = true;
    h.deps.flow.days = async (district, ...rest) => {
      if (failing && district === 'D01') throw fail('ProvisionedThroughputExceededException');
      return days(district, ...rest);
    };
    const handler = createSignalsHandler(h.deps);
    const first = await handler({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'run-1' }).catch(
      (error: Error) => error,
    );
    expect((first as Error).name).toBe('SignalsDeliveryError');
    expect(flowStoppedIn(h.published)).toEqual(['D02']);
    expect(h.ops.messages[0]?.text).toContain(
      'flow-stopped in D01: not judged this run; the next run judges it again (ProvisionedThroughputExceededException)',
    );
    expect(JSON.stringify(h.ops.messages)).not.toContain('+447700900999');

    // Healed: D01 is judged (not taken as learning for the rest of the day) and sent.
    failing = false;
    const second = await handler({ mode: 'flow', at: at(LAST, 17.25) }, { awsRequestId: 'run-2' });
    expect(second.sent.map((s) => `${s.event} ${s.signal} ${s.district}`)).toEqual([
      'raised flow-stopped D01',
    ]);
  });

  it('a flow that cannot be read fails the run with the error kind only', async () => {
    const h = harness(await stoppedFlow());
    h.deps.flow.lastTransitions = async () => {
      throw fail('ResourceNotFoundException');
    };
    const handler = createSignalsHandler(h.deps);
    await expect(handler({ mode: 'flow', at: at(LAST, 17) }, { awsRequestId: 'r' })).rejects.toThrow(
      /^signals run failed before judging: ResourceNotFoundException$/,
    );
    expect(h.published).toEqual([]);
  });
});

describe('a morning whose rates and shares did not all go', { timeout: 120_000 }, () => {
  const FALL = START + 63;
  const DAY = FALL + 15;
  /** D07's child referrals fall to 10% from FALL: raised by DAY's morning. */
  async function fallingShare() {
    const flow = new MemoryFlowStore();
    await synthesiseFlow(flow, {
      districts: ['D07'],
      fromDay: START,
      toDay: DAY,
      seed: 5,
      nowMs: londonLocalToUtc(START * DAY_MS),
      plan: (_, day) => (day >= FALL ? { ...NORMAL_DAY, childShare: 0.1 } : NORMAL_DAY),
    });
    return flow;
  }
  const sentOf = (r: SignalsResult | undefined) => r?.sent.map((s) => `${s.event} ${s.signal} ${s.district}`);
  const heartbeats = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls.filter((c) => c[0] === 'DailySignalsHeartbeat').length;

  it('is retried by the next check for stopped flow, sent once, and its heartbeat says when it completed', async () => {
    const h = harness(await fallingShare());
    h.failing.publish.add('D07');
    const counted = vi.spyOn(metrics, 'addMetric');
    try {
      const morning = await h
        .handler({ mode: 'daily', at: at(DAY, 6.5) }, { awsRequestId: 'morning' })
        .catch((error: Error) => error);
      expect((morning as Error).name).toBe('SignalsDeliveryError');
      expect(h.published).toEqual([]);
      expect(h.ops.messages[0]?.text).toContain(
        'child-referrals in D07: not sent; it stays due and the next run sends it (ThrottledException)',
      );
      expect(h.ops.messages[0]?.text).toContain(
        "Today's rates and shares are judged again at each check for stopped flow (from 06:30 London time, until the day ends) until every one has gone.",
      );
      expect(heartbeats(counted)).toBe(0);

      h.failing.publish.clear();
      const check = await h.handler({ mode: 'flow', at: at(DAY, 6.75) }, { awsRequestId: 'check-1' });
      expect(check.mode).toBe('all');
      expect(sentOf(check)).toEqual(['raised child-referrals D07']);
      expect(heartbeats(counted)).toBe(1);

      // Completed, and recorded: the next checks judge stopped flow only, and send nothing again.
      const later = await h.handler({ mode: 'flow', at: at(DAY, 7) }, { awsRequestId: 'check-2' });
      expect(later.mode).toBe('flow');
      expect(h.published).toHaveLength(1);
      expect(heartbeats(counted)).toBe(1);
    } finally {
      counted.mockRestore();
    }
  });

  it('a morning run that failed outright is made by the first check after its time, never before it', async () => {
    const h = harness(await fallingShare());
    const since = h.deps.flow.since.bind(h.deps.flow);
    h.deps.flow.since = async () => {
      throw fail('RequestTimeout');
    };
    await expect(h.handler({ mode: 'daily', at: at(DAY, 6.5) }, { awsRequestId: 'morning' })).rejects.toThrow(
      /signals run failed before judging/,
    );
    h.deps.flow.since = since;

    const check = await h.handler({ mode: 'flow', at: at(DAY, 6.75) }, { awsRequestId: 'check-1' });
    expect(check.mode).toBe('all');
    expect(sentOf(check)).toEqual(['raised child-referrals D07']);

    // The next day, before its morning time, a check leaves the rates and shares to the morning.
    const early = await h.handler({ mode: 'flow', at: at(DAY + 1, 6.25) }, { awsRequestId: 'check-2' });
    expect(early.mode).toBe('flow');
    // A morning run that never came: the first check after 06:30 makes it.
    const missed = await h.handler({ mode: 'flow', at: at(DAY + 1, 6.75) }, { awsRequestId: 'check-3' });
    expect(missed.mode).toBe('all');
    expect(missed.failed).toEqual([]);
  });

  it('a completed morning that cannot be recorded is reported, and judged again by the next check sending nothing twice', async () => {
    const h = harness(await fallingShare());
    h.failing.daily = true;
    const morning = await h
      .handler({ mode: 'daily', at: at(DAY, 6.5) }, { awsRequestId: 'morning' })
      .catch((error: Error) => error);
    expect((morning as Error).name).toBe('SignalsDeliveryError');
    expect(h.published).toHaveLength(1);
    expect(h.ops.messages[0]?.text).toContain(
      "today's rates and shares: judged and sent, but that could not be recorded: the next check judges them again, sending nothing twice (ProvisionedThroughputExceededException)",
    );
    h.failing.daily = false;
    const check = await h.handler({ mode: 'flow', at: at(DAY, 6.75) }, { awsRequestId: 'check-1' });
    expect(check.mode).toBe('all');
    expect(check.sent).toEqual([]);
    expect(h.published).toHaveLength(1);
    const later = await h.handler({ mode: 'flow', at: at(DAY, 7) }, { awsRequestId: 'check-2' });
    expect(later.mode).toBe('flow');
  });
});
