// Shared builders for the unit tests: synthetic cases (opaque references only, never personal
// data), the shipped config loaded once, config variants built from its text, and an SMS oracle
// that does not depend on the library the product uses.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSRecord } from 'aws-lambda';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { configFileJson, DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from '#shared/config/load.ts';
import type { AlertLine } from '#shared/domain/alert-line.ts';
import type { CaseRecord, CaseView } from '#shared/domain/case.ts';
import type { Level } from '#shared/domain/levels.ts';
import { emptySection, type GroupMessage } from '#shared/domain/notify.ts';
import type { RawRecord } from '#shared/io/case-file.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Milliseconds since the epoch of an ISO instant; throws on a typo rather than returning NaN. */
export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${iso}`);
  return ms;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** A valid, open, high-risk domestic abuse case awaiting risk assessment in D01. */
export function aCase(overrides: Partial<CaseRecord> = {}): CaseRecord {
  return {
    caseRef: 'DA-000-0000001',
    category: 'domestic-abuse',
    riskLevel: 'high',
    district: 'D01',
    stage: 'awaiting-risk-assessment',
    stageEnteredAt: '2026-03-29T00:30:00.000Z',
    childrenInvolved: false,
    sourceUpdatedAt: '2026-03-29T00:30:00.000Z',
    ...overrides,
  };
}

/** The same case as the scan reads it from the open-cases index, which has no sourceUpdatedAt. */
export function aCaseView(overrides: Partial<CaseView> = {}): CaseView {
  const { sourceUpdatedAt: _, ...view } = aCase();
  return { ...view, ...overrides };
}

/** A synthetic reference: DA-000-0000001, DA-000-0000002, ... */
export const ref = (n: number, prefix = 'DA') => `${prefix}-000-${String(n).padStart(7, '0')}`;

let cached: CompiledConfig | undefined;
/** The shipped config, compiled once per test file. */
export function defaultConfig(): CompiledConfig {
  cached ??= loadConfig();
  return cached;
}

export const defaultConfigText = (): string => readFileSync(DEFAULT_CONFIG_PATH, 'utf8');

let shippedJson: string | undefined;
/** The shipped config as a deployed function has it: the JSON file the synth writes beside its
 * bundle (DEFAULT_CONFIG_FILE), written once per test file. */
export function shippedConfigJsonPath(): string {
  if (shippedJson === undefined) {
    shippedJson = join(mkdtempSync(join(tmpdir(), 'qw-shipped-')), 'queuewatch.json');
    writeFileSync(shippedJson, configFileJson());
  }
  return shippedJson;
}

/** The shipped config's text with each [from, to] replaced once; fails if `from` is not there,
 * so a test never silently checks the unchanged config. */
export function configTextWith(...edits: Array<[from: string, to: string]>): string {
  let text = defaultConfigText();
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`the default config has no ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

export const configWith = (...edits: Array<[from: string, to: string]>): CompiledConfig =>
  parseConfig(configTextWith(...edits), 'test.yaml');

/** Raw records as the case-file reader yields them, numbered from line 1. */
export function rawRecords(items: unknown[]): RawRecord[] {
  return items.map((raw, index) => ({ line: index + 1, raw }));
}

export function alertLine(n: number, ageMs: number, overrides: Partial<AlertLine> = {}): AlertLine {
  return {
    caseRef: ref(n),
    category: 'domestic-abuse',
    riskLevel: 'high',
    stage: 'awaiting-risk-assessment',
    ageMs,
    ...overrides,
  };
}

/** A message to the D01 supervisor listing `cases` at `level` (all new unless `newCount` says). */
export function aGroupMessage(
  cases: AlertLine[] = [alertLine(1, 30 * HOUR)],
  options: { level?: Level; newCount?: number; overrides?: Partial<GroupMessage> } = {},
): GroupMessage {
  const level = options.level ?? 'breach';
  const newCount = options.newCount ?? cases.length;
  const sections = { warning: emptySection(), breach: emptySection(), escalation: emptySection() };
  sections[level] = {
    count: cases.length,
    newCount,
    lines: cases,
    newRefs: new Set(cases.slice(0, newCount).map((c) => c.caseRef)),
  };
  return {
    audience: 'district-supervisor',
    place: 'D01',
    placeName: 'D01 Northgate',
    atMs: Date.parse('2026-11-27T09:00:00Z'),
    sections,
    acknowledged: 0,
    resolved: [],
    resolvedCount: 0,
    linkBase: 'https://qw.example.police.uk/q',
    ...options.overrides,
  };
}

export const PII_MARKERS = ['SYNTHETIC-PERSON-', 'SYNTHETIC-ADDRESS-', 'SYNTHETIC-NOTE-'] as const;

/** The first PII marker found in a text, or undefined. */
export const piiMarkerIn = (text: string) => PII_MARKERS.find((marker) => text.includes(marker));

// GSM 03.38: the basic set (one septet each) and the extension set (escape + one septet).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

/** An independent single-segment check: 160 septets in GSM-7, else 70 UTF-16 code units. */
export function fitsOneSmsSegment(text: string): boolean {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.has(char)) septets += 1;
    else if (GSM_EXTENSION.has(char)) septets += 2;
    else return text.length <= 70;
  }
  return septets <= 160;
}

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; file(name: string, content: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'queuewatch-test-'));
  return {
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `queuewatch` as a user would, from the repository root (the bundle the test setup built).
 * `env` is added to the test's environment (a value of undefined removes a variable). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const merged: Record<string, string | undefined> = { ...process.env, QUEUEWATCH_DEBUG: '', ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/queuewatch.js', ...args],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: merged,
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** An SQS record carrying a feed message, as the ingest function receives it. */
export function sqsRecord(
  messageId: string,
  body: string,
  sentAtMs = Date.parse('2026-03-29T06:00:00Z'),
): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAtMs),
      SenderId: 'AIDASOURCESYSTEM',
      ApproximateFirstReceiveTimestamp: String(sentAtMs),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-2:000000000000:queuewatch-ingest',
    awsRegion: 'eu-west-2',
  };
}
