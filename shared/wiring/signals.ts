// The signals function's composition root: the AWS adapters built from the function's environment,
// once per container (at cold start).

import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { RuntimeConfigSource, shippedConfigFile } from '../adapters/config-source.ts';
import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoSignalStates } from '../adapters/signal-state.ts';
import { SnsPublisher } from '../adapters/sns-publisher.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { CLIENT_TIMEOUTS } from '../lambda/clients.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import type { SignalsDeps } from '../signals/handler.ts';

export function awsSignalsDeps(
  env: NodeJS.ProcessEnv = process.env,
  /** The config to fall back on: by default the JSON file the stack ships (DEFAULT_CONFIG_FILE). */
  shipped: () => CompiledConfig = shippedConfigFile(optionalEnv('DEFAULT_CONFIG_FILE', env)),
): SignalsDeps {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(CLIENT_TIMEOUTS), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = new SNSClient(CLIENT_TIMEOUTS);
  const stateTable = requireEnv('STATE_TABLE', env);
  const ops = new SnsOpsNotifier(sns, requireEnv('OPS_TOPIC_ARN', env));
  const state = new DynamoStateStore(doc, stateTable);
  const configSource = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: new SSMClient(CLIENT_TIMEOUTS) }),
    requireEnv('CONFIG_PARAMETER', env),
    shipped,
    state,
    ops,
  );
  return {
    config: () => configSource.current(),
    flow: new DynamoFlowStore(doc, requireEnv('FLOW_TABLE', env)),
    states: new DynamoSignalStates(doc, stateTable),
    publisher: new SnsPublisher(sns, requireEnv('ALERT_TOPIC_ARN', env)),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ops,
    told: state,
    // The deployment's morning time (the stack sets it): checks retry a morning that did not complete.
    signalsAt: requireEnv('SIGNALS_AT', env),
  };
}
