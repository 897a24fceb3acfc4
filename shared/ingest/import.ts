// Bulk import (backfill and recovery): a source export (JSON Lines, JSON array or CSV) into the
// mirror, with the feed's validation (validateRecord) and ordering rule (ordering.ts).
//
// The file is read in chunks of up to 100 records, several chunks in flight. Per chunk:
// 1. duplicates of a case inside the chunk are settled in memory (the newest wins; a chunk never
//    overlaps an earlier one still in flight for the same case, so file order holds across chunks);
// 2. one consistent BatchGetItem reads what the mirror holds for those cases, and every record that
//    is not newer is counted (unchanged, older than stored, conflict) without a write: a re-run or
//    a resume costs reads only;
// 3. the newer records are written, by strategy:
//    - `conditional` (default): the feed's own MirrorWriter, one conditional PutItem each, so a
//      change the feed writes meanwhile is never overwritten by an older line. Safe beside a live
//      feed.
//    - `exclusive`: BatchWriteItem (25 a request, unprocessed items retried with backoff), about
//      four times faster on dynalite. BatchWriteItem cannot be conditional, so this is only for a
//      table nothing else writes while the import runs (a first load, the feed paused, a local
//      table); against the mirror's state when read it is still exactly the ordering rule.
// Progress is checkpointed as the last line up to which every chunk is committed; `resume` starts
// after it, and the rejects file is cut back to what that checkpoint had written.
//
// Flow (with `flow`): every transition a write makes is recorded, as the feed records it (the
// conditional writer does it itself; batch writes record what they replaced, from the read). A
// run that stops between a mirror write and its flow write leaves that record unchanged for the
// resume to find: the checkpoint keeps each stopped run's write time, and a resumed record the
// mirror already holds from such a run has its transition recorded again (stored once either
// way). A plain re-run records nothing new: what the mirror holds is unchanged.

