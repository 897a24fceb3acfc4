// The digest function's composition root: the AWS adapters built from the function's environment,
// once per container (at cold start); tests hand in clients pointed at local servers.

import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { RuntimeConfigSource, shippedConfigFile } from '../adapters/config-source.ts';
import { DynamoDigestStore } from '../adapters/digest-store.ts';
import { lastIngest } from '../adapters/ingest-state.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { DynamoOpenCaseSource } from '../adapters/mirror-reader.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoSignalStates } from '../adapters/signal-state.ts';
import { SnsPublisher } from '../adapters/sns-publisher.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { DigestDeps } from '../digest/handler.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';

/** FEED_SILENCE_HOURS, when set: a whole number of hours. */
function feedQuietAfterMs(env: NodeJS.ProcessEnv): number | undefined {
  const text = optionalEnv('FEED_SILENCE_HOURS', env);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new RangeError('environment variable FEED_SILENCE_HOURS must be a whole number of hours');
  return Number(text) * 3_600_000;
}

export interface DigestClients {
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  ssm: SSMClient;
}

export function awsDigestDeps(
  env: NodeJS.ProcessEnv = process.env,
  clients: DigestClients = {
    dynamodb: new DynamoDBClient({}),
    sns: new SNSClient({}),
    ssm: new SSMClient({}),
  },
  /** The config to fall back on: by default the JSON file the stack ships (DEFAULT_CONFIG_FILE). */
  shipped: () => CompiledConfig = shippedConfigFile(optionalEnv('DEFAULT_CONFIG_FILE', env)),
): DigestDeps {
  const doc = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = clients.sns;
  const stateTable = requireEnv('STATE_TABLE', env);
  const state = new DynamoStateStore(doc, stateTable);
  // Like the scan, the digest goes out on the last good config when a pushed one cannot be read.
  const configSource = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: clients.ssm }),
    requireEnv('CONFIG_PARAMETER', env),
    shipped,
    state,
    new SnsOpsNotifier(sns, requireEnv('OPS_TOPIC_ARN', env)),
  );
  const quiet = feedQuietAfterMs(env);
  return {
    config: () => configSource.current(),
    source: new DynamoOpenCaseSource(doc, requireEnv('MIRROR_TABLE', env), {
      legacy: optionalEnv('OPEN_CASES_INDEX', env) === 'legacy',
    }),
    ledger: new DynamoLedger(doc, requireEnv('LEDGER_TABLE', env)),
    feed: { lastIngestAt: () => lastIngest(doc, stateTable) },
    store: new DynamoDigestStore(doc, stateTable),
    signals: new DynamoSignalStates(doc, stateTable),
    publisher: new SnsPublisher(sns, requireEnv('ALERT_TOPIC_ARN', env)),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ...(quiet !== undefined ? { feedQuietAfterMs: quiet } : {}),
  };
}
