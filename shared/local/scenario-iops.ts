// `queuewatch local --scenario iops`: an iOPS-like timeline replayed in fast-forward on an embedded
// DynamoDB (dynalite), through the real functions. A synthetic force's cases flow for weeks (the
// first weeks loaded as past flow with the history import, the rest sent as feed messages through
// the ingest function); then a new system goes live and, as in the inspection, things that should
// happen stop happening: one district's child referrals fall to 28%, high-risk domestic abuse
// referrals halve in three districts, unassessed cases pile up, and one district's feed stops for a
// day. The scan runs on its schedule, the signals function each morning and every 15 minutes, and
// the run prints when each failure was first raised and to whom, and how many messages each
// audience received. Synthetic data only.

import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { CallbackPublisher, MemoryOpsNotifier } from '../adapters/memory-sinks.ts';
import { DynamoOpenCaseSource } from '../adapters/mirror-reader.ts';
import { MirrorWriter } from '../adapters/mirror-writer.ts';
import { DynamoSignalStates } from '../adapters/signal-state.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { DAY_MS, epochDay, isoDateOfEpochDay, londonLocalToUtc } from '../domain/calendar.ts';
import type { CaseRecord, RiskLevel } from '../domain/case.ts';
import { londonDayAndHour, type Transition, transitionOf } from '../domain/flow.ts';
import { byCodeUnit } from '../domain/order.ts';
import { createRandom, type Random } from '../domain/silence/random.ts';
import { weekdayOf } from '../domain/silence/series.ts';
import { withObservability } from '../lambda/observability.ts';
import { createScanHandler } from '../scan/handler.ts';
import type { OutgoingMessage } from '../scan/ports.ts';
import type { ScanResult } from '../scan/run-scan.ts';
import { bankHolidays } from '../signals/evaluate.ts';
import { createSignalsHandler } from '../signals/handler.ts';
import type { SignalsResult } from '../signals/run-signals.ts';
import { ingestSqsBatch } from '../wiring/sqs-batch.ts';
import { createTables, startDynalite } from './embedded-dynamo.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

export interface IopsOptions {
  config: CompiledConfig;
  /** The day the history starts (London date; default 2026-09-05, a Saturday: with the defaults the
   * feed starts on a Saturday and the new system goes live on a Monday). */
  start?: string;
  /** Weeks of past flow loaded with the history import (default 8). */
  historyWeeks?: number;
  /** Days of live feed before go-live (default 2) and after it (default 18). */
  beforeGoLiveDays?: number;
  afterGoLiveDays?: number;
  /** Districts whose cases flow (default: every district in the config). */
  districts?: readonly string[];
  /** Minutes between scans (default 120) and between checks for stopped flow (default 15). */
  scanEveryMinutes?: number;
  flowEveryMinutes?: number;
  seed?: number;
  write: (line: string) => void;
}

export interface IopsFailure {
  /** What went wrong, and when (London time, and ms). */
  what: string;
  startedAt: string;
  startedAtMs: number;
  /** The signal that should raise it (or `scan` for the backlog's ageing alerts). */
  signal: string;
  district?: string;
  firstRaisedAt?: string;
  firstRaisedAtMs?: number;
  audiences?: readonly string[];
  /** The first message's SMS. */
  sms?: string;
}

export interface IopsSummary {
  goLive: string;
  failures: IopsFailure[];
  /** Messages each audience received: ageing alerts (the scan) and signals. */
  byAudience: Record<string, { ageing: number; signals: number }>;
  history: { transitions: number };
  feed: { messages: number; late: number; replayed: number; countedAgainOnReplay: number };
  /** Open cases at go-live and at the end, and cases since go-live never assessed. */
  open: { atGoLive: number; atEnd: number; neverAssessed: number };
  wallSeconds: number;
}

interface SourceEvent {
  atMs: number;
  changeType: 'created' | 'stage-changed' | 'closed';
  record: CaseRecord;
}

interface Effects {
  goLiveMs: number;
  /** Districts whose high-risk domestic abuse cases half stay unassessed after go-live. */
  halved: ReadonlySet<string>;
  /** The district whose child-involved cases are referred at 28% after go-live. */
  childShareDistrict: string;
}

