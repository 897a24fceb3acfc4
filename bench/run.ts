// `npm run bench`: queuewatch's cost and speed, each scenario beside its baseline in one run, on an
// embedded dynalite. Prints a table and writes it as JSON under bench-results/ (git-ignored).
// A script that prints figures, not a test: machines here are shared and noisy.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  ListTablesCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Command } from 'commander';
import pLimit from 'p-limit';
import { heapLimitMb, SCAN_MEMORY_MB } from '#infra/limits.ts';
import { DynamoAuditLog } from '#shared/adapters/audit-log.ts';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { createTableInput, MIRROR_TABLE } from '#shared/adapters/tables.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { audienceLevels, evaluateCase } from '#shared/domain/engine.ts';
import { smsSegments } from '#shared/domain/notify.ts';
import { generateQueue } from '#shared/generate/queue.ts';
import { importCases } from '#shared/ingest/import.ts';
import { createTables, type EmbeddedDynamo, startDynalite } from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import type { SimulationSummary } from '#shared/local/simulate.ts';
import type { OpenCaseSource, OutgoingMessage } from '#shared/scan/ports.ts';
import { runScan, SHARD_CONCURRENCY, WHOLE_LEDGER_MAX_ENTRIES } from '#shared/scan/run-scan.ts';
import { type BenchRow, silenceDetector } from './silence.ts';

// The SDK's notice that its releases after January 2027 need Node 22 (this machine runs Node 20),
// said once per client on stderr, for this process and the scan processes it starts.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const config = loadConfig();
const districts = Object.keys(config.file.districts);
const NOW = Date.parse('2026-11-27T09:00:00Z');

type Row = BenchRow;

