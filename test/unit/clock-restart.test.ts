// A change of stage or grade restarts the case's clock: the feed's record carries the new
// stageEnteredAt, the mirror keeps it, and the engine ages the case from it.

import { describe, expect, it } from 'vitest';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { evaluateCase } from '#shared/domain/engine.ts';
import { parseChange } from '#shared/ingest/change.ts';
import { aCase, iso } from '#test/support/fixtures.ts';

const config = loadConfig();
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-20T09:00:00Z');
const NOW = T0 + 10 * 24 * HOUR;

const record = (overrides: Partial<CaseRecord>): CaseRecord =>
  aCase({ riskLevel: 'standard', stageEnteredAt: iso(T0), sourceUpdatedAt: iso(T0), ...overrides });

async function mirrorAfter(changes: Array<[string, CaseRecord]>) {
  const mirror = new MemoryMirror();
  for (const [changeType, c] of changes) {
    const parsed = parseChange(JSON.stringify({ changeType, case: c }), config.vocabulary, NOW);
    if (!parsed.ok) throw new Error(parsed.reason);
    await mirror.apply(parsed, NOW);
  }
  return mirror.items.get('DA-000-0000001') as CaseRecord;
}

describe('clock restarts', () => {
  it('ages a re-graded case from the re-grade, under its new risk level', async () => {
    const regradedAt = new Date(NOW - 5 * HOUR).toISOString();
    const stored = await mirrorAfter([
      ['created', record({})],
      ['regraded', record({ riskLevel: 'high', stageEnteredAt: regradedAt, sourceUpdatedAt: regradedAt })],
    ]);

    const evaluation = evaluateCase(stored, config, NOW);

    expect(stored.stageEnteredAt).toBe(regradedAt);
    expect(evaluation?.rule.id).toBe('da-high-assessment');
    expect(evaluation?.ageMs).toBe(5 * HOUR);
    expect(evaluation?.level).toBe('warning');
  });

  it('ages a case that moved stage from the new stage, even if the change arrives twice and late', async () => {
    const movedAt = new Date(NOW - 2 * HOUR).toISOString();
    const moved = record({ stage: 'awaiting-referral', stageEnteredAt: movedAt, sourceUpdatedAt: movedAt });
    const stored = await mirrorAfter([
      ['stage-changed', moved],
      ['created', record({})],
      ['stage-changed', moved],
    ]);

    expect(stored.stage).toBe('awaiting-referral');
    expect(evaluateCase(stored, config, NOW)?.ageMs).toBe(2 * HOUR);
  });
});
