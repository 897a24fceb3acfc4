// The ingest function's adapters, built once from its environment (at cold start): tables (the
// mirror, and the flow it counts) and the ops topic by name. The case
// vocabulary comes from the config in force, read per batch through the same cached source as the
// scan's, so a district added with `config push` is accepted without a deploy.

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RuntimeConfigSource, shippedConfigFile } from '../adapters/config-source.ts';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { recordIngest } from '../adapters/ingest-state.ts';
import { MirrorWriter } from '../adapters/mirror-writer.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoRejectStore } from '../adapters/rejects.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { IngestDeps } from '../ingest/ingest-batch.ts';
import { CLIENT_TIMEOUTS } from '../lambda/clients.ts';
import {
  callDependency,
  DEPENDENCY_FAILURES_METRIC,
  DependencyError,
  failureFields,
} from '../lambda/dependency.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import { logger, metrics } from '../lambda/observability.ts';
import type { ConfigInForce, OpsNotifier, StateStore } from '../scan/ports.ts';

/** The ingest adapters, and the config in force for each batch. */
export function awsIngestDeps(
  env: NodeJS.ProcessEnv = process.env,
  /** The config to fall back on: by default the JSON file the stack ships (DEFAULT_CONFIG_FILE). */
  shipped: () => CompiledConfig = shippedConfigFile(optionalEnv('DEFAULT_CONFIG_FILE', env)),
): () => Promise<IngestDeps> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_TIMEOUTS), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const stateTable = requireEnv('STATE_TABLE', env);
  const ops = new SnsOpsNotifier(new SNSClient(CLIENT_TIMEOUTS), requireEnv('OPS_TOPIC_ARN', env));
  const state = new DynamoStateStore(doc, stateTable);
  // The config source also reads and writes the state table and may tell ops: name those calls.
  const labelledState: StateStore = {
    get: (name) => callDependency('dynamodb:state', () => state.get(name)),
    put: (name, value) => callDependency('dynamodb:state', () => state.put(name, value)),
  };
  const labelledOps: OpsNotifier = {
    notify: (subject, text) => callDependency('sns:ops', () => ops.notify(subject, text)),
  };
  const config = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: new SSMClient(CLIENT_TIMEOUTS) }),
    requireEnv('CONFIG_PARAMETER', env),
    shipped,
    labelledState,
    labelledOps,
    60,
    { strict: true },
  );
  const flow = new DynamoFlowStore(doc, requireEnv('FLOW_TABLE', env));
  const fixed = {
    // Every transition the mirror makes is counted in the flow table, for the silence signals; a
    // failure there is named as the flow table's, not the mirror's.
    mirror: new MirrorWriter(doc, requireEnv('MIRROR_TABLE', env), {
      record: (transitions, nowMs) => callDependency('dynamodb:flow', () => flow.record(transitions, nowMs)),
    }),
    rejects: new DynamoRejectStore(doc, requireEnv('REJECTS_TABLE', env)),
    state: { recordIngest: (atMs: number) => recordIngest(doc, stateTable, atMs) },
    ops,
    logger,
    metrics,
  };
  return async () => {
    let inForce: ConfigInForce;
    try {
      inForce = await config.current();
    } catch (error) {
      // Without the config in force no message can be checked: the function fails (the
      // ingest-errors alarm) and SQS returns the whole batch, rather than judging it by a guess.
      const failure = error instanceof GetParameterError ? new DependencyError('ssm:config', error) : error;
      if (failure instanceof DependencyError)
        metrics.addMetric(DEPENDENCY_FAILURES_METRIC, MetricUnit.Count, 1);
      logger.error(
        'cannot read the config in force; the whole batch goes back to SQS',
        failureFields(failure),
      );
      throw failure;
    }
    return { ...fixed, vocabulary: inForce.config.vocabulary };
  };
}
