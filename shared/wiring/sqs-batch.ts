// An SQS batch of feed messages through the ingest use case, with Powertools' partial batch
// processing: each record handled on its own, and those that failed for a passing reason returned
// to SQS as batch item failures (retried, then caught by the DLQ).

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type IngestDeps, type IngestSummary, startIngestBatch } from '../ingest/ingest-batch.ts';

export interface IngestResult {
  response: SQSBatchResponse;
  summary: IngestSummary;
}

export async function ingestSqsBatch(
  event: SQSEvent,
  deps: IngestDeps,
  nowMs: number,
): Promise<IngestResult> {
  const batch = startIngestBatch(event.Records.length, deps, nowMs);
  // A new processor per batch: no state carried between invocations. Every message failing is
  // returned as a full list rather than thrown, so SQS retries them the same way.
  const response = await processPartialResponse(event, batch.handle, new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
  });
  return { response, summary: await batch.finish() };
}
