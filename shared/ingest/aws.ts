// The ingest function's adapters, built once from its environment (at cold start): tables and the
// ops topic by name, the case vocabulary from the shipped config. Runtime (SSM) config is the
// scan's; the ingest path only needs the categories and districts.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { recordIngest } from '../adapters/ingest-state.ts';
import { MirrorWriter } from '../adapters/mirror-writer.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoRejectStore } from '../adapters/rejects.ts';
import { loadConfig } from '../config/load.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import { logger, metrics } from '../lambda/observability.ts';
import type { IngestDeps } from './ingest-batch.ts';

export function awsIngestDeps(env: NodeJS.ProcessEnv = process.env): IngestDeps {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const stateTable = requireEnv('STATE_TABLE', env);
  return {
    mirror: new MirrorWriter(doc, requireEnv('MIRROR_TABLE', env)),
    rejects: new DynamoRejectStore(doc, requireEnv('REJECTS_TABLE', env)),
    state: { recordIngest: (atMs) => recordIngest(doc, stateTable, atMs) },
    ops: new SnsOpsNotifier(new SNSClient({}), requireEnv('OPS_TOPIC_ARN', env)),
    vocabulary: loadConfig(optionalEnv('DEFAULT_CONFIG_FILE', env)).vocabulary,
    logger,
    metrics,
  };
}
