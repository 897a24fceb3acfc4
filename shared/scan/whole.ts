// The whole queue and the whole ledger at once, for the daily digest and `queuewatch status` (the
// scan itself goes shard by shard): every shard read in turn into one sink, every group's state and
// acknowledgement with every case record.

import type { CompiledConfig } from '../config/compile.ts';
import { ALL_SHARDS } from '../domain/shards.ts';
import { groupKeysOf } from './ledger-keys.ts';
import type { CaseShardsSnapshot, GroupsSnapshot, LedgerStore, OpenCaseSource } from './ports.ts';
import { addReadStats, type CaseSink, emptyReadStats, type ReadStats, readOpenCases } from './read-cases.ts';

/** The whole ledger: what a run reads in parts. */
export interface LedgerSnapshot extends GroupsSnapshot, CaseShardsSnapshot {}

export async function readAllOpenCases(
  source: OpenCaseSource,
  config: CompiledConfig,
  nowMs: number,
  sink: CaseSink,
): Promise<ReadStats> {
  const stats = emptyReadStats();
  // A source switching indexes decides what it reads (the scan reports why; here it only reads).
  await source.prepare?.();
  for (const shard of source.shards([...config.vocabulary.districts])) {
    addReadStats(stats, await readOpenCases(source.pages(shard), config, nowMs, sink));
  }
  return stats;
}

export async function loadLedger(
  ledger: Pick<LedgerStore, 'loadGroups' | 'loadCaseShards'>,
  config: CompiledConfig,
): Promise<LedgerSnapshot> {
  const [groups, cases] = await Promise.all([
    ledger.loadGroups(groupKeysOf(config)),
    ledger.loadCaseShards(ALL_SHARDS, Object.keys(config.file.audiences)),
  ]);
  return { ...groups, ...cases, unreadable: groups.unreadable + cases.unreadable };
}