import {
  createReadStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { toMirrorItem } from '../adapters/mirror-item.ts';
import { knownStage, MirrorWriter, readableVersion, storedTransition } from '../adapters/mirror-writer.ts';
import { CASE_FIELDS, type CaseVocabulary } from '../domain/case.ts';
import { FROM_NEW, type Transition, transitionOf } from '../domain/flow.ts';
import { type CaseFileFormat, readCaseFile } from '../io/case-file.ts';
import { type RejectCode, type Validated, type VersionedRecord, validateRecord } from './change.ts';
import { type ApplyOutcome, isWrite, outcomeOver } from './ordering.ts';
import type { FlowRecorder } from './ports.ts';

export type ImportStrategy = 'conditional' | 'exclusive';

export interface ImportOptions {
  file: string;
  format?: CaseFileFormat;
  client: DynamoDBDocumentClient;
  tableName: string;
  vocabulary: CaseVocabulary;
  /** The instant records are checked against (future stageEnteredAt) and stamped with. */
  nowMs: number;
  /** DynamoDB requests in flight (default 16). */
  concurrency?: number;
  strategy?: ImportStrategy;
  /** Where rejected lines go, one JSON object a line (default: FILE.rejects.jsonl). */
  rejectsFile?: string;
  /** Where progress is checkpointed (default: FILE.checkpoint.json). */
  checkpointFile?: string;
  /** Start after the line the checkpoint recorded (from the beginning if there is none). */
  resume?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** Stop reading, finish the chunks in flight, checkpoint and return (interrupted: true). */
  signal?: AbortSignal;
  /** Records a chunk (default and maximum 100: one BatchGetItem). */
  chunkSize?: number;
  /** Where the transitions the import makes are counted (none: not counted). */
  flow?: FlowRecorder;
}

export interface ImportCounts {
  /** Records read from the file (every line with a record, valid or not). */
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Older than the mirror's version (a line the file itself made older counts once stored). */
  stale: number;
  /** Of the updated: stored items that could not be read as a case (malformed), replaced by the
   * file's valid record (they cannot be compared, so the file wins). */
  replacedMalformed: number;
  rejected: number;
  /** Rejected lines by reason code. */
  reasons: Partial<Record<RejectCode, number>>;
}

export interface ImportProgress {
  counts: ImportCounts;
  /** The furthest line of the file processed so far, and an estimate of the lines in it. */
  line: number;
  totalLines: number;
  elapsedMs: number;
  /** Records processed a second in this run. */
  ratePerSecond: number;
}

export interface ImportReport extends ImportCounts {
  /** created + updated. */
  imported: number;
  strategy: ImportStrategy;
  /** The line up to which everything is committed (the checkpoint). */
  committedLine: number;
  /** Set when this run resumed from a checkpoint: the line it started after. */
  resumedAfterLine?: number;
  /** True when stopped by the signal before the end of the file. */
  interrupted: boolean;
  durationMs: number;
  /** Records processed a second in this run. */
  ratePerSecond: number;
  rejectsFile?: string;
  checkpointFile: string;
}

export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    message: string,
    readonly report?: ImportReport,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface Checkpoint {
  version: 1;
  file: string;
  size: number;
  mtimeMs: number;
  tableName: string;
  line: number;
  rejectsFile: string;
  rejectsBytes: number;
  counts: ImportCounts;
  /** The write time (nowMs) of every run that stopped before the end: a resume records again the
   * transitions of records such a run wrote (see the header). */
  stoppedRuns?: number[];
}

type Entry = { line: number } & Validated<VersionedRecord>;

interface RejectLine {
  line: number;
  code: RejectCode;
  reason: string;
  caseRef?: string;
}

interface ChunkTask {
  firstLine: number;
  lastLine: number;
  done: boolean;
  counts: ImportCounts;
  rejects: RejectLine[];
}

const MAX_CHUNK = 100;
const WRITE_BATCH = 25;
const CHECKPOINT_EVERY_MS = 1000;

export const emptyCounts = (): ImportCounts => ({
  read: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  stale: 0,
  replacedMalformed: 0,
  rejected: 0,
  reasons: {},
});

function addCounts(into: ImportCounts, from: ImportCounts): void {
  into.read += from.read;
  into.created += from.created;
  into.updated += from.updated;
  into.unchanged += from.unchanged;
  into.stale += from.stale;
  // A checkpoint written before this count existed has none.
  into.replacedMalformed = (into.replacedMalformed ?? 0) + (from.replacedMalformed ?? 0);
  into.rejected += from.rejected;
  for (const [code, n] of Object.entries(from.reasons) as Array<[RejectCode, number]>) {
    into.reasons[code] = (into.reasons[code] ?? 0) + n;
  }
}

const processedOf = (c: ImportCounts) => c.read;

/** Where an import of `file` writes its rejects and checkpoint (the defaults beside the file). */
export function importOutputFiles(
  file: string,
  given: { rejects?: string | undefined; checkpoint?: string | undefined } = {},
): { rejectsFile: string; checkpointFile: string } {
  return {
    rejectsFile: given.rejects || `${file}.rejects.jsonl`,
    checkpointFile: given.checkpoint || `${file}.checkpoint.json`,
  };
}

export async function importCases(options: ImportOptions): Promise<ImportReport> {
  const {
    file,
    client,
    tableName,
    vocabulary,
    nowMs,
    concurrency = 16,
    strategy = 'conditional',
    onProgress,
    signal,
  } = options;
  const chunkSize = Math.min(MAX_CHUNK, Math.max(1, options.chunkSize ?? MAX_CHUNK));
  const { rejectsFile, checkpointFile } = importOutputFiles(file, {
    rejects: options.rejectsFile,
    checkpoint: options.checkpointFile,
  });
  const identity = fileIdentity(file);
  const started = performance.now();

  // Where to start, and what the earlier run had counted.
  const checkpoint = options.resume ? readCheckpoint(checkpointFile) : undefined;
  if (checkpoint) checkResumable(checkpoint, identity, tableName, rejectsFile);
  // This run's write time goes in every checkpoint it writes: if it stops, its resume knows it.
  const stoppedRuns = [...(checkpoint?.stoppedRuns ?? []), nowMs];
  const rewrittenBy = new Set(checkpoint?.stoppedRuns ?? []);
  const startLine = checkpoint?.line ?? 0;
  const committed = checkpoint ? structuredClone(checkpoint.counts) : emptyCounts();
  let rejectsBytes = checkpoint?.rejectsBytes ?? 0;
  if (existsSync(rejectsFile)) {
    if (rejectsBytes > 0) truncateSync(rejectsFile, rejectsBytes);
    else rmSync(rejectsFile);
  }
  const thisRun = emptyCounts();
  const totalLines = await countLines(file);

  // Every request waits its turn here; once the signal is given, a request not yet started is not
  // started: the chunks in flight stop where they are (not done, so not past the checkpoint; a
  // resume applies them again, their written lines then unchanged) and the import ends soon after.
  const limit = pLimit(Math.max(1, concurrency));
  const requests: Limited = (call) =>
    limit(() => {
      if (signal?.aborted) throw new ChunkStopped();
      return call();
    });
  const writer = new MirrorWriter(client, tableName, options.flow);
  const tasks: ChunkTask[] = [];
  const pending = new Set<Promise<void>>();
  const inFlight = new Map<string, Promise<void>>();
  let committedLine = startLine;
  let furthestLine = startLine;
  let failure: unknown;
  let lastCheckpointAt = 0;
  let io: Promise<void> = Promise.resolve();
  let ioFailed = false;

  const progress = () =>
    onProgress?.({
      counts: liveCounts(committed, tasks),
      line: furthestLine,
      totalLines,
      elapsedMs: performance.now() - started,
      ratePerSecond: rate(processedOf(thisRun), performance.now() - started),
    });

  // Chunks finish out of order; commit them in order, so the checkpoint is a clean prefix.
  const commit = (force: boolean) => {
    const lines: RejectLine[] = [];
    while (tasks[0]?.done) {
      const task = tasks.shift() as ChunkTask;
      addCounts(committed, task.counts);
      lines.push(...task.rejects);
      committedLine = task.lastLine;
    }
    const text = lines.map((r) => `${JSON.stringify(r)}\n`).join('');
    rejectsBytes += Buffer.byteLength(text);
    const now = performance.now();
    const due = force || now - lastCheckpointAt >= CHECKPOINT_EVERY_MS;
    if (due) lastCheckpointAt = now;
    const snapshot: Checkpoint | undefined = due
      ? {
          version: 1,
          ...identity,
          tableName,
          line: committedLine,
          // Absolute, as the file is: a resume from another directory names the same one.
          rejectsFile: resolve(rejectsFile),
          rejectsBytes,
          counts: structuredClone(committed),
          stoppedRuns,
        }
      : undefined;
    // Rejects first, then the checkpoint that counts them: a crash in between leaves extra lines,
    // which the resume cuts off.
    // A failed write (a full disk) stops the import like any failure: nothing after it is written,
    // so the last checkpoint written still matches the rejects file up to the bytes it counts.
    io = io
      .then(async () => {
        if (ioFailed) return;
        if (text) await appendFile(rejectsFile, text);
        if (snapshot) await writeCheckpoint(checkpointFile, snapshot);
      })
      .catch((error: unknown) => {
        ioFailed = true;
        failure ??= error;
      });
    return io;
  };

  const processChunk = async (entries: Entry[], task: ChunkTask) => {
    const counts = task.counts;
    const reject = (line: number, r: { code: RejectCode; reason: string; caseRef?: string }) => {
      counts.rejected += 1;
      counts.reasons[r.code] = (counts.reasons[r.code] ?? 0) + 1;
      task.rejects.push({
        line,
        code: r.code,
        reason: r.reason,
        ...(r.caseRef ? { caseRef: r.caseRef } : {}),
      });
    };
    const count = (line: number, outcome: ApplyOutcome, change: VersionedRecord, other: string) => {
      if (outcome === 'conflict') reject(line, conflictOf(change, other));
      else if (outcome === 'replaced') {
        // A malformed item found by the write itself (it was readable, or absent, when read).
        counts.updated += 1;
        counts.replacedMalformed += 1;
      } else counts[outcome] += 1;
    };

    // Several lines of one case in a chunk are applied in file order, one round each (round k
    // holds the k-th line of every case), exactly as if they had fallen in different chunks: what
    // is counted and which transitions are recorded never depend on where the chunks fall.
    const rounds: Array<Map<string, { line: number; change: VersionedRecord }>> = [];
    const linesOfCase = new Map<string, number>();
    for (const entry of entries) {
      counts.read += 1;
      if (!entry.ok) {
        reject(entry.line, entry);
        continue;
      }
      const change: VersionedRecord = {
        record: entry.record,
        ...(entry.sourceSequence !== undefined ? { sourceSequence: entry.sourceSequence } : {}),
      };
      const ref = change.record.caseRef;
      const k = linesOfCase.get(ref) ?? 0;
      linesOfCase.set(ref, k + 1);
      let round = rounds[k];
      if (!round) {
        round = new Map();
        rounds[k] = round;
      }
      round.set(ref, { line: entry.line, change });
    }
    for (const round of rounds) await applyRound(round, count, counts);
  };

  const applyRound = async (
    round: Map<string, { line: number; change: VersionedRecord }>,
    count: (line: number, outcome: ApplyOutcome, change: VersionedRecord, other: string) => void,
    counts: ImportCounts,
  ) => {
    const stored = await readVersions(client, tableName, [...round.keys()], requests);
    const toWrite: Array<{ line: number; change: VersionedRecord; outcome: ApplyOutcome }> = [];
    // Stored items that cannot be read as a case have no version to compare: the file's valid
    // record replaces them (bulk import is the recovery tool), and they are counted apart.
    const toReplace: Array<{ line: number; change: VersionedRecord; item: Record<string, unknown> }> = [];
    const again: Transition[] = [];
    for (const [ref, { line, change }] of round) {
      const found = stored.get(ref);
      if (found && !found.version) {
        toReplace.push({ line, change, item: found.item });
        continue;
      }
      const outcome = outcomeOver(found?.version, change);
      if (isWrite(outcome)) toWrite.push({ line, change, outcome });
      else count(line, outcome, change, 'the mirror');
      if (outcome === 'unchanged' && found && rewrittenBy.has(Date.parse(String(found.item.mirroredAt)))) {
        const transition = storedTransition(found.item);
        if (transition) again.push(transition);
      }
    }
    if (options.flow && again.length > 0) await options.flow.record(again, nowMs);
    if (strategy === 'conditional') {
      await Promise.all([
        ...toWrite.map(({ line, change }) =>
          requests(() => withBackoff(() => writer.apply(change, nowMs))).then((outcome) =>
            count(line, outcome, change, 'the mirror'),
          ),
        ),
        ...toReplace.map(({ line, change, item }) =>
          requests(() => withBackoff(() => writer.replaceMalformed(change, nowMs, item))).then(
            ({ outcome, replaced }) => {
              count(line, outcome, change, 'the mirror');
              if (replaced) counts.replacedMalformed += 1;
            },
          ),
        ),
      ]);
    } else {
      // Nothing else writes the table: what was read is what each write replaces. A malformed
      // item's stage counts as the one replaced only when it is a known stage.
      const replacedStage = (item: Record<string, unknown>) => knownStage(item.stage);
      const items = [
        ...toWrite.map(({ change }) => ({
          ...toMirrorItem(change.record, nowMs, change.sourceSequence),
          priorStage: stored.get(change.record.caseRef)?.version?.record.stage ?? FROM_NEW,
        })),
        ...toReplace.map(({ change, item }) => {
          const stage = replacedStage(item);
          return {
            ...toMirrorItem(change.record, nowMs, change.sourceSequence),
            ...(stage ? { priorStage: stage } : {}),
          };
        }),
      ];
      const batches: Array<Promise<void>> = [];
      for (let i = 0; i < items.length; i += WRITE_BATCH) {
        const batch = items.slice(i, i + WRITE_BATCH);
        batches.push(requests(() => writeBatch(client, tableName, batch)));
      }
      await Promise.all(batches);
      if (options.flow) {
        const made = [
          ...toWrite.map(({ change }) =>
            transitionOf(stored.get(change.record.caseRef)?.version?.record, change.record, nowMs),
          ),
          ...toReplace.map(({ change, item }) => {
            const stage = replacedStage(item);
            return stage ? transitionOf({ stage }, change.record, nowMs) : undefined;
          }),
        ].filter((t): t is Transition => t !== undefined);
        if (made.length > 0) await options.flow.record(made, nowMs);
      }
      for (const { line, change, outcome } of toWrite) count(line, outcome, change, 'the mirror');
      for (const { line, change } of toReplace) {
        count(line, 'updated', change, 'the mirror');
        counts.replacedMalformed += 1;
      }
    }
  };

  const dispatch = (entries: Entry[]) => {
    const task: ChunkTask = {
      firstLine: entries[0]?.line ?? 0,
      lastLine: entries.at(-1)?.line ?? 0,
      done: false,
      counts: emptyCounts(),
      rejects: [],
    };
    tasks.push(task);
    const refs = [...new Set(entries.flatMap((e) => (e.ok ? [e.record.caseRef] : [])))];
    const before = [...new Set(refs.flatMap((ref) => inFlight.get(ref) ?? []))];
    const run: Promise<void> = Promise.all(before)
      .then(() => processChunk(entries, task))
      .then(() => {
        task.done = true;
        addCounts(thisRun, task.counts);
        furthestLine = Math.max(furthestLine, task.lastLine);
        commit(false);
        progress();
      })
      .catch((error: unknown) => {
        if (!(error instanceof ChunkStopped)) failure ??= error;
      })
      .finally(() => {
        pending.delete(run);
        for (const ref of refs) if (inFlight.get(ref) === run) inFlight.delete(ref);
      });
    pending.add(run);
    for (const ref of refs) inFlight.set(ref, run);
  };

  let chunk: Entry[] = [];
  let interrupted = false;
  let dispatched = false;
  try {
    for await (const raw of readCaseFile(file, options.format)) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      if (failure !== undefined) break;
      if (raw.line <= startLine) continue;
      chunk.push(
        'error' in raw
          ? { line: raw.line, ok: false, code: raw.code, reason: raw.error }
          : { line: raw.line, ...validateRecord(raw.raw, vocabulary, nowMs) },
      );
      if (chunk.length >= chunkSize) {
        dispatch(chunk);
        dispatched = true;
        chunk = [];
        // Keep a bounded window of chunks in flight: reading never runs far ahead of writing.
        while (pending.size >= Math.max(2, concurrency)) await Promise.race(pending);
      }
    }
  } catch (error) {
    // A file refused before anything was written (a broken header or array) is the caller's to
    // report as it is; a read failing part-way stops like any failure, with a checkpoint.
    if (!dispatched) throw error;
    failure ??= error;
  }
  if (signal?.aborted) interrupted = true;
  if (chunk.length > 0 && !interrupted && failure === undefined) dispatch(chunk);
  while (pending.size > 0) await Promise.race(pending);
  // Stopped after the whole file was read, with chunks left unfinished.
  if (tasks.some((t) => !t.done)) interrupted = true;
  await commit(true);
  // The whole file read: the progress ends at its last line (a JSON array's closing `]` and blank
  // lines at the end hold no record).
  if (!interrupted && failure === undefined && furthestLine < totalLines) {
    furthestLine = totalLines;
    progress();
  }

  const durationMs = performance.now() - started;
  const report: ImportReport = {
    ...committed,
    imported: committed.created + committed.updated,
    strategy,
    committedLine,
    ...(checkpoint ? { resumedAfterLine: startLine } : {}),
    interrupted,
    durationMs,
    ratePerSecond: rate(processedOf(thisRun), durationMs),
    ...(committed.rejected > 0 ? { rejectsFile } : {}),
    checkpointFile,
  };
  if (failure !== undefined) {
    const what = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
    throw new ImportError(
      `import stopped after line ${committedLine} (${what}); fix the cause and re-run with --resume`,
      report,
      { cause: failure },
    );
  }
  if (!interrupted) rmSync(checkpointFile, { force: true });
  return report;
}

