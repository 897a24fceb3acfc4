// The ingest use case with in-memory adapters: what is applied, rejected, retried, counted, logged
// and reported for a batch of SQS messages.

import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryMirror } from '#shared/adapters/memory-mirror.ts';
import { MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { VersionedRecord } from '#shared/ingest/change.ts';
import type { IngestDeps } from '#shared/ingest/ingest-batch.ts';
import type { RejectedMessage } from '#shared/ingest/ports.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';
import { aCase as baseCase, sqsRecord } from '#test/support/fixtures.ts';

const NOW = Date.parse('2026-03-29T06:00:00Z');
const vocabulary = loadConfig().vocabulary;

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A case as the source sends it (instants without milliseconds), any field overridable. */
const aCase = (caseRef: string, overrides: Record<string, unknown> = {}) => ({
  ...baseCase({ caseRef, stageEnteredAt: '2026-03-29T00:30:00Z', sourceUpdatedAt: '2026-03-29T01:00:00Z' }),
  ...overrides,
});
const body = (changeType: string, c: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    changeType,
    case: { ...c, subjectName: 'SYNTHETIC-PERSON-1', notes: 'SYNTHETIC-NOTE-1' },
    ...extra,
  });

function harness(overrides: Partial<IngestDeps> = {}) {
  const mirror = new MemoryMirror();
  const rejects: RejectedMessage[] = [];
  const ingests: number[] = [];
  const ops = new MemoryOpsNotifier();
  const logs: unknown[] = [];
  const metrics: Record<string, number> = {};
  const deps: IngestDeps = {
    mirror,
    rejects: { record: async (r) => void rejects.push(r) },
    state: { recordIngest: async (atMs) => void ingests.push(atMs) },
    ops,
    vocabulary,
    logger: {
      info: (...args) => void logs.push(['info', ...args]),
      warn: (...args) => void logs.push(['warn', ...args]),
      error: (...args) => void logs.push(['error', ...args]),
    },
    metrics: {
      addMetric: (name, _unit, value) => {
        metrics[name] = (metrics[name] ?? 0) + value;
      },
    },
    ...overrides,
  };
  return { deps, mirror, rejects, ingests, ops, logs, metrics };
}

