// The scan handler's contract: the config in force, metrics with a heartbeat only for a whole
// successful run, and a failed publish reported to ops and raised (so the Errors alarm fires).

import { describe, expect, it, vi } from 'vitest';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog, MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import type { StateStore } from '#shared/adapters/state-store.ts';
import { loadConfig } from '#shared/config/load.ts';
import { metrics } from '#shared/lambda/observability.ts';
import { createScanHandler, ScanDeliveryError, type ScanDeps } from '#shared/scan/handler.ts';
import type { OpenCaseSource, Publisher } from '#shared/scan/ports.ts';

const config = loadConfig();
const AT = '2026-11-27T09:00:00.000Z';
const item = {
  caseRef: 'DA-000-0000001',
  category: 'domestic-abuse',
  riskLevel: 'high',
  district: 'D01',
  stage: 'awaiting-risk-assessment',
  stageEnteredAt: '2026-11-26T03:00:00.000Z',
  childrenInvolved: false,
  openQueue: 'open',
};

class MemoryState implements StateStore {
  readonly items = new Map<string, Record<string, unknown>>();
  async get(name: string) {
    return this.items.get(name);
  }
  async put(name: string, value: Record<string, unknown>) {
    this.items.set(name, value);
  }
}

function deps(items: Record<string, unknown>[], publisher: Publisher = new CallbackPublisher()) {
  const source: OpenCaseSource = {
    async *pages() {
      yield items;
    },
  };
  const ops = new MemoryOpsNotifier();
  const built: ScanDeps = {
    config: async () => ({ config, source: 'parameter' }),
    source,
    ledger: new MemoryLedger(),
    publisher,
    audit: new MemoryAuditLog(),
    ops,
    state: new MemoryState(),
  };
  return { built, ops };
}

const context = { awsRequestId: 'req-1' };

describe('the scan handler', () => {
  it('evaluates as of event.at and emits a heartbeat after a whole run', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { built } = deps([item]);

    const result = await createScanHandler(built)({ at: AT }, context);

    expect(result.at).toBe(AT);
    expect(result.runId).toBe('req-1');
    expect(result.levels.breach).toBe(1);
    expect(addMetric).toHaveBeenCalledWith('Heartbeat', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('OpenCases', 'Count', 1);
    addMetric.mockRestore();
  });

  it('raises, tells ops and skips the heartbeat when a publish fails', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const failing: Publisher = {
      publish: async () => {
        throw Object.assign(new Error('boom'), { name: 'InternalErrorException' });
      },
    };
    const { built, ops } = deps([item], failing);

    const run = createScanHandler(built)({ at: AT }, context);

    await expect(run).rejects.toBeInstanceOf(ScanDeliveryError);
    expect(ops.messages[0]?.subject).toMatch(/failed to publish/);
    expect(ops.messages[0]?.text).not.toContain('boom');
    expect(addMetric).not.toHaveBeenCalledWith('Heartbeat', 'Count', 1);
    addMetric.mockRestore();
  });

  it('reports invalid mirror items to ops once, not every run', async () => {
    const bad = { ...item, caseRef: 'DA-000-0000002', category: 'burglary' };
    const { built, ops } = deps([item, bad]);
    const handler = createScanHandler(built);

    const first = await handler({ at: AT }, context);
    await handler({ at: AT }, context);

    expect(first.invalid).toEqual([
      { caseRef: 'DA-000-0000002', reason: expect.stringMatching(/^category is not one of/) },
    ]);
    expect(ops.messages.filter((m) => /invalid items/.test(m.subject))).toHaveLength(1);
  });

  it('rejects an event.at that is not an instant', async () => {
    const { built } = deps([]);

    await expect(createScanHandler(built)({ at: 'yesterday' }, context)).rejects.toThrow(/event.at/);
  });
});