const rate = (n: number, ms: number) => (ms > 0 ? Math.round((n * 1000) / ms) : 0);

/** A call to the mirror, run in its turn among the import's concurrent requests. */
type Limited = <T>(call: () => Promise<T>) => Promise<T>;

/** A chunk's request not started because the import was told to stop. */
class ChunkStopped extends Error {
  override name = 'ChunkStopped';
}

/** Committed so far plus the chunks that finished ahead of an earlier one still in flight. */
function liveCounts(committed: ImportCounts, tasks: ChunkTask[]): ImportCounts {
  const counts = structuredClone(committed);
  for (const task of tasks) if (task.done) addCounts(counts, task.counts);
  return counts;
}

function conflictOf(change: VersionedRecord, other: string) {
  const what = change.sourceSequence !== undefined ? 'sourceUpdatedAt and sourceSequence' : 'sourceUpdatedAt';
  return {
    code: 'conflict' as const,
    caseRef: change.record.caseRef,
    reason: `${other} holds other content for the same version (the same ${what}); kept that one`,
  };
}

const PROJECTION_NAMES = Object.fromEntries(
  [...CASE_FIELDS, 'sourceSequence', 'priorStage', 'mirroredAt'].map((field, i) => [`#f${i}`, field]),
);

interface Stored {
  /** Undefined when the item cannot be read as a case (malformed): it has no version to compare. */
  version?: VersionedRecord;
  /** The item's attributes as read (for the transition its version made). */
  item: Record<string, unknown>;
}

