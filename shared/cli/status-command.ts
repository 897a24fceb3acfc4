// `queuewatch status`: the live picture from the mirror, locally (--endpoint) or on AWS (--stage):
// open cases by district and level, and the oldest case of each category. It reads the open-cases
// index through the scan's own OpenCaseSource and evaluates with the scan's engine and limits.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lastIngest } from '../adapters/ingest-state.ts';
import { mirrorOpenCases } from '../adapters/mirror-reader.ts';
import { MIRROR_TABLE, STATE_TABLE } from '../adapters/tables.ts';
import { type QueueStatus, queueStatus, STATUS_COLUMNS } from '../app/status.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { DEFAULT_FEED_QUIET_AFTER_MS } from '../digest/run-digest.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { configInForce } from './config-removals.ts';
import { callService } from './errors.ts';
import { plural, print } from './output.ts';
import { expectTable, MIRROR_EXPECTED } from './table-shape.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface StatusOptions extends TargetOptions {
  at?: number;
  config?: string;
  json?: boolean;
}

/** The limits to apply: the file given, else on a stage the config pushed to it, else the shipped
 * one; and where they came from, in words. */
async function limitsFor(options: StatusOptions): Promise<{ config: CompiledConfig; source: string }> {
  if (options.config !== undefined) return { config: loadConfig(options.config), source: options.config };
  if (options.stage !== undefined && options.endpoint === undefined) {
    return configInForce({ stage: options.stage, ...(options.region ? { region: options.region } : {}) });
  }
  return { config: loadConfig(), source: 'the shipped config' };
}

/** An `--at` more than this before the command ran is in the past, and said to be. */
const PAST_AFTER_MS = 60_000;

/** When the feed last delivered a case change, from the state table beside the mirror: a mirror the
 * feed stopped updating still reads as a live queue, so status says how fresh it is. */
export type FeedHealth =
  | { stateTable: string; lastIngestAt: string | null; quiet: boolean }
  | { stateTable: string; unreadable: string };

async function feedHealth(
  client: DynamoDBDocumentClient,
  stateTable: string,
  atMs: number,
): Promise<FeedHealth> {
  try {
    const last = await lastIngest(client, stateTable);
    return {
      stateTable,
      lastIngestAt: last === undefined ? null : new Date(last).toISOString(),
      quiet: last === undefined || atMs - last >= DEFAULT_FEED_QUIET_AFTER_MS,
    };
  } catch (error) {
    // Only the error's name: the mirror's figures stand without it.
    return { stateTable, unreadable: error instanceof Error ? error.name : 'Error' };
  }
}

export async function statusCommand(options: StatusOptions, nowMs: number): Promise<void> {
  const target = tableTarget(options, MIRROR_TABLE.id);
  const { config, source } = await limitsFor(options);
  const at = options.at ?? nowMs;
  const past = at < nowMs - PAST_AFTER_MS;
  const client = dynamoClient(target);
  try {
    const service = { service: 'DynamoDB' as const, resource: target.tableName, ...target };
    await expectTable(client, service, MIRROR_EXPECTED);
    const doc = documentClient(client);
    const status = await callService(service, async () =>
      queueStatus(await mirrorOpenCases(doc, target.tableName), config, at, { past }),
    );
    // Beside the mirror (not known when it is named by --table alone); of no use at a past instant.
    const feed =
      options.table === undefined && !past
        ? await feedHealth(doc, tableTarget(options, STATE_TABLE.id).tableName, at)
        : undefined;
    print(
      options.json
        ? JSON.stringify(
            { table: target.tableName, limits: source, ...status, ...(feed ? { feed } : {}) },
            null,
            2,
          )
        : formatStatus(status, target.tableName, source, past, feed),
    );
  } finally {
    client.destroy();
  }
}

/** How fresh the mirror is, in words, as the daily digest says it. */
export function describeFeed(feed: FeedHealth, atMs: number): string {
  if ('unreadable' in feed) {
    return `feed: when the last case change arrived could not be read from ${feed.stateTable} (${feed.unreadable})`;
  }
  if (feed.lastIngestAt === null) {
    return `FEED QUIET: no case change from the case system has ever been recorded in ${feed.stateTable}: these figures may not reflect the queue`;
  }
  const age = formatAge(Math.max(0, atMs - Date.parse(feed.lastIngestAt)));
  return feed.quiet
    ? `FEED QUIET: no case change has come from the case system for ${age} (since ${feed.lastIngestAt}): these figures may be out of date`
    : `feed: the last case change arrived ${age} ago`;
}

/** An age as a person reads it: 62d 4h, 5h 10m, 12m. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  return hours > 0 ? `${hours}h ${minutes % 60}m` : `${minutes}m`;
}

const HEADINGS: Record<(typeof STATUS_COLUMNS)[number], string> = {
  escalation: 'escalation',
  breach: 'breach',
  warning: 'warning',
  none: 'within',
};

export function formatStatus(
  status: QueueStatus,
  table: string,
  limits: string,
  past = false,
  feed?: FeedHealth,
): string {
  const at = status.at.slice(0, 16).replace('T', ' ');
  const l = status.levels;
  const out = [
    `${table} as of ${at} UTC, limits from ${limits}: ${plural(status.open, 'open case')}`,
    `  ${l.escalation} at escalation, ${l.breach} at breach, ${l.warning} at warning, ${l.none} within limits`,
  ];
  if (status.invalid > 0) {
    out.push(
      `  and ${plural(status.invalid, 'item')} in the open-cases index that could not be evaluated (the scan skips them and tells ops)`,
    );
  }
  if (feed) out.push(`  ${describeFeed(feed, Date.parse(status.at))}`);
  // The mirror holds each case as it is now: an instant in the past is judged on today's cases.
  if (past) {
    out.push(
      `  judged at a past instant on the mirror as it is now: cases closed since are not in it${status.enteredAfter > 0 ? `, and ${plural(status.enteredAfter, 'open case')} that entered ${status.enteredAfter === 1 ? 'its' : 'their'} stage after it ${status.enteredAfter === 1 ? 'is' : 'are'} left out` : ''}; not the queue as it was then`,
    );
  }
  const rows = status.byDistrict.map((d) => [
    `${d.district} ${d.name}`,
    ...STATUS_COLUMNS.map((c) => d.levels[c]),
    d.open,
  ]);
  rows.push(['all', ...STATUS_COLUMNS.map((c) => status.levels[c]), status.open]);
  const header = ['district', ...STATUS_COLUMNS.map((c) => HEADINGS[c]), 'open'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: ReadonlyArray<string | number>) =>
    `  ${cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i] ?? 0) : String(cell).padStart(widths[i] ?? 0))).join('  ')}`;
  out.push('', line(header), ...rows.map(line));
  out.push('', 'oldest open case of each category:');
  const width = Math.max(...status.oldestByCategory.map((c) => c.category.length));
  for (const { category, open, oldest } of status.oldestByCategory) {
    out.push(
      oldest
        ? `  ${category.padEnd(width)}  ${oldest.caseRef}  ${formatAge(oldest.ageMs).padStart(7)}  ${oldest.level === 'none' ? 'within limits' : oldest.level}, ${oldest.district}, ${oldest.riskLevel} risk, ${oldest.stage} (rule ${oldest.rule}; ${plural(open, 'open case')})`
        : `  ${category.padEnd(width)}  no open case`,
    );
  }
  return out.join('\n');
}
