// The feed's consumer: SQS batches of case changes into the mirror, with partial batch failures
// (rejected messages are kept and acknowledged; transient failures go back to SQS for a retry).

// First, so that a stack traced while anything else loads is mapped too.
import '#shared/lambda/stack-traces.ts';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { withObservability } from '#shared/lambda/observability.ts';
import { awsIngestDeps } from '#shared/wiring/ingest.ts';
import { ingestSqsBatch } from '#shared/wiring/sqs-batch.ts';

const deps = awsIngestDeps();

export const handler = withObservability(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { response } = await ingestSqsBatch(event, await deps(), Date.now());
  return response;
});