/** What the mirror holds for these cases (one consistent BatchGetItem, unprocessed keys retried). */
async function readVersions(
  client: DynamoDBDocumentClient,
  tableName: string,
  refs: string[],
  requests: Limited,
): Promise<Map<string, Stored>> {
  const found = new Map<string, Stored>();
  let keys: Array<Record<string, unknown>> = refs.map((caseRef) => ({ caseRef }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 0) await pause(attempt);
    if (attempt > MAX_ATTEMPTS) throw new ImportError(`${keys.length} reads still unprocessed after retries`);
    const response = await requests(() =>
      withBackoff(() =>
        client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: Object.keys(PROJECTION_NAMES).join(', '),
                ExpressionAttributeNames: PROJECTION_NAMES,
              },
            },
          }),
        ),
      ),
    );
    for (const item of response.Responses?.[tableName] ?? []) {
      const version = readableVersion(item);
      found.set(String(item.caseRef), version ? { version, item } : { item });
    }
    keys = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  return found;
}

async function writeBatch(client: DynamoDBDocumentClient, tableName: string, items: object[]): Promise<void> {
  let requests: Array<{ PutRequest: { Item: Record<string, unknown> } }> = items.map((item) => ({
    PutRequest: { Item: { ...item } },
  }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 0) await pause(attempt);
    if (attempt > MAX_ATTEMPTS)
      throw new ImportError(`${requests.length} writes still unprocessed after retries`);
    const response = await withBackoff(() =>
      client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } })),
    );
    requests = (response.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}

