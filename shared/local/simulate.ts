// The local main job: an embedded DynamoDB with the real tables, a generated synthetic queue, and
// the real scan handler run on its schedule over simulated time, printing what each run sends.
// A small simulated source system closes, assesses and opens cases as time passes.

import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { CallbackPublisher, MemoryOpsNotifier } from '../adapters/memory-sinks.ts';
import { toMirrorItem } from '../adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '../adapters/mirror-reader.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { CaseRecord } from '../domain/case.ts';
import { generateQueue } from '../generate/queue.ts';
import { withObservability } from '../lambda/observability.ts';
import { createScanHandler } from '../scan/handler.ts';
import type { OutgoingMessage } from '../scan/ports.ts';
import type { ScanResult } from '../scan/run-scan.ts';
import { createTables, startDynalite } from './embedded-dynamo.ts';
import { seedMirror } from './seed.ts';
import { DeliveryTally } from './tally.ts';

export interface SimulateOptions {
  config: CompiledConfig;
  /** Simulated start instant (ms). */
  startMs: number;
  open: number;
  closed: number;
  seed: number;
  /** Simulated hours to run, and minutes between scans. */
  hours: number;
  everyMinutes: number;
  /** Wall-clock seconds the whole simulation should take at least (0: as fast as it goes). */
  seconds: number;
  /** Which messages to print in full: `audience@district` (or `audience@place`) pairs, or 'all'. */
  show: ReadonlySet<string> | 'all';
  emails: boolean;
  write: (line: string) => void;
}

export interface SimulationSummary {
  runs: number;
  messages: number;
  sms: number;
  resolved: number;
  firstEscalationToDirector?: string;
  wallSeconds: number;
  tally: DeliveryTally;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  const { config, write } = options;
  const wallStart = performance.now();
  const dynamo = await startDynalite();
  try {
    const tables = await createTables(dynamo.client, 'local');
    const doc = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const districts = Object.keys(config.file.districts);
    const seeded = await seedMirror(
      doc,
      tables.mirror,
      generateQueue({
        open: options.open,
        closed: options.closed,
        seed: options.seed,
        nowMs: options.startMs,
        districts,
      }),
      options.startMs,
    );
    write(
      `seeded an embedded DynamoDB (dynalite) with ${seeded} synthetic cases (${options.open} open, with an iOPS-like backlog of old domestic abuse cases)`,
    );
    write(
      options.hours === 0
        ? `running the scan handler once, at ${fmt(options.startMs)} UTC`
        : `running the scan handler every ${options.everyMinutes} min over ${plural(options.hours, 'simulated hour')} from ${fmt(options.startMs)} UTC`,
    );

    let simNow = options.startMs;
    // `audience@district` names the place a district's case reaches that audience at.
    const shownGroups =
      options.show === 'all'
        ? 'all'
        : new Set(
            [...options.show].map((pair) => {
              const [audience = '', where = ''] = pair.split('@');
              return config.file.audiences[audience] && config.file.districts[where]
                ? `${audience}@${config.placeOf(audience, where)}`
                : pair;
            }),
          );
    const printMessage = (message: OutgoingMessage) => {
      const shown =
        shownGroups === 'all' ||
        (message.kind === 'summary'
          ? message.groups.some((g) => shownGroups.has(g))
          : message.groups.some((g) => shownGroups.has(g)));
      if (!shown) return;
      const to = message.groups.length === 1 ? message.groups[0] : plural(message.groups.length, 'group');
      write(`  ┌ to ${to} · ${message.kind}`);
      if (message.sms) for (const line of message.sms.split('\n')) write(`  │ ${line}`);
      if (message.email) {
        write(`  │ email: ${message.email.subject}`);
        if (options.emails) for (const line of message.email.body.split('\n')) write(`  │   ${line}`);
      }
      write('  └');
    };
    const ops = new MemoryOpsNotifier((subject) => write(`  ! ops: ${subject}`));
    const state = new DynamoStateStore(doc, tables.state);
    const handler = withObservability(
      createScanHandler(
        {
          config: async () => ({ config, source: 'default' }),
          source: new DynamoOpenCaseSource(doc, tables.mirror),
          ledger: new DynamoLedger(doc, tables.ledger),
          publisher: new CallbackPublisher((message) => printMessage(message)),
          audit: new DynamoAuditLog(doc, tables.audit),
          ops,
          state,
        },
        { clock: () => simNow },
      ),
    );
    const tally = new DeliveryTally(config);

    const source = new SimulatedSource(doc, tables.mirror, options, districts);
    await source.load(options.startMs);
    const steps = Math.max(1, Math.round((options.hours * 60) / options.everyMinutes));
    const summary: SimulationSummary = { runs: 0, messages: 0, sms: 0, resolved: 0, wallSeconds: 0, tally };
    for (let step = 0; step < steps; step++) {
      simNow = options.startMs + step * options.everyMinutes * 60_000;
      if (step > 0) await source.advance(simNow, options.everyMinutes);
      const pace = wallStart + ((step * options.seconds) / steps) * 1000;
      const wait = pace - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const result = (await handler({}, lambdaContext(step))) as ScanResult;
      tally.record(simNow, result, source.openCases());
      summary.runs += 1;
      summary.messages += result.messages.length;
      summary.sms += result.smsSent;
      summary.resolved += result.resolved;
      const toDirector = result.messages.find(
        (m) => m.audience === 'director-childrens-services' && m.levels.includes('escalation'),
      );
      if (toDirector && !summary.firstEscalationToDirector) summary.firstEscalationToDirector = fmt(simNow);
      if (result.messages.length > 0 || step === 0) {
        write(
          `[${fmt(simNow)}] ${result.open} open: ${result.levels.escalation} escalation, ${result.levels.breach} breach, ${result.levels.warning} warning · sent ${plural(result.messages.length, 'message')} (${result.smsSent} SMS), ${plural(result.resolved, 'resolved line')}`,
        );
      }
    }
    summary.wallSeconds = Math.round((performance.now() - wallStart) / 100) / 10;
    write(
      `done: ${plural(summary.runs, 'run')}, ${plural(summary.messages, 'message')} (${summary.sms} SMS), ${plural(summary.resolved, 'resolved line')}, in ${summary.wallSeconds} s` +
        (summary.firstEscalationToDirector
          ? `; first escalation to a director of children's services at ${summary.firstEscalationToDirector}`
          : ''),
    );
    write('what each audience received, per place and London day:');
    for (const line of tally.table()) write(line);
    const first = tally.firstAlerts;
    write(
      `most SMS to one phone in one run: ${tally.mostSmsToOnePhoneInARun}; first breaches and escalations: ${first.reached} of ${first.due} reached their audiences in the run they happened`,
    );
    return summary;
  } finally {
    await dynamo.close();
  }
}