/** A synthetic source system: each case's life (arrival, risk assessment, referral or closure, then
 * closure after referral) planned when it arrives, its changes queued by time. */
export class Source {
  private readonly random: Random;
  private readonly queue = new Map<number, SourceEvent[]>();
  private created = 0;
  readonly stuck = new Set<string>();

  constructor(
    private readonly districts: readonly string[],
    private readonly effects: Effects,
    private readonly holiday: (day: number) => boolean,
    seed: number,
  ) {
    this.random = createRandom(seed);
  }

  private push(event: SourceEvent): void {
    const slot = Math.floor(event.atMs / (15 * MINUTE));
    const list = this.queue.get(slot);
    if (list) list.push(event);
    else this.queue.set(slot, [event]);
  }

  /** Events in the 15-minute slots from `fromMs` (inclusive) to `toMs` (exclusive), in time order. */
  take(fromMs: number, toMs: number): SourceEvent[] {
    const out: SourceEvent[] = [];
    for (let slot = Math.floor(fromMs / (15 * MINUTE)); slot < Math.floor(toMs / (15 * MINUTE)); slot++) {
      const list = this.queue.get(slot);
      if (!list) continue;
      this.queue.delete(slot);
      out.push(...list);
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  /** Plans the cases arriving on a London day. */
  arrive(day: number): void {
    const quiet = weekdayOf(day) >= 5 || this.holiday(day) ? 0.6 : 1;
    // A district's weekday: about 15 new cases, a third of them involving children.
    const mix: Array<[string, RiskLevel, number, boolean | undefined]> = [
      ['domestic-abuse', 'high', 6, undefined],
      ['domestic-abuse', 'medium', 3, undefined],
      ['domestic-abuse', 'standard', 3, undefined],
      ['child-protection', 'medium', 3, true],
    ];
    for (const district of this.districts) {
      for (const [category, riskLevel, perDay, children] of mix) {
        for (let i = this.random.poisson(perDay * quiet); i > 0; i--) {
          const hour =
            this.random.uniform() < 0.8 ? 8 + this.random.uniform() * 11 : this.random.uniform() * 24;
          const atMs = londonLocalToUtc(day * DAY_MS + Math.floor(hour * HOUR));
          this.plan(district, category, riskLevel, children ?? this.random.uniform() < 0.3, atMs);
        }
      }
    }
  }

  private plan(
    district: string,
    category: string,
    riskLevel: RiskLevel,
    childrenInvolved: boolean,
    atMs: number,
  ) {
    this.created += 1;
    const prefix = category === 'domestic-abuse' ? 'DA' : 'CP';
    const record: CaseRecord = {
      caseRef: `${prefix}-${district.slice(1).padStart(3, '0')}-${String(this.created).padStart(7, '0')}`,
      category,
      riskLevel,
      district,
      stage: 'awaiting-risk-assessment',
      stageEnteredAt: new Date(atMs).toISOString(),
      childrenInvolved,
      sourceUpdatedAt: new Date(atMs).toISOString(),
    };
    this.push({ atMs, changeType: 'created', record });
    const after = atMs >= this.effects.goLiveMs;
    // After go-live some cases are never assessed: the backlog the scan's ageing alerts are for.
    const stuckShare = !after
      ? 0
      : riskLevel === 'high' && category === 'domestic-abuse' && this.effects.halved.has(district)
        ? 0.5
        : riskLevel === 'high'
          ? 0
          : 0.1;
    if (this.random.uniform() < stuckShare) {
      this.stuck.add(record.caseRef);
      return;
    }
    // Most cases are assessed within their warning limit; the scan's alerts are for the stuck ones.
    const assessHours =
      riskLevel === 'high'
        ? 1 + this.random.uniform() * 5
        : riskLevel === 'medium'
          ? 4 + this.random.uniform() * 16
          : 12 + this.random.uniform() * 48;
    const assessed = atMs + Math.floor(assessHours * HOUR);
    const childShare = after && district === this.effects.childShareDistrict ? 0.28 : 0.8;
    const referShare = childrenInvolved
      ? childShare
      : category === 'domestic-abuse'
        ? riskLevel === 'high'
          ? 1
          : riskLevel === 'medium'
            ? 0.45
            : 0.1
        : 0.5;
    const referred = this.random.uniform() < referShare;
    const next: CaseRecord = {
      ...record,
      stage: referred ? 'referred' : 'closed',
      stageEnteredAt: new Date(assessed).toISOString(),
      sourceUpdatedAt: new Date(assessed).toISOString(),
    };
    this.push({ atMs: assessed, changeType: referred ? 'stage-changed' : 'closed', record: next });
    if (!referred) return;
    // The receiving agency takes it on within hours (its decision is not flow this replay counts).
    const closedAt = assessed + Math.floor((1 + this.random.uniform() * 2.5) * HOUR);
    this.push({
      atMs: closedAt,
      changeType: 'closed',
      record: {
        ...next,
        stage: 'closed',
        stageEnteredAt: new Date(closedAt).toISOString(),
        sourceUpdatedAt: new Date(closedAt).toISOString(),
      },
    });
  }
}

const londonClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
/** "2026-11-02 07:00", London time. */
const fmt = (ms: number) => {
  const p = Object.fromEntries(londonClock.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
};
const lambdaContext = (id: string) =>
  ({ awsRequestId: id }) as Parameters<ReturnType<typeof withObservability>>[1];
const audiencesOf = (m: OutgoingMessage) =>
  typeof m.audience === 'string' ? [m.audience] : [...new Set(m.audience)];

export async function runIopsScenario(options: IopsOptions): Promise<IopsSummary> {
  const { config, write } = options;
  const wallStart = performance.now();
  const districts = options.districts ?? Object.keys(config.file.districts);
  const startDay = epochDay(options.start ?? '2026-09-05');
  const historyDays = (options.historyWeeks ?? 8) * 7;
  const liveDay = startDay + historyDays;
  const goLiveDay = liveDay + (options.beforeGoLiveDays ?? 2);
  const endDay = goLiveDay + (options.afterGoLiveDays ?? 18);
  const at = (day: number, hour = 0) => londonLocalToUtc(day * DAY_MS + hour * HOUR);
  const goLiveMs = at(goLiveDay);
  const pick = (wanted: string[]) => wanted.filter((d) => districts.includes(d));
  const halved = new Set(pick(['D02', 'D05', 'D09']));
  const childShareDistrict = pick(['D07'])[0] ?? (districts[0] as string);
  const outageDistrict = pick(['D04'])[0] ?? (districts[1] as string);
  // A Tuesday morning in the second week after go-live, for a day.
  const outageDay = goLiveDay + 8;
  const outage = { from: at(outageDay, 8), to: at(outageDay + 1, 8) };
  // Every two simulated hours (every five minutes in production): a replay of weeks stays quick, and
  // escalations, which repeat hourly, are sent at most every two hours here.
  const scanEvery = (options.scanEveryMinutes ?? 120) * MINUTE;
  const flowEvery = (options.flowEveryMinutes ?? 15) * MINUTE;

  const failures: IopsFailure[] = [
    {
      what: `${childShareDistrict} child referrals fall to 28%`,
      startedAt: fmt(goLiveMs),
      startedAtMs: goLiveMs,
      signal: 'child-referrals',
      district: childShareDistrict,
    },
    ...[...halved].map((d) => ({
      what: `${d} high-risk DA referrals halve`,
      startedAt: fmt(goLiveMs),
      startedAtMs: goLiveMs,
      signal: 'high-risk-da-referrals',
      district: d,
    })),
    {
      what: `${outageDistrict} feed stops for a day`,
      startedAt: fmt(outage.from),
      startedAtMs: outage.from,
      signal: 'flow-stopped',
      district: outageDistrict,
    },
    {
      what: 'unassessed cases pile up (ageing alerts)',
      startedAt: fmt(goLiveMs),
      startedAtMs: goLiveMs,
      signal: 'scan',
    },
  ];
  const byAudience: IopsSummary['byAudience'] = {};
  const tally = (m: OutgoingMessage, kind: 'ageing' | 'signals') => {
    for (const a of audiencesOf(m)) {
      byAudience[a] ??= { ageing: 0, signals: 0 };
      (byAudience[a] as { ageing: number; signals: number })[kind] += 1;
    }
  };

  // On a worker thread: its CPU runs beside the functions' rather than in turns with them.
  const dynamo = await startDynalite({ thread: true });
  try {
    const tables = await createTables(dynamo.client, 'local');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const flow = new DynamoFlowStore(doc, tables.flow);
    const writer = new MirrorWriter(doc, tables.mirror, flow);
    const ops = new MemoryOpsNotifier((subject) => write(`  ! ops: ${subject}`));
    const state = new DynamoStateStore(doc, tables.state);
    const audit = new DynamoAuditLog(doc, tables.audit);
    const configInForce = async () => ({ config, source: 'default' as const });
    let simNow = at(liveDay);

    // The scan reads the time from its clock (the simulated one), as simulate.ts runs it.
    const scan = withObservability(
      createScanHandler(
        {
          config: configInForce,
          source: new DynamoOpenCaseSource(doc, tables.mirror),
          ledger: new DynamoLedger(doc, tables.ledger),
          publisher: new CallbackPublisher((m) => tally(m, 'ageing')),
          audit,
          ops,
          state,
        },
        { clock: () => simNow },
      ),
    );
    const signalMessages: OutgoingMessage[] = [];
    const signals = withObservability(
      createSignalsHandler({
        config: configInForce,
        flow,
        states: new DynamoSignalStates(doc, tables.state),
        publisher: new CallbackPublisher((m) => {
          signalMessages.push(m);
          tally(m, 'signals');
        }),
        audit,
        ops,
        signalsAt: '07:00',
      }),
    );

    write(
      `iOPS-like replay on an embedded DynamoDB (dynalite): ${districts.length} districts, ${historyDays / 7} weeks of past flow, then ${endDay - liveDay} days of live feed through the real ingest, scan (every ${scanEvery / MINUTE} min) and signals (07:00 daily, every ${flowEvery / MINUTE} min for stopped flow) functions; times are London time`,
    );
    const holiday = bankHolidays(config);
    const source = new Source(
      districts,
      { goLiveMs, halved, childShareDistrict },
      holiday,
      options.seed ?? 1,
    );

    // 1. History: the first weeks' transitions, loaded as an export of past flow would be.
    const latest = new Map<string, CaseRecord>();
    let historyTransitions = 0;
    let batch: Transition[] = [];
    for (let day = startDay; day < liveDay; day++) {
      source.arrive(day);
      for (const event of source.take(at(day), at(day + 1))) {
        const t = transitionOf(latest.get(event.record.caseRef), event.record, event.atMs);
        latest.set(event.record.caseRef, event.record);
        if (t) batch.push(t);
      }
      if (batch.length > 2000 || day === liveDay - 1) {
        await flow.recordHistory(batch, at(liveDay));
        historyTransitions += batch.length;
        batch = [];
      }
    }
    write(
      `  ${isoDateOfEpochDay(startDay)} to ${isoDateOfEpochDay(liveDay - 1)}: ${historyTransitions} transitions loaded as past flow (queuewatch flow import)`,
    );
    // The mirror as the feed leaves it at the switch: every case still moving, and the open ones.
    let seeded = 0;
    for (const record of latest.values()) {
      if (record.stage === 'closed') continue;
      await writer.apply({ record }, at(liveDay));
      seeded += 1;
    }
    write(`  ${isoDateOfEpochDay(liveDay)}: the feed starts; ${seeded} open cases in the mirror`);
    write(
      `  ${isoDateOfEpochDay(goLiveDay)}: GO-LIVE of the new system. From here: ${childShareDistrict} child referrals fall to 28%; high-risk DA referrals halve in ${[...halved].join(', ')}; unassessed cases pile up; on ${isoDateOfEpochDay(outageDay)} ${outageDistrict}'s feed stops from 08:00 for a day`,
    );
    write('');

    // 2. Live: the feed, the scan and the signals on their schedules, in 15-minute steps.
    let feedMessages = 0;
    let messageId = 0;
    const held: SourceEvent[] = [];
    const replay = { late: 0, replayed: 0, changed: 0 };
    let openAtGoLive: number | undefined;
    let open = 0;
    const toRecord = (e: SourceEvent): SQSRecord => ({
      messageId: `feed-${messageId++}`,
      receiptHandle: 'local',
      body: JSON.stringify({ changeType: e.changeType, case: e.record }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(e.atMs),
        SenderId: 'source',
        ApproximateFirstReceiveTimestamp: String(e.atMs),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-2:000000000000:queuewatch-local-ingest',
      awsRegion: 'eu-west-2',
    });
    const ingest = async (events: SourceEvent[], nowMs: number) => {
      for (let i = 0; i < events.length; i += 25) {
        const result = await ingestSqsBatch(
          { Records: events.slice(i, i + 25).map(toRecord) },
          {
            mirror: writer,
            rejects: { record: async () => {} },
            state: { recordIngest: async () => {} },
            ops,
            vocabulary: config.vocabulary,
            logger: { info: () => {}, warn: () => {}, error: (m) => write(`  ! ingest: ${m}`) },
            metrics: { addMetric: () => {} },
          },
          nowMs,
        );
        feedMessages += result.summary.received;
        for (const r of result.summary.rejected) write(`  ! the feed rejected a message: ${r.code}`);
      }
    };
    const failureFor = (signal: string, district?: string) =>
      failures.find((f) => f.signal === signal && f.district === district && f.firstRaisedAt === undefined);
    const onSignals = (result: SignalsResult) => {
      for (const s of result.sent) {
        const tag = s.event === 'cleared' ? 'CLEARED' : s.event === 'repeat' ? 'again' : 'RAISED';
        if (s.event !== 'repeat') {
          write(
            `[${fmt(simNow)}] signal ${tag} ${s.signal}${s.district ? ` ${s.district}` : ''} -> ${s.audiences.join(', ')}`,
          );
          write(`    ${s.sms}`);
        }
        const failure = s.event === 'raised' ? failureFor(s.signal, s.district) : undefined;
        if (failure && simNow >= failure.startedAtMs) {
          failure.firstRaisedAt = fmt(simNow);
          failure.firstRaisedAtMs = simNow;
          failure.audiences = s.audiences;
          failure.sms = s.sms;
        }
      }
    };
    const onScan = (result: ScanResult) => {
      const backlog = failures.find((f) => f.signal === 'scan');
      const escalation = result.messages.find((m) => m.levels.includes('escalation') && m.kind !== 'summary');
      if (backlog && !backlog.firstRaisedAt && simNow >= goLiveMs && escalation) {
        // The first escalation of a case that arrived after go-live and was never assessed.
        const late = result.messages.filter(
          (m) => m.levels.includes('escalation') && m.caseRefs.some((ref) => source.stuck.has(ref)),
        );
        if (late.length > 0) {
          backlog.firstRaisedAt = fmt(simNow);
          backlog.firstRaisedAtMs = simNow;
          backlog.audiences = [...new Set(late.map((m) => m.audience))].sort();
          backlog.sms = late[0]?.sms?.split('\n')[0];
        }
      }
    };

    let lastScan = Number.NEGATIVE_INFINITY;
    let step = 0;
    const spent = { ingest: 0, scan: 0, signals: 0 };
    const timed = async <T>(part: keyof typeof spent, fn: () => Promise<T>): Promise<T> => {
      const begun = performance.now();
      try {
        return await fn();
      } finally {
        spent[part] += performance.now() - begun;
      }
    };
    for (let t = at(liveDay); t < at(endDay); t += flowEvery, step++) {
      simNow = t;
      const { day, hour } = londonDayAndHour(t);
      if (hour === 0 && t % HOUR < flowEvery) source.arrive(day);
      const due = source.take(t - flowEvery, t);
      const now: SourceEvent[] = [];
      for (const e of due) {
        if (e.record.district === outageDistrict && e.atMs >= outage.from && e.atMs < outage.to) held.push(e);
        else now.push(e);
      }
      await timed('ingest', () => ingest(now, t));
      if (held.length > 0 && t >= outage.to) {
        // The outage ends: the district's held changes arrive late, then the source re-sends them.
        const late = held.splice(0);
        await ingest(late, t);
        const before = JSON.stringify((await flow.days(outageDistrict, outageDay, outageDay, t)).days);
        await ingest(late, t + MINUTE);
        const after = JSON.stringify((await flow.days(outageDistrict, outageDay, outageDay, t)).days);
        Object.assign(replay, {
          late: late.length,
          replayed: late.length,
          changed: before === after ? 0 : 1,
        });
        write(
          `[${fmt(t)}] ${outageDistrict}'s feed is back: ${late.length} held changes delivered late, then all of them again (a replay): ${before === after ? 'none counted twice' : 'COUNTED TWICE'}`,
        );
      }
      const londonHour = londonDayAndHour(t);
      const inv = (name: string) => lambdaContext(`${name}-${step}`);
      if (londonHour.hour === 7 && t % HOUR < flowEvery) {
        onSignals(
          (await timed('signals', () =>
            signals({ mode: 'daily', at: new Date(t).toISOString() }, inv('daily')),
          )) as SignalsResult,
        );
      }
      onSignals(
        (await timed('signals', () =>
          signals({ mode: 'flow', at: new Date(t).toISOString() }, inv('flow')),
        )) as SignalsResult,
      );
      if (t - lastScan >= scanEvery) {
        lastScan = t;
        const result = (await timed('scan', () => scan({}, inv('scan')))) as ScanResult;
        onScan(result);
        open = result.open;
        if (openAtGoLive === undefined && t >= goLiveMs) openAtGoLive = open;
      }
      if (londonHour.hour === 7 && t % HOUR < flowEvery && day >= goLiveDay && (day - goLiveDay) % 7 === 0) {
        write(
          `[${fmt(t)}] week ${(day - goLiveDay) / 7} after go-live: ${open} open cases, ${source.stuck.size} never assessed`,
        );
      }
    }

    const wallSeconds = Math.round((performance.now() - wallStart) / 100) / 10;
    write(
      `(time spent: ingest ${Math.round(spent.ingest / 1000)} s, scan ${Math.round(spent.scan / 1000)} s, signals ${Math.round(spent.signals / 1000)} s)`,
    );
    const summary: IopsSummary = {
      goLive: isoDateOfEpochDay(goLiveDay),
      failures,
      byAudience,
      history: { transitions: historyTransitions },
      feed: {
        messages: feedMessages,
        late: replay.late,
        replayed: replay.replayed,
        countedAgainOnReplay: replay.changed,
      },
      open: { atGoLive: openAtGoLive ?? open, atEnd: open, neverAssessed: source.stuck.size },
      wallSeconds,
    };
    printSummary(summary, write);
    return summary;
  } finally {
    await dynamo.close();
  }
}

function printSummary(summary: IopsSummary, write: (line: string) => void): void {
  write('');
  write(`what failed, when it was first raised, and to whom (go-live ${summary.goLive}):`);
  const width = Math.max(...summary.failures.map((f) => f.what.length));
  for (const f of summary.failures) {
    const raised = f.firstRaisedAtMs;
    const after = raised === undefined ? '' : ` (${formatSpan(raised - f.startedAtMs)} after)`;
    write(
      `  ${f.what.padEnd(width)}  from ${f.startedAt}  ${raised === undefined ? 'NOT RAISED' : `raised ${f.firstRaisedAt}${after}`}${f.audiences ? ` -> ${f.audiences.join(', ')}` : ''}`,
    );
  }
  write('');
  write('messages each audience received (ageing alerts from the scan / silence signals):');
  for (const [audience, n] of Object.entries(summary.byAudience).sort(([a], [b]) => byCodeUnit(a, b))) {
    write(`  ${audience.padEnd(28)} ${String(n.ageing).padStart(6)} / ${n.signals}`);
  }
  write(
    '(the signals have a function of their own: a scan at its SMS cap never holds one back, and each went by SMS and email with its own "QW SIGNAL" header)',
  );
  write('');
  write(
    `feed: ${summary.feed.messages} messages through the ingest function (${summary.feed.late} late, ${summary.feed.replayed} replayed: ${summary.feed.countedAgainOnReplay === 0 ? 'none counted twice' : 'SOME COUNTED TWICE'}); ${summary.history.transitions} transitions of past flow; open cases ${summary.open.atGoLive} at go-live, ${summary.open.atEnd} at the end (${summary.open.neverAssessed} never assessed); in ${summary.wallSeconds} s`,
  );
}

function formatSpan(ms: number): string {
  const hours = Math.floor(ms / HOUR);
  if (hours < 48) return `${hours}h ${Math.floor((ms % HOUR) / MINUTE)}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
