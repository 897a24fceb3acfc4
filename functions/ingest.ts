// The feed's consumer: SQS batches of case changes into the mirror, with partial batch failures
// (rejected messages are kept and acknowledged; transient failures go back to SQS for a retry).

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { withObservability } from '#shared/lambda/observability.ts';
import { awsIngestDeps } from '#shared/wiring/ingest.ts';

const deps = awsIngestDeps();

export const handler = withObservability(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { response } = await ingestBatch(event, await deps(), Date.now());
  return response;
});