const lambdaContext = (step: number) =>
  ({
    awsRequestId: `local-run-${step}`,
    functionName: 'queuewatch-local-scan',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:queuewatch-local-scan',
    memoryLimitInMB: '512',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 300_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as const;

/** A toy source system: each hour about 4% of open cases move on (assessed and referred, or
 * closed) and new cases arrive, so warnings clear and fresh ones appear. */
class SimulatedSource {
  private open: CaseRecord[] = [];
  private readonly rng;
  private created = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: SimulateOptions,
    private readonly districts: string[],
  ) {
    this.rng = xoroshiro128plus(options.seed + 7919);
  }

  private random(): number {
    return uniformInt(this.rng, 0, 0x3fffffff) / 0x40000000;
  }

  /** The cases open in the source now (as the mirror holds them). */
  openCases(): readonly CaseRecord[] {
    return this.open;
  }

  async load(nowMs: number): Promise<void> {
    this.open = [
      ...generateQueue({
        open: this.options.open,
        seed: this.options.seed,
        nowMs,
        districts: this.districts,
      }),
    ];
  }

  private async write(record: CaseRecord, nowMs: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: toMirrorItem(record, nowMs) }));
  }

  async advance(nowMs: number, minutes: number): Promise<void> {
    const share = 0.04 * (minutes / 60);
    const at = new Date(nowMs).toISOString();
    const still: CaseRecord[] = [];
    const writes: Promise<void>[] = [];
    for (const record of this.open) {
      // The backlog is stuck: that is the point. Fresh cases move on.
      const stuck = Date.parse(record.stageEnteredAt) < nowMs - 7 * 86_400_000;
      if (stuck || this.random() >= share) {
        still.push(record);
        continue;
      }
      const next: CaseRecord =
        record.stage === 'referred' || this.random() < 0.5
          ? { ...record, stage: 'closed', stageEnteredAt: at, sourceUpdatedAt: at }
          : { ...record, stage: 'referred', stageEnteredAt: at, sourceUpdatedAt: at };
      writes.push(this.write(next, nowMs));
      if (next.stage === 'referred') still.push(next);
    }
    const arrivals = Math.round(this.options.open * share);
    for (const fresh of generateQueue({
      open: arrivals,
      seed: this.options.seed + this.created + 1,
      nowMs,
      districts: this.districts,
      backlog: 0,
    })) {
      this.created += 1;
      const record: CaseRecord = {
        ...fresh,
        caseRef: `${fresh.caseRef.slice(0, 2)}-N${String(this.created).padStart(6, '0')}`,
        stageEnteredAt: at,
        sourceUpdatedAt: at,
      };
      writes.push(this.write(record, nowMs));
      still.push(record);
    }
    await Promise.all(writes);
    this.open = still;
  }
}