interface Sizes {
  open: number;
  closed: number;
  engineCases: number;
  memorySizes: [number, number];
  importRecords: number;
  /** Row 2: time between its steady runs. The shorter, the fewer cases reach a new level in each
   * run: 5 minutes (the schedule) on the generated queue moves about 130 a run, far more than the
   * domain notes' 1,000 new cases a day would; 30 s about 13, nearer to those. */
  steadyEveryMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const fmt = (n: number) => n.toLocaleString('en-GB');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The bare read a scan makes: every shard of the open-cases index, as many at once as the scan
 * reads them (SHARD_CONCURRENCY), doing nothing with the items. */
async function bareRead(source: OpenCaseSource, concurrency = SHARD_CONCURRENCY): Promise<number> {
  const limit = pLimit(concurrency);
  let items = 0;
  await Promise.all(
    source.shards(districts).map((shard) =>
      limit(async () => {
        for await (const page of source.pages(shard)) items += page.length;
      }),
    ),
  );
  return items;
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

function main() {
  const program = new Command('bench')
    .description('queuewatch benchmarks: each scenario beside its baseline, on an embedded dynalite')
    .option('--quick', 'small sizes (the test suite smoke-tests the script with these)')
    .option('--open <n>', 'open cases (read cost, scan overhead)', Number)
    .option('--closed <n>', 'closed cases: the history the scan must not pay for', Number)
    .option('--engine-cases <n>', 'cases for engine throughput', Number)
    .option('--memory <a,b>', 'two open-case counts for the memory comparison')
    .option('--import-records <n>', 'records for the import rate', Number)
    .option(
      '--steady-seconds <n>',
      'row 2: seconds between its steady runs (default 300, the schedule)',
      Number,
    )
    .option('--only <list>', 'run only these scenarios, e.g. 2,3 (default: all)')
    .option('--out-dir <dir>', 'where to write the JSON', join(root, 'bench-results'))
    .option('--cache-dir <dir>', 'where the seeded history is kept between runs', join(root, 'bench-cache'))
    .action(async (options) => {
      const quick = Boolean(options.quick);
      const sizes: Sizes = {
        open: options.open ?? (quick ? 500 : 20_000),
        closed: options.closed ?? (quick ? 2_000 : 1_000_000),
        engineCases: options.engineCases ?? (quick ? 50_000 : 1_000_000),
        memorySizes:
          (options.memory?.split(',').map(Number) as [number, number] | undefined) ??
          (quick ? [500, 2_500] : [20_000, 100_000]),
        importRecords: options.importRecords ?? (quick ? 2_000 : 100_000),
        steadyEveryMs: (options.steadySeconds ?? 300) * 1000,
      };
      const only = options.only
        ? new Set(
            String(options.only)
              .split(',')
              .map((n) => n.trim()),
          )
        : undefined;
      cacheDir = options.cacheDir as string;
      await bench(sizes, options.outDir as string, quick, only);
    });
  return program.parseAsync(process.argv);
}

async function bench(sizes: Sizes, outDir: string, quick: boolean, only?: ReadonlySet<string>) {
  const wanted = (...n: string[]) => !only || n.some((x) => only.has(x));
  const started = performance.now();
  const rows: Row[] = [];
  const dynamo = await startDynalite({ thread: true });
  const doc = DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const work = mkdtempSync(join(tmpdir(), 'qw-bench-'));
  try {
    // The engine first, on a quiet heap: it measures our code, not the garbage collector's
    // reaction to the emulator's data.
    if (wanted('3')) rows.push(engineThroughput(sizes.engineCases));
    // Pure simulation, no database: before the emulator fills the heap too.
    if (wanted('9')) rows.push(silenceDetector());
    if (wanted('1', '2')) {
      rows.push(...(await readCostAndOverhead(sizes)).filter((r) => wanted(r.scenario[0] as string)));
    }
    if (wanted('4')) rows.push(await alertStorm(doc, dynamo.client));
    if (wanted('8')) rows.push(await whatPeopleReceive(quick));
    const importRow = wanted('7')
      ? await importRate(doc, dynamo.client, sizes.importRecords, work)
      : undefined;
    if (wanted('5', '10')) {
      rows.push(
        ...(await memory(dynamo.endpoint, doc, dynamo.client, sizes.memorySizes)).filter((r) =>
          wanted(r.scenario.split('.')[0] as string),
        ),
      );
    }
    if (wanted('6')) rows.push(await coldStart(quick ? 3 : COLD_START_LOADS));
    if (importRow) rows.push(importRow);
  } finally {
    await dynamo.close();
    rmSync(work, { recursive: true, force: true });
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  rows.sort((a, b) => Number.parseInt(a.scenario, 10) - Number.parseInt(b.scenario, 10));
  const table = [
    '| scenario | queuewatch | baseline | ratio | target | holds |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.figure} | ${r.baseline} | ${r.ratio === null ? '–' : r.ratio} | ${r.target} | ${r.holds ? 'yes' : 'NO'} |`,
    ),
  ].join('\n');
  process.stdout.write(
    `\n${table}\n\nmachine: ${machine}; ${quick ? 'quick sizes' : 'default sizes'}; ${round((performance.now() - started) / 1000, 1)} s\n`,
  );
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), machine, quick, sizes, rows }, null, 2)}\n`,
  );
  process.stdout.write(`written to ${file}\n`);
}

// 1 and 2: what a scan reads, and what a whole run costs, against a force's history.

interface SeededHistory {
  dynamo: EmbeddedDynamo;
  doc: DynamoDBDocumentClient;
  mirror: string;
  /** The naive filtered Scan of the whole table, measured once when the data was seeded. */
  naive: { scanned: number; units: number; ms: number };
}

const HISTORY_MIRROR = 'history-mirror';
let cacheDir = join(root, 'bench-cache');

/**
 * A mirror of `open` open and `closed` closed cases in a dynalite kept on disk under
 * bench-cache/ (git-ignored), seeded on the first run and reused by later ones: a million closed
 * cases take minutes to write and to Scan, and are the same every time. Its directory name carries
 * a fingerprint of the item format and the generator, so a change to either seeds afresh.
 */
async function seededHistory(sizes: Sizes): Promise<SeededHistory> {
  const sample = generateQueue({ open: 1, closed: 1, seed: 1, nowMs: NOW, districts });
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([MIRROR_TABLE, [...sample].map((r) => toMirrorItem(r, NOW)), districts]))
    .digest('hex')
    .slice(0, 12);
  const dir = join(cacheDir, `mirror-${sizes.open}-open-${sizes.closed}-closed-${fingerprint}`);
  const marker = join(dir, 'seeded.json');
  const reuse = existsSync(marker);
  if (!reuse) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dynamo = await startDynalite({ thread: true, path: join(dir, 'db') });
  const doc = DynamoDBDocumentClient.from(dynamo.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Tables an interrupted earlier run left behind (its ledger and disclosure log) go first.
  const { TableNames = [] } = await dynamo.client.send(new ListTablesCommand({}));
  for (const name of TableNames.filter((n) => n !== HISTORY_MIRROR)) {
    await dynamo.client.send(new DeleteTableCommand({ TableName: name }));
  }
  if (reuse) {
    log(`read cost: reusing the seeded mirror in ${dir}`);
    const { naive } = JSON.parse(readFileSync(marker, 'utf8')) as Pick<SeededHistory, 'naive'>;
    return { dynamo, doc, mirror: HISTORY_MIRROR, naive };
  }
  await dynamo.client.send(new CreateTableCommand(createTableInput(MIRROR_TABLE, HISTORY_MIRROR)));
  log(`read cost: seeding ${fmt(sizes.open)} open and ${fmt(sizes.closed)} closed cases once, into ${dir}`);
  const started = performance.now();
  let written = 0;
  const counted = function* (records: Iterable<CaseRecord>) {
    for (const record of records) {
      yield record;
      written += 1;
      if (written % 100_000 === 0) {
        const rate = written / ((performance.now() - started) / 1000);
        const left = (sizes.open + sizes.closed - written) / rate;
        log(`read cost: ${fmt(written)} written, about ${Math.ceil(left / 60)} min left`);
      }
    }
  };
  await seedMirror(
    doc,
    HISTORY_MIRROR,
    counted(generateQueue({ open: sizes.open, closed: sizes.closed, seed: 1, nowMs: NOW, districts })),
    NOW,
  );
  log('read cost: the naive filtered Scan of the whole table, once');
  let scanned = 0;
  let units = 0;
  const [, ms] = await time(async () => {
    let key: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const page = await dynamo.client.send(
        new ScanCommand({
          TableName: HISTORY_MIRROR,
          FilterExpression: '#stage <> :closed AND #stage <> :ack',
          ExpressionAttributeNames: { '#stage': 'stage' },
          ExpressionAttributeValues: { ':closed': { S: 'closed' }, ':ack': { S: 'referral-acknowledged' } },
          ReturnConsumedCapacity: 'TOTAL',
          ExclusiveStartKey: key,
        }),
      );
      scanned += page.ScannedCount ?? 0;
      units += page.ConsumedCapacity?.CapacityUnits ?? 0;
      key = page.LastEvaluatedKey;
    } while (key);
  });
  const naive = { scanned, units, ms: Math.round(ms) };
  writeFileSync(
    marker,
    `${JSON.stringify({ sizes: { open: sizes.open, closed: sizes.closed }, naive }, null, 2)}\n`,
  );
  return { dynamo, doc, mirror: HISTORY_MIRROR, naive };
}

async function readCostAndOverhead(sizes: Sizes): Promise<Row[]> {
  const history = await seededHistory(sizes);
  try {
    return await measureHistory(history, sizes);
  } finally {
    for (const name of (
      (await history.dynamo.client.send(new ListTablesCommand({}))).TableNames ?? []
    ).filter((n) => n !== HISTORY_MIRROR)) {
      await history.dynamo.client.send(new DeleteTableCommand({ TableName: name }));
    }
    await history.dynamo.close();
  }
}

async function measureHistory({ doc, mirror, naive, dynamo }: SeededHistory, sizes: Sizes): Promise<Row[]> {
  const client = dynamo.client;
  const source = new DynamoOpenCaseSource(doc, mirror);
  await bareRead(source);
  const read = source.itemsRead;
  const units = source.consumedCapacityUnits;
  const itemRatio = round(naive.scanned / Math.max(read, 1), 1);
  const unitRatio = round(naive.units / Math.max(units, 0.5), 1);
  const readRow: Row = {
    scenario: '1. read cost',
    figure: `${fmt(read)} items, ${round(units, 1)} RCU (${fmt(sizes.open)} open, ${fmt(sizes.closed)} closed)`,
    baseline: `naive filtered Scan: ${fmt(naive.scanned)} items, ${round(naive.units, 1)} RCU`,
    ratio: itemRatio,
    target: 'items read ≤ 1.05 × open, ≥ 50 × fewer than the naive Scan',
    holds: read <= 1.05 * sizes.open && itemRatio >= 50,
    details: {
      open: sizes.open,
      closed: sizes.closed,
      itemsRead: read,
      itemsReadPerOpen: round(read / sizes.open, 3),
      naiveItems: naive.scanned,
      capacityRatio: unitRatio,
      naiveScanMs: naive.ms,
    },
  };
  const tables = await createTables(client, `run-${process.pid}`);

  // 2. a whole steady-state run (ledger already written by an earlier run) against the bare read.
  log('scan overhead: warming the ledger with a first run');
  const ledger = new DynamoLedger(doc, tables.ledger);
  // As the handler does: the ledger read in one pass while the last run left it small.
  let wholeLedger = false;
  const input = (at: number) => ({
    config,
    nowMs: at,
    runId: `bench-${at}`,
    source: new DynamoOpenCaseSource(doc, mirror),
    wholeLedger,
    ledger,
    publisher: new CallbackPublisher(),
    audit: new DynamoAuditLog(doc, tables.audit),
  });
  const warm = await runScan(input(NOW));
  wholeLedger = warm.ledgerEntriesAfter <= WHOLE_LEDGER_MAX_ENTRIES;
  // The same runs with the ledger and disclosure log in memory: our code's own share, without the
  // emulator's cost of each conditional write (I/O on a real DynamoDB, run 16 at a time).
  const memoryLedger = new MemoryLedger();
  const inMemory = (at: number) => ({
    ...input(at),
    runId: `bench-memory-${at}`,
    ledger: memoryLedger,
    audit: new MemoryAuditLog(),
  });
  await runScan(inMemory(NOW));
  const bare: number[] = [];
  const whole: number[] = [];
  const compute: number[] = [];
  const messages: number[] = [];
  const disclosed: number[] = [];
  const logItems: number[] = [];
  // The emulator's own busy time (its worker thread's active time) in each: the floor of each on
  // this machine, since dynalite does every request's work one at a time on one thread.
  const busy = () => dynamo.busyMs?.() ?? 0;
  const bareBusy: number[] = [];
  const wholeBusy: number[] = [];
  // And the scan's own thread's: our code and the SDK client's work for each request (serialising,
  // signing, HTTP), which a real DynamoDB would not take away.
  const ownBusy: number[] = [];
  // The same for the bare read: what its SDK requests and items cost this thread.
  const bareOwnBusy: number[] = [];
  // And for the run with the ledger and disclosure log in memory: the reading, and our own work.
  const computeOwnBusy: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const busyBefore = busy();
    const bareOwnBefore = performance.eventLoopUtilization();
    const [, readMs] = await time(() => bareRead(new DynamoOpenCaseSource(doc, mirror)));
    bareOwnBusy.push(performance.eventLoopUtilization(bareOwnBefore).active);
    bare.push(readMs);
    bareBusy.push(busy() - busyBefore);
    const run = input(NOW + i * sizes.steadyEveryMs);
    const busyBeforeRun = busy();
    const ownBefore = performance.eventLoopUtilization();
    const [result, runMs] = await time(() => runScan(run));
    wholeBusy.push(busy() - busyBeforeRun);
    ownBusy.push(performance.eventLoopUtilization(ownBefore).active);
    messages.push(result.messages.length);
    disclosed.push(result.messages.reduce((n, m) => n + m.caseRefs.length + m.resolved.length, 0));
    logItems.push(run.audit.itemsWritten);
    whole.push(runMs);
    const computeOwnBefore = performance.eventLoopUtilization();
    const [, computeMs] = await time(() => runScan(inMemory(NOW + i * sizes.steadyEveryMs)));
    computeOwnBusy.push(performance.eventLoopUtilization(computeOwnBefore).active);
    compute.push(computeMs);
  }
  const ratio = round(median(whole) / median(bare));
  return [
    readRow,
    {
      scenario: '2. scan overhead',
      figure: `whole steady run${sizes.steadyEveryMs === 300_000 ? '' : ` (runs ${sizes.steadyEveryMs / 1000} s apart)`} ${Math.round(median(whole))} ms (${fmt(median(messages))} messages listing ${fmt(median(disclosed))} cases; ${fmt(median(logItems))} disclosure log items)`,
      baseline: `bare read ${Math.round(median(bare))} ms (run with in-memory ledger: ${Math.round(median(compute))} ms; dynalite busy: bare read ${Math.round(median(bareBusy))} ms, whole run ${Math.round(median(wholeBusy))} ms; this thread busy: bare read ${Math.round(median(bareOwnBusy))} ms, run with in-memory ledger ${Math.round(median(computeOwnBusy))} ms, whole run ${Math.round(median(ownBusy))} ms)`,
      ratio,
      target: '≤ 1.3 × the bare read',
      holds: ratio <= 1.3,
      details: {
        steadyEverySeconds: sizes.steadyEveryMs / 1000,
        open: sizes.open,
        runs: 3,
        ledgerEntries: warm.ledgerEntriesAfter,
        messagesPerRun: median(messages),
        casesListedPerRun: median(disclosed),
        disclosureLogItemsPerRun: median(logItems),
        ledgerRead: wholeLedger ? 'whole, one pass' : 'shard by shard',
        ledgerFullReads: ledger.fullReads,
        runWithInMemoryLedgerMs: Math.round(median(compute)),
        ratioWithInMemoryLedger: round(median(compute) / median(bare)),
        dynaliteBusyBareReadMs: Math.round(median(bareBusy)),
        dynaliteBusyWholeRunMs: Math.round(median(wholeBusy)),
        scanThreadBusyWholeRunMs: Math.round(median(ownBusy)),
        scanThreadBusyBareReadMs: Math.round(median(bareOwnBusy)),
        scanThreadBusyInMemoryLedgerMs: Math.round(median(computeOwnBusy)),
        scanThreadBusyRatio: round(median(ownBusy) / Math.max(median(bareOwnBusy), 1)),
      },
    },
  ];
}

// 3. the engine alone, single thread.
function engineThroughput(count: number): Row {
  log(`engine: generating ${fmt(count)} cases`);
  const cases = [...generateQueue({ open: count, seed: 3, nowMs: NOW, districts })];
  let alerting = 0;
  const pass = () => {
    alerting = 0;
    const start = performance.now();
    for (const c of cases) {
      const e = evaluateCase(c, config, NOW);
      if (e !== undefined && e.level !== 'none') alerting += 1;
    }
    return performance.now() - start;
  };
  pass(); // warm up
  const best = Math.min(pass(), pass(), pass(), pass(), pass());
  const perSecond = Math.round((count / best) * 1000);
  return {
    scenario: '3. engine throughput',
    figure: `${fmt(perSecond)} cases/s (${fmt(count)} in ${Math.round(best)} ms)`,
    baseline: '–',
    ratio: null,
    target: '> 1,000,000 cases/s',
    holds: perSecond > 1_000_000,
    details: { cases: count, bestMs: round(best, 1), alerting },
  };
}

// 4. 700 domestic abuse cases breaching at once across ten districts.
async function alertStorm(
  doc: DynamoDBDocumentClient,
  client: import('@aws-sdk/client-dynamodb').DynamoDBClient,
): Promise<Row> {
  const tables = await createTables(client, 'storm');
  const HOUR = 3_600_000;
  // Ages that put each risk level between its breach and escalation limits.
  const breachAge = { high: 30 * HOUR, medium: 96 * HOUR, standard: 10 * 24 * HOUR } as const;
  const risks = ['high', 'medium', 'standard'] as const;
  const cases: CaseRecord[] = Array.from({ length: 700 }, (_, i) => {
    const riskLevel = risks[i % 3] as (typeof risks)[number];
    const at = new Date(NOW - breachAge[riskLevel] - (i % 17) * 60_000).toISOString();
    return {
      caseRef: `DA-STORM-${String(i).padStart(4, '0')}`,
      category: 'domestic-abuse',
      riskLevel,
      district: districts[i % districts.length] as string,
      stage: 'awaiting-risk-assessment',
      stageEnteredAt: at,
      childrenInvolved: i % 4 === 0,
      sourceUpdatedAt: at,
    };
  });
  await seedMirror(doc, tables.mirror, cases, NOW);
  const sent: OutgoingMessage[] = [];
  const result = await runScan({
    config,
    nowMs: NOW,
    runId: 'storm',
    source: new DynamoOpenCaseSource(doc, tables.mirror),
    ledger: new DynamoLedger(doc, tables.ledger),
    publisher: new CallbackPublisher((m) => sent.push(m)),
    audit: new DynamoAuditLog(doc, tables.audit),
  });
  // One message per case per audience is what a naive watcher sends.
  let naive = 0;
  for (const c of cases) {
    const e = evaluateCase(c, config, NOW);
    if (e && e.level !== 'none') naive += audienceLevels(e, config).size;
  }
  const perGroup = new Map<string, number>();
  for (const m of sent) {
    if (m.kind === 'summary') continue;
    for (const group of m.groups) perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
  }
  const segments = sent.filter((m) => m.sms).map((m) => smsSegments(m.sms as string).segments);
  const oneEach = [...perGroup.values()].every((n) => n === 1);
  const allOneSegment = segments.every((s) => s === 1);
  return {
    scenario: '4. alert storm (700 breaching)',
    figure: `${sent.length} messages, ${segments.length} SMS, ${segments.reduce((a, b) => a + b, 0)} segments`,
    baseline: `one per case per audience: ${fmt(naive)} messages`,
    ratio: round(naive / Math.max(sent.length, 1), 1),
    target: '≤ 1 message per audience and place; every SMS one segment',
    holds: oneEach && allOneSegment && result.failures.length === 0,
    details: { breaching: result.levels.breach, groups: perGroup.size, smsCap: config.file.sms.maxPerRun },
  };
}

/** The first wave's 48-hour local run (same seed and sizes), recorded on 2026-11-29 before alerts
 * were grouped per audience and place: 4,523 messages, 3,274 of them SMS. */
const FIRST_WAVE_48H = { messages: 4523, sms: 3274 };

// 8. What people receive: the local run's simulation over 48 hours from Friday 2026-11-27 06:00 UTC
// (a weekend in them; `npm start` starts on a Monday, so its counts differ), counted per audience.
async function whatPeopleReceive(quick: boolean): Promise<Row> {
  const hours = quick ? 4 : 48;
  log(`what people receive: the local run over ${hours} simulated hours`);
  // The real scan handler runs in this process: quiet its Powertools logger and metrics, as
  // `queuewatch local` does, or every run prints its log line and metrics (EMF) as JSON on stdout,
  // among the table. Only while it runs (the logger reads the level as it loads, each single
  // metric reads the switch as it is made): the cold start's loads (row 6) keep the functions'
  // environment.
  const quiet = { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' };
  const unset = Object.keys(quiet).filter((name) => process.env[name] === undefined);
  for (const name of unset) process.env[name] = quiet[name as keyof typeof quiet];
  let summary: SimulationSummary;
  try {
    const { simulate } = await import('#shared/local/simulate.ts');
    summary = await simulate({
      config,
      startMs: Date.parse('2026-11-27T06:00:00Z'),
      open: 300,
      closed: 2000,
      seed: 1,
      hours,
      everyMinutes: 5,
      seconds: 0,
      show: new Set(),
      emails: false,
      write: () => undefined,
    });
  } finally {
    for (const name of unset) delete process.env[name];
  }
  const { tally } = summary;
  const audiences = tally.byAudience();
  const director = audiences.find((a) => a.audience === 'director-childrens-services');
  const ratio = round(FIRST_WAVE_48H.sms / Math.max(summary.sms, 1), 1);
  const first = tally.firstAlerts;
  return {
    scenario: '8. what people receive (48 h local run)',
    figure: `${fmt(summary.messages)} messages, ${fmt(summary.sms)} SMS; most SMS to a phone in a run: ${tally.mostSmsToOnePhoneInARun}; director reminders at night: ${director?.remindersAtNight ?? 0}; first breaches and escalations on time: ${first.reached} of ${first.due}`,
    baseline: `first wave, recorded: ${fmt(FIRST_WAVE_48H.messages)} messages, ${fmt(FIRST_WAVE_48H.sms)} SMS`,
    ratio: quick ? null : ratio,
    target:
      '≥ 5 × fewer SMS; ≤ 1 SMS a phone a run; no director reminder at night; every first breach and escalation in its run',
    holds:
      (quick || ratio >= 5) &&
      tally.mostSmsToOnePhoneInARun <= 1 &&
      (director?.remindersAtNight ?? 0) === 0 &&
      first.reached === first.due,
    details: Object.fromEntries(
      audiences.flatMap((a) => [
        [`${a.audience} messages/place/day`, a.messagesPerPlaceDay.mean],
        [`${a.audience} SMS/place/day`, a.smsPerPlaceDay.mean],
      ]),
    ),
  };
}

// 7 (measured before 5, whose larger size reuses its table). The bulk import against raw writes.
async function importRate(
  doc: DynamoDBDocumentClient,
  client: import('@aws-sdk/client-dynamodb').DynamoDBClient,
  count: number,
  work: string,
): Promise<Row> {
  const file = join(work, 'import.jsonl');
  const records = [...generateQueue({ open: count, seed: 4, nowMs: NOW, districts })];
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
  log(`import: ${fmt(count)} records with queuewatch import, then raw BatchWriteItem`);
  const imported = await createTables(client, 'import');
  const [report, importMs] = await time(() =>
    importCases({
      file,
      client: doc,
      tableName: imported.mirror,
      vocabulary: config.vocabulary,
      nowMs: NOW,
      strategy: 'exclusive',
      rejectsFile: join(work, 'exclusive.rejects.jsonl'),
      checkpointFile: join(work, 'exclusive.checkpoint.json'),
    }),
  );
  // The conditional mode (safe beside a live feed) on a fifth of the file: it writes one record a
  // request, and the whole file would take most of the benchmark's time budget.
  const conditionalCount = Math.max(1, Math.floor(count / 5));
  const conditionalFile = join(work, 'import-conditional.jsonl');
  writeFileSync(
    conditionalFile,
    records
      .slice(0, conditionalCount)
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const conditionalTable = await createTables(client, 'import-conditional');
  const [conditional, conditionalMs] = await time(() =>
    importCases({
      file: conditionalFile,
      client: doc,
      tableName: conditionalTable.mirror,
      vocabulary: config.vocabulary,
      nowMs: NOW,
      strategy: 'conditional',
      rejectsFile: join(work, 'conditional.rejects.jsonl'),
      checkpointFile: join(work, 'conditional.checkpoint.json'),
    }),
  );
  const raw = await createTables(client, 'raw');
  const items = records.map((r) => marshall(toMirrorItem(r, NOW), { removeUndefinedValues: true }));
  const limit = pLimit(16);
  const [, rawMs] = await time(async () => {
    const batches: Promise<void>[] = [];
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25);
      batches.push(
        limit(async () => {
          let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
          while (requests.length > 0) {
            const r = await client.send(
              new BatchWriteItemCommand({ RequestItems: { [raw.mirror]: requests } }),
            );
            requests = (r.UnprocessedItems?.[raw.mirror] ?? []) as typeof requests;
          }
        }),
      );
    }
    await Promise.all(batches);
  });
  importTable = imported.mirror;
  importLedger = imported.ledger;
  importTableSize = count;
  const importRate = Math.round((count / importMs) * 1000);
  const rawRate = Math.round((count / rawMs) * 1000);
  const ratio = round(importRate / rawRate);
  return {
    scenario: '7. import rate',
    figure: `${fmt(importRate)} records/s (--exclusive); ${fmt(Math.round((conditionalCount / conditionalMs) * 1000))} records/s (conditional, safe beside a live feed)`,
    baseline: `raw BatchWriteItem ${fmt(rawRate)} records/s`,
    ratio,
    target: 'close to the raw rate',
    holds: ratio >= 0.7 && report.imported === count && conditional.imported === conditionalCount,
    details: {
      records: count,
      exclusiveMs: Math.round(importMs),
      conditionalRecords: conditionalCount,
      conditionalMs: Math.round(conditionalMs),
      rawMs: Math.round(rawMs),
    },
  };
}
let importTable: string | undefined;
let importLedger: string | undefined;

// 5. peak memory of a scan run, in a process of its own, at two queue sizes.
async function memory(
  endpoint: string,
  doc: DynamoDBDocumentClient,
  client: import('@aws-sdk/client-dynamodb').DynamoDBClient,
  [smallSize, largeSize]: [number, number],
): Promise<Row[]> {
  const peak = async (size: number, seed: number, reuse?: { mirror: string; ledger: string }) => {
    const seeded = async () => {
      const tables = await createTables(client, `memory-${size}`);
      log(`memory: seeding ${fmt(size)} open cases`);
      await seedMirror(doc, tables.mirror, generateQueue({ open: size, seed, nowMs: NOW, districts }), NOW);
      return tables;
    };
    const { mirror, ledger } = reuse ?? (await seeded());
    const scanProcess = async (at: number, whole = false) => {
      const { stdout } = await run(
        'node',
        [
          // The heap limit the scan function runs with (infra/limits.ts): V8's heap grows as the
          // Lambda's does, not as it would with this machine's memory.
          `--max-old-space-size=${heapLimitMb(SCAN_MEMORY_MB)}`,
          '--import',
          'tsx',
          join(root, 'bench/scan-process.ts'),
          endpoint,
          mirror,
          ledger,
          String(at),
          ...(whole ? ['whole'] : []),
        ],
        {
          cwd: root,
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          maxBuffer: 1 << 24,
        },
      );
      return JSON.parse(stdout) as {
        maxRssMb: number;
        open: number;
        baselineRssMb: number;
        durationMs: number;
        ledgerEntries: number;
        ledgerEntriesAfter: number;
      };
    };
    // The first run after a deploy finds everything due; the runs after it (every five minutes)
    // find what changed. Each in a process of its own.
    const first = await scanProcess(NOW);
    const steady = await scanProcess(NOW + 5 * 60_000, first.ledgerEntriesAfter <= WHOLE_LEDGER_MAX_ENTRIES);
    return { ...steady, firstRunMb: first.maxRssMb, firstRunMs: first.durationMs };
  };
  const small = await peak(smallSize, 5);
  const reuse =
    importTable && importLedger && largeSize === importTableSize
      ? { mirror: importTable, ledger: importLedger }
      : undefined;
  const large = await peak(largeSize, 6, reuse);
  const growth = round(large.maxRssMb / small.maxRssMb);
  const periodMs = 5 * 60_000;
  return [
    {
      scenario: '5. memory (peak RSS of a scan)',
      figure: `${fmt(smallSize)} open: ${small.maxRssMb} MB; ${fmt(largeSize)} open: ${large.maxRssMb} MB`,
      baseline: `process before the scan (node + tsx + modules): ${large.baselineRssMb} MB`,
      ratio: growth,
      target: 'flat within 20% (ratio ≤ 1.2), under 256 MB',
      holds: growth <= 1.2 && large.maxRssMb < 256,
      details: {
        run: 'steady state (the ledger holds what earlier runs sent)',
        process: `as the scan function runs: --max-old-space-size=${heapLimitMb(SCAN_MEMORY_MB)} (of ${SCAN_MEMORY_MB} MB)`,
        smallOpen: small.open,
        largeOpen: large.open,
        smallFirstRunMb: small.firstRunMb,
        largeFirstRunMb: large.firstRunMb,
      },
    },
    {
      scenario: `10. a force of ${fmt(largeSize)} open`,
      figure: `steady run ${round(large.durationMs / 1000, 1)} s; first run after a deploy ${round(large.firstRunMs / 1000, 1)} s`,
      baseline: 'the 5-minute schedule',
      ratio: round(periodMs / Math.max(large.durationMs, large.firstRunMs), 1),
      target: 'well inside one 5-minute period (ratio: periods per run, ≥ 3)',
      holds: Math.max(large.durationMs, large.firstRunMs) * 3 <= periodMs,
      details: {
        open: large.open,
        steadyRunMs: large.durationMs,
        firstRunMs: large.firstRunMs,
        ledgerEntries: large.ledgerEntries,
        database: 'dynalite on a thread of the bench process',
      },
    },
  ];
}
let importTableSize = 0;

// 6. the bundled Lambdas: size and load time in a fresh node process.
async function coldStart(loads: number): Promise<Row> {
  log('cold start: synthesising the app to bundle the functions');
  const out = join(root, `cdk.out.bench-${process.pid}`);
  // Only the bundles matter here: a deployment with no contacts (the synth warns that it has none).
  const configDir = mkdtempSync(join(tmpdir(), 'qw-bench-'));
  const deployConfig = join(configDir, 'deploy.config.json');
  writeFileSync(deployConfig, JSON.stringify({ stage: 'dev' }));
  try {
    await run(
      'npx',
      ['cdk', 'synth', '-q', '--no-notices', '-c', `deployConfig=${deployConfig}`, '--output', out],
      {
        cwd: root,
        env: { ...process.env, CDK_VALIDATION: 'false' },
        maxBuffer: 1 << 26,
      },
    );
    const template = JSON.parse(readFileSync(join(out, 'queuewatch-dev-app.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties?: { FunctionName?: string; Environment?: { Variables?: Record<string, string> } };
          Metadata?: Record<string, string>;
        }
      >;
    };
    const results: Array<{
      name: string;
      kb: number;
      loadMs: number;
      ownMs: number;
      sdkMs: number;
      sdk: string[];
    }> = [];
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = String(resource.Properties?.FunctionName ?? '?').replace(/^queuewatch-dev-/, '');
      // The function's own Node.js options (its heap cap): Lambda starts it with them.
      const nodeOptions = resource.Properties?.Environment?.Variables?.NODE_OPTIONS ?? '';
      const dir = join(out, String(resource.Metadata?.['aws:asset:path']));
      const bytes = readdirSync(dir)
        .filter((f) => f.endsWith('.js'))
        .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
      const bundle = join(dir, 'index.js');
      // Each in a fresh process with the function's NODE_OPTIONS, loaded with require() as Lambda
      // loads a CommonJS handler.
      const node = async (script: string) => {
        const { stdout } = await run('node', ['-e', script], {
          cwd: dir,
          // The shipped config as the function has it, beside its bundle (read on first use).
          env: {
            ...process.env,
            ...coldStartEnv,
            DEFAULT_CONFIG_FILE: join(dir, 'queuewatch.json'),
            NODE_OPTIONS: nodeOptions,
          },
        });
        return stdout;
      };
      // The AWS SDK modules the bundle requires as it loads (the runtime provides them, outside the
      // bundle), as Node.js sees them requested.
      const sdk = JSON.parse(
        await node(
          `const Module = require('node:module'); const load = Module._load; const seen = new Set();
           Module._load = function (request, parent, isMain) {
             if (parent?.filename === ${JSON.stringify(bundle)} && request.startsWith('@aws-sdk/')) seen.add(request);
             return load.apply(this, arguments);
           };
           require(${JSON.stringify(bundle)});
           process.stdout.write(JSON.stringify([...seen].sort()));`,
        ),
      ) as string[];
      if (sdk.length === 0) throw new Error(`${name}: its bundle required no AWS SDK module as it loaded`);
      const sdkRequire = `for (const m of ${JSON.stringify(sdk)}) require(m);`;
      const bundleRequire = `require(${JSON.stringify(bundle)});`;
      // The bundle; the SDK modules it uses alone; the bundle once they are loaded (our own code's
      // share).
      const loadOnce = async (before: string, measured: string) =>
        Number(
          await node(
            `${before} const t = performance.now(); ${measured} process.stdout.write(String(performance.now() - t));`,
          ),
        );
      const times: number[] = [];
      const own: number[] = [];
      const sdkAlone: number[] = [];
      // One untimed first (beside the load above that found the SDK modules): the first function
      // measured after the synth otherwise reads its files, and the SDK's, from a cold page cache
      // (the scan came out 30% slower than the rest).
      await loadOnce(sdkRequire, bundleRequire);
      // Fifteen of each, interleaved, so that a busy moment of a shared machine moves each median
      // alike (with nine, the worst ratio's spread from run to run, about ±0.04, was as wide as its
      // margin).
      for (let i = 0; i < loads; i++) {
        times.push(await loadOnce('', bundleRequire));
        sdkAlone.push(await loadOnce('', sdkRequire));
        own.push(await loadOnce(sdkRequire, bundleRequire));
      }
      results.push({
        name,
        kb: round(bytes / 1024, 1),
        loadMs: Math.round(median(times)),
        ownMs: Math.round(median(own)),
        sdkMs: Math.round(median(sdkAlone)),
        sdk,
      });
    }
    const ratioOf = (r: (typeof results)[number]) => round(r.loadMs / Math.max(r.sdkMs, 1));
    const worst = Math.max(...results.map(ratioOf));
    const holds = results.length > 0 && results.every((r) => r.kb < 500 && ratioOf(r) <= 1.35);
    return {
      scenario: '6. cold start (bundles)',
      figure: results
        .map((r) => `${r.name} ${r.kb} KB, load ${r.loadMs} ms (our code ${r.ownMs} ms)`)
        .join('; '),
      baseline: `the AWS SDK clients each requires, alone (all with the function's NODE_OPTIONS): ${results.map((r) => `${r.name} ${r.sdkMs} ms`).join(', ')}`,
      ratio: round(worst),
      target: 'each bundle < 500 KB; loading it ≤ 1.35 × loading its SDK clients alone (worst shown)',
      holds,
      details: Object.fromEntries([
        ['loadsOfEachKind', loads],
        ...results.flatMap((r) => [
          [`${r.name}Kb`, r.kb],
          [`${r.name}LoadMs`, r.loadMs],
          [`${r.name}OwnLoadMs`, r.ownMs],
          [`${r.name}SdkAloneMs`, r.sdkMs],
          [`${r.name}Sdk`, r.sdk.join(' ')],
        ]),
      ]),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(configDir, { recursive: true, force: true });
  }
}

/** Loads of each kind (the bundle; its SDK clients alone; the bundle once they are loaded) per
 * function; three with --quick. */
const COLD_START_LOADS = 15;

/** What the functions' module scope reads at cold start (names only; nothing is called). */
const coldStartEnv = {
  AWS_REGION: 'eu-west-2',
  MIRROR_TABLE: 'bench-mirror',
  LEDGER_TABLE: 'bench-ledger',
  AUDIT_TABLE: 'bench-audit',
  STATE_TABLE: 'bench-state',
  REJECTS_TABLE: 'bench-rejects',
  ACK_LINKS_TABLE: 'bench-acklinks',
  FLOW_TABLE: 'bench-flow',
  ACK_BASE_URL: 'https://ack.example.org',
  ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-2:000000000000:bench-alerts',
  OPS_TOPIC_ARN: 'arn:aws:sns:eu-west-2:000000000000:bench-ops',
  CONFIG_PARAMETER: '/queuewatch/bench/config',
  SIGNALS_AT: '06:30',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

await main();