describe('ingestSqsBatch', () => {
  it('applies the good messages, keeps the invalid ones with reasons and acknowledges both', async () => {
    const h = harness();
    await h.mirror.apply(
      {
        record: {
          ...aCase('DA-000-0000003'),
          sourceUpdatedAt: '2026-03-29T05:00:00.000Z',
          stageEnteredAt: '2026-03-29T00:30:00.000Z',
        },
      } as VersionedRecord,
      NOW,
    );
    const { response, summary } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m2', body('created', aCase('DA-000-0000002'), { sourceSequence: 4 })),
        sqsRecord('m3', body('updated', aCase('DA-000-0000003'))), // older than stored: stale
        sqsRecord('m4', body('created', aCase('DA-000-0000004', { district: 'D99' }))),
        sqsRecord('m5', '{"changeType":"created","case":{"caseRef":"DA-000-00'),
        sqsRecord('m6', body('created', aCase('DA-000-0000006', { riskLevel: 'severe' }))),
      ),
      h.deps,
      NOW,
    );

    expect(response.batchItemFailures).toEqual([]);
    expect([...h.mirror.items.keys()].sort()).toEqual(['DA-000-0000001', 'DA-000-0000002', 'DA-000-0000003']);
    expect(h.mirror.items.get('DA-000-0000003')?.sourceUpdatedAt).toBe('2026-03-29T05:00:00.000Z');
    expect(summary.applied).toEqual({ created: 2, updated: 0, unchanged: 0, stale: 1, replaced: 0 });
    expect(h.rejects.map((r) => [r.messageId, r.code, r.caseRef])).toEqual(
      expect.arrayContaining([
        ['m4', 'unknown-district', 'DA-000-0000004'],
        ['m5', 'invalid-json', undefined],
        ['m6', 'invalid-fields', 'DA-000-0000006'],
      ]),
    );
    expect(h.rejects).toHaveLength(3);
    expect(h.rejects.find((r) => r.messageId === 'm6')?.reason).toMatch(/riskLevel must be one of/);
    expect(h.rejects.find((r) => r.messageId === 'm4')?.fields).toMatchObject({
      changeType: 'created',
      case: {
        caseRef: 'DA-000-0000004',
        riskLevel: 'high',
        district: '[withheld: a string of 3 characters]',
      },
    });
    expect(h.rejects.find((r) => r.messageId === 'm4')?.reason).toBe(
      "case: district is not one of the config's districts",
    );
    expect(h.metrics).toMatchObject({
      IngestedMessages: 3,
      ChangedCases: 2,
      RejectedMessages: 3,
      RetriedMessages: 0,
    });
    expect(h.ingests).toEqual([NOW]);
    expect(h.ops.messages).toHaveLength(1);
    expect(h.ops.messages[0]?.text).toMatch(/unknown-district: 1 \(cases DA-000-0000004\)/);
    expect(h.ops.messages[0]?.text).toMatch(/invalid-json: 1 \(1 without a valid case reference\)/);
    // No personal data anywhere it could leak.
    const everything = JSON.stringify([h.rejects, h.ops.messages, h.logs, summary, [...h.mirror.items]]);
    expect(everything).not.toMatch(/SYNTHETIC-(PERSON|NOTE|ADDRESS)/);
  });

  it('rejects implausible dates, names in vocabulary columns and forbidden keys by code, quoting none of them', async () => {
    const h = harness();
    const { response, summary } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m2', body('created', aCase('DA-000-0000002', { stageEnteredAt: '1987-06-05T00:00:00Z' }))),
        sqsRecord(
          'm3',
          body('created', aCase('DA-000-0000003', { sourceUpdatedAt: '2099-01-01T00:00:00Z' })),
        ),
        sqsRecord('m4', body('created', aCase('DA-000-0000004', { stageEnteredAt: '2026-03-29T06:06:00Z' }))),
        sqsRecord('m5', body('created', aCase('DA-000-0000005', { category: 'synthetic-person-5' }))),
        sqsRecord('m6', body('created', aCase('Synthetic Person 6'))),
        sqsRecord(
          'm7',
          `{"changeType":"created","case":{"__proto__":{"notes":"SYNTHETIC-NOTE-7"},${JSON.stringify(aCase('DA-000-0000007')).slice(1)}}`,
        ),
        sqsRecord(
          'm8',
          `{"changeType":"created","case":${JSON.stringify(aCase('DA-000-0000008'))},"notes":"${'x'.repeat(1024 * 1024)}"}`,
        ),
      ),
      h.deps,
      NOW,
    );

    expect(response.batchItemFailures).toEqual([]);
    expect([...h.mirror.items.keys()]).toEqual(['DA-000-0000001']);
    expect(h.rejects.map((r) => [r.messageId, r.code, r.caseRef]).sort()).toEqual([
      ['m2', 'implausible-date', 'DA-000-0000002'],
      ['m3', 'implausible-date', 'DA-000-0000003'],
      ['m4', 'future-stage', 'DA-000-0000004'],
      ['m5', 'unknown-category', 'DA-000-0000005'],
      ['m6', 'invalid-fields', undefined],
      ['m7', 'invalid-fields', 'DA-000-0000007'],
      ['m8', 'too-large', undefined],
    ]);
    expect(h.rejects.find((r) => r.messageId === 'm2')?.reason).toBe(
      'case: stageEnteredAt is too early: it must be from 2018-01-01T00:00:00.000Z to 5 minutes after now (2026-03-29T06:05:00.000Z)',
    );
    expect(h.rejects.find((r) => r.messageId === 'm7')?.reason).toBe(
      'case: __proto__ is not allowed as a field name',
    );
    expect(h.rejects.find((r) => r.messageId === 'm2')?.fields).toMatchObject({
      case: { caseRef: 'DA-000-0000002', stageEnteredAt: '[withheld: a string of 20 characters]' },
    });
    expect(summary.rejected).toHaveLength(7);
    expect(h.metrics).toMatchObject({ IngestedMessages: 1, RejectedMessages: 7, RetriedMessages: 0 });
    expect(h.ops.messages[0]?.text).toMatch(/implausible-date: 2 \(cases DA-000-0000002, DA-000-0000003\)/);
    const everything = JSON.stringify([h.rejects, h.ops.messages, h.logs, summary]);
    expect(everything).not.toMatch(
      /SYNTHETIC|Synthetic Person|synthetic-person|1987-06-05|2099-01-01|06:06:00/,
    );
  });

  it('treats a repeat as unchanged and a rewrite of the same version as a conflict to keep', async () => {
    const h = harness();
    const { summary } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m2', body('created', aCase('DA-000-0000002'))),
      ),
      h.deps,
      NOW,
    );
    expect(summary.applied.created).toBe(2);
    const second = await ingestSqsBatch(
      event(
        sqsRecord('m3', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m4', body('regraded', aCase('DA-000-0000002', { riskLevel: 'standard' }))),
      ),
      h.deps,
      NOW,
    );
    expect(second.summary.applied).toEqual({ created: 0, updated: 0, unchanged: 1, stale: 0, replaced: 0 });
    expect(h.rejects).toEqual([
      expect.objectContaining({ messageId: 'm4', code: 'conflict', caseRef: 'DA-000-0000002' }),
    ]);
    expect(h.mirror.items.get('DA-000-0000002')?.riskLevel).toBe('high');
  });

  it('returns a message that failed for a passing reason, and only that one, for SQS to retry', async () => {
    const mirror = new MemoryMirror();
    const flaky = {
      apply: async (change: VersionedRecord, nowMs: number) => {
        if (change.record.caseRef === 'DA-000-0000002') {
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return mirror.apply(change, nowMs);
      },
    };
    const h = harness({ mirror: flaky });
    const { response } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m2', body('created', aCase('DA-000-0000002'))),
        sqsRecord('m3', body('created', aCase('DA-000-0000003'))),
      ),
      h.deps,
      NOW,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect([...mirror.items.keys()].sort()).toEqual(['DA-000-0000001', 'DA-000-0000003']);
    expect(h.rejects).toEqual([]);
    expect(h.metrics).toMatchObject({ IngestedMessages: 2, RejectedMessages: 0, RetriedMessages: 1 });
    expect(h.logs).toContainEqual([
      'warn',
      'feed message failed for now; SQS will retry it',
      {
        messageId: 'm2',
        caseRef: 'DA-000-0000002',
        dependency: 'dynamodb:mirror',
        error: { name: 'ThrottlingException', httpStatusCode: 400 },
      },
    ]);
    expect(h.metrics.DependencyFailures).toBe(1);
  });

  it('counts a batch of repeats and stale replays as messages, not changes: the feed still looks silent', async () => {
    const h = harness();
    const stored = aCase('DA-000-0000001', { sourceUpdatedAt: '2026-03-29T05:00:00Z' });
    await ingestSqsBatch(event(sqsRecord('m0', body('created', stored))), h.deps, NOW - 3_600_000);
    h.ingests.length = 0;
    for (const name of Object.keys(h.metrics)) delete h.metrics[name];

    const { summary } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('updated', stored)), // the same version again
        sqsRecord('m2', body('updated', aCase('DA-000-0000001'))), // older than stored
      ),
      h.deps,
      NOW,
    );

    expect(summary.applied).toMatchObject({ unchanged: 1, stale: 1 });
    expect(h.metrics).toMatchObject({ IngestedMessages: 2, ChangedCases: 0 });
    // The last case change stays where it was, so the digest and the feed-silence alarm see the quiet.
    expect(h.ingests).toEqual([]);
  });

  it('names the dependency that failed in every log line, and counts each failure', async () => {
    const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const h = harness({
      rejects: {
        record: async () => {
          throw refused();
        },
      },
      state: {
        recordIngest: async () => {
          throw Object.assign(new Error('throttled'), {
            name: 'ProvisionedThroughputExceededException',
            $metadata: { httpStatusCode: 400 },
          });
        },
      },
    });
    const { response } = await ingestSqsBatch(
      event(sqsRecord('m1', 'not json'), sqsRecord('m2', body('created', aCase('DA-000-0000001')))),
      h.deps,
      NOW,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(h.logs).toContainEqual([
      'warn',
      'feed message failed for now; SQS will retry it',
      {
        messageId: 'm1',
        caseRef: undefined,
        dependency: 'dynamodb:rejects',
        error: { name: 'Error', code: 'ECONNREFUSED' },
      },
    ]);
    expect(h.logs).toContainEqual([
      'error',
      'could not record the last ingest time',
      {
        dependency: 'dynamodb:state',
        error: { name: 'ProvisionedThroughputExceededException', httpStatusCode: 400 },
      },
    ]);
    expect(h.metrics).toMatchObject({ DependencyFailures: 2, IngestStateFailures: 1, RetriedMessages: 1 });
  });

  it('retries an invalid message whose reject could not be recorded, rather than losing it', async () => {
    const h = harness({
      rejects: {
        record: async () => {
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        },
      },
    });
    const { response } = await ingestSqsBatch(event(sqsRecord('m1', 'not json')), h.deps, NOW);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(h.ops.messages).toEqual([]);
  });

  it('returns every message when the whole batch fails, instead of throwing', async () => {
    const h = harness({
      mirror: {
        apply: async () => {
          throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' });
        },
      },
    });
    const { response } = await ingestSqsBatch(
      event(
        sqsRecord('m1', body('created', aCase('DA-000-0000001'))),
        sqsRecord('m2', body('created', aCase('DA-000-0000002'))),
      ),
      h.deps,
      NOW,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
    expect(h.ingests).toEqual([]);
    expect(h.metrics.IngestedMessages).toBe(0);
  });

  it('still acknowledges the batch when the ops report cannot be sent, and counts that', async () => {
    const h = harness({
      ops: {
        notify: async () => {
          throw new Error('SNS down');
        },
      },
    });
    const { response } = await ingestSqsBatch(event(sqsRecord('m1', '[]')), h.deps, NOW);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.rejects).toHaveLength(1);
    expect(h.metrics.OpsReportFailures).toBe(1);
    expect(h.logs).toContainEqual([
      'error',
      'could not report rejected messages to ops',
      { dependency: 'sns:ops', error: { name: 'Error' } },
    ]);
  });

  it('does not record an ingest when nothing was applied', async () => {
    const h = harness();
    await ingestSqsBatch(event(sqsRecord('m1', '{}')), h.deps, NOW);
    expect(h.ingests).toEqual([]);
    expect(h.metrics).toMatchObject({ IngestedMessages: 0, RejectedMessages: 1 });
  });
});