const MAX_ATTEMPTS = 10;
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

/** Exponential backoff with full jitter: 50 ms doubling, at most 5 s. */
const pause = (attempt: number) =>
  new Promise((r) => setTimeout(r, Math.random() * Math.min(5000, 50 * 2 ** attempt)));

/** Retries throttling past the SDK's own few attempts: a bulk load is where it happens. */
async function withBackoff<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const throttled = error instanceof Error && THROTTLING.has(error.name);
      if (!throttled || attempt >= MAX_ATTEMPTS) throw error;
      await pause(attempt + 1);
    }
  }
}

function fileIdentity(file: string): { file: string; size: number; mtimeMs: number } {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new ImportError(`cannot read ${file}: no such file`);
  return { file: resolve(file), size: stat.size, mtimeMs: Math.round(stat.mtimeMs) };
}

function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    if (parsed.version !== 1 || typeof parsed.line !== 'number') throw new Error('unknown version');
    return parsed;
  } catch (error) {
    throw new ImportError(`checkpoint ${path} is not readable; delete it to start over`, undefined, {
      cause: error,
    });
  }
}

function checkResumable(
  checkpoint: Checkpoint,
  identity: { file: string; size: number; mtimeMs: number },
  tableName: string,
  rejectsFile: string,
): void {
  const problem =
    checkpoint.file !== identity.file
      ? `was for ${checkpoint.file}`
      : checkpoint.size !== identity.size || checkpoint.mtimeMs !== identity.mtimeMs
        ? 'was for another version of the file (its size or time changed)'
        : checkpoint.tableName !== tableName
          ? `was for table ${checkpoint.tableName}`
          : resolve(checkpoint.rejectsFile) !== resolve(rejectsFile)
            ? `wrote its rejects to ${checkpoint.rejectsFile}`
            : undefined;
  if (problem) throw new ImportError(`cannot resume: the checkpoint ${problem}; delete it to start over`);
}

async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint)}\n`);
  renameSync(temporary, path);
}

/** Lines in the file (for the progress bar's total and ETA): newlines, counted as bytes. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  return last === 10 ? lines : lines + 1;
}
