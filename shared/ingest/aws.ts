// The ingest function's adapters, built once from its environment (at cold start): tables (the
// mirror, and the flow it counts) and the ops topic by name. The case vocabulary comes from the config in force, read per batch through
// the same cached source as the scan's, so a district added with `config push` is accepted
// without a deploy.

import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RuntimeConfigSource } from '../adapters/config-source.ts';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { recordIngest } from '../adapters/ingest-state.ts';
import { MirrorWriter } from '../adapters/mirror-writer.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoRejectStore } from '../adapters/rejects.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import { logger, metrics } from '../lambda/observability.ts';
import type { IngestDeps } from './ingest-batch.ts';

/** The ingest adapters, and the config in force for each batch. */
export function awsIngestDeps(env: NodeJS.ProcessEnv = process.env): () => Promise<IngestDeps> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const stateTable = requireEnv('STATE_TABLE', env);
  const ops = new SnsOpsNotifier(new SNSClient({}), requireEnv('OPS_TOPIC_ARN', env));
  const config = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: new SSMClient({}) }),
    requireEnv('CONFIG_PARAMETER', env),
    optionalEnv('DEFAULT_CONFIG_FILE', env),
    new DynamoStateStore(doc, stateTable),
    ops,
  );
  const fixed = {
    // Every transition the mirror makes is counted in the flow table, for the silence signals.
    mirror: new MirrorWriter(
      doc,
      requireEnv('MIRROR_TABLE', env),
      new DynamoFlowStore(doc, requireEnv('FLOW_TABLE', env)),
    ),
    rejects: new DynamoRejectStore(doc, requireEnv('REJECTS_TABLE', env)),
    state: { recordIngest: (atMs: number) => recordIngest(doc, stateTable, atMs) },
    ops,
    logger,
    metrics,
  };
  return async () => ({ ...fixed, vocabulary: (await config.current()).config.vocabulary });
}
