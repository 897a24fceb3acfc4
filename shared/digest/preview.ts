// The daily picture without sending it: for `queuewatch digest`. Either a synthetic queue after one
// real scan run (in memory, so the alert ledger holds what a first run would have sent), or the
// tables of a local or deployed stack, read only: nothing is claimed, sent or stored.

import { MemoryLedger } from '../adapters/memory-ledger.ts';
import { MemoryAuditLog } from '../adapters/memory-sinks.ts';
import { toMirrorItem } from '../adapters/mirror-item.ts';
import { memoryOpenCases } from '../adapters/mirror-reader.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { maskContacts } from '../config/contacts.ts';
import { caseFields } from '../domain/case.ts';
import { generateQueue } from '../generate/queue.ts';
import type { LedgerStore, OpenCaseSource } from '../scan/ports.ts';
import { groupId } from '../scan/ports.ts';
import { runScan } from '../scan/run-scan.ts';
import type { SignalStateStore } from '../signals/ports.ts';
import { type DigestGroup, digestGroups } from './picture.ts';
import type { DigestStore, FeedHealth } from './ports.ts';
import { type Gathered, gatherDigests } from './run-digest.ts';
import { currentSlot } from './schedule.ts';

export class UnknownDigestError extends Error {
  override name = 'UnknownDigestError';
}

/** The digest groups to show: all, or those named by audience or audience@place. */
export function selectGroups(config: CompiledConfig, wanted: readonly string[] | undefined): DigestGroup[] {
  const groups = digestGroups(config);
  if (!wanted || wanted.length === 0) return groups;
  const picked = groups.filter(
    (g) => wanted.includes(g.audience) || wanted.includes(groupId(g.audience, g.place)),
  );
  const known = new Set(groups.flatMap((g) => [g.audience, groupId(g.audience, g.place)]));
  // Shown as typed when shaped like an audience or audience@place; anything else (an address or a
  // phone number typed by mistake: staff's personal data) masked, as config errors show them.
  const unknown = wanted
    .filter((w) => !known.has(w))
    .map((w) => (/^[A-Za-z0-9-]+(@[A-Za-z0-9-]+)?$/.test(w) ? w : maskContacts(w)));
  if (unknown.length > 0) {
    throw new UnknownDigestError(
      `no daily digest for ${unknown.join(', ')}: the config's digest goes to ${groups.map((g) => groupId(g.audience, g.place)).join(', ') || 'nobody (digest.audiences is empty)'}`,
    );
  }
  return picked;
}

export interface SyntheticPreview {
  gathered: Gathered;
  day: string;
  /** What the scan run before it sent (so its alerts are in the ledger). */
  alertsSent: number;
}

/** A seeded synthetic queue as of `nowMs`, one scan run over it, then the digests. The feed's last
 * change is the newest case update in the queue. */
export async function syntheticDigests(
  config: CompiledConfig,
  nowMs: number,
  options: { open: number; seed: number; groups: readonly DigestGroup[] },
): Promise<SyntheticPreview> {
  const records = [
    ...generateQueue({
      open: options.open,
      seed: options.seed,
      nowMs,
      districts: Object.keys(config.file.districts),
    }),
  ].map(caseFields);
  const items: Record<string, unknown>[] = records.map((r) => ({ ...toMirrorItem(r, nowMs) }));
  const source = memoryOpenCases(items);
  const ledger = new MemoryLedger();
  let sequence = 0;
  const scan = await runScan({
    config,
    nowMs,
    runId: 'preview-scan',
    source,
    ledger,
    publisher: { publish: async () => `preview-${++sequence}` },
    audit: new MemoryAuditLog(),
  });
  const lastIngestAt = Math.max(0, ...records.map((r) => Date.parse(r.sourceUpdatedAt)));
  const day = currentSlot(config.file.digest.at, nowMs).day;
  const gathered = await gatherDigests({
    config,
    nowMs,
    day,
    source,
    ledger,
    feed: { lastIngestAt: async () => (records.length > 0 ? lastIngestAt : undefined) },
    history: {},
    groups: options.groups,
  });
  return { gathered, day, alertsSent: scan.messages.length };
}

/** The digests a run would send now from these tables (read only). */
export async function storedDigests(
  config: CompiledConfig,
  nowMs: number,
  deps: {
    source: OpenCaseSource;
    ledger: Pick<LedgerStore, 'loadGroups' | 'loadCaseShards'>;
    feed: FeedHealth;
    store: Pick<DigestStore, 'history'>;
    groups: readonly DigestGroup[];
    feedQuietAfterMs?: number;
    signals?: Pick<SignalStateStore, 'load'>;
  },
): Promise<{ gathered: Gathered; day: string }> {
  const day = currentSlot(config.file.digest.at, nowMs).day;
  const { days } = await deps.store.history();
  const gathered = await gatherDigests({
    config,
    nowMs,
    day,
    source: deps.source,
    ledger: deps.ledger,
    feed: deps.feed,
    history: days,
    groups: deps.groups,
    ...(deps.feedQuietAfterMs !== undefined ? { feedQuietAfterMs: deps.feedQuietAfterMs } : {}),
    ...(deps.signals ? { signals: deps.signals } : {}),
  });
  return { gathered, day };
}
