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
import { DynamoOpenCaseSource, openIndexOptions } from '../adapters/mirror-reader.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { DynamoSignalStates } from '../adapters/signal-state.ts';
import { SnsPublisher } from '../adapters/sns-publisher.ts';
import { SnsSubscriptionDirectory } from '../adapters/sns-subscriptions.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { type ExpectedSubscriptions, expectedSubscriptionsSchema } from '../delivery/subscription-health.ts';
import type { DigestDeps } from '../digest/handler.ts';
import { CLIENT_TIMEOUTS } from '../lambda/clients.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';

/** FEED_SILENCE_HOURS, when set: a whole number of hours. */
function feedQuietAfterMs(env: NodeJS.ProcessEnv): number | undefined {
  const text = optionalEnv('FEED_SILENCE_HOURS', env);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new RangeError('environment variable FEED_SILENCE_HOURS must be a whole number of hours');
  return Number(text) * 3_600_000;
}

/** EXPECTED_SUBSCRIPTIONS, when set: how many subscriptions the stack made, by topic and protocol
 * (JSON, `{"alert":{"sms":2,"email":5},"ops":{"email":1}}`). */
function expectedSubscriptions(env: NodeJS.ProcessEnv): ExpectedSubscriptions | undefined {
  const text = optionalEnv('EXPECTED_SUBSCRIPTIONS', env);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const checked = expectedSubscriptionsSchema.safeParse(parsed);
  if (!checked.success) {
    throw new RangeError(
      'environment variable EXPECTED_SUBSCRIPTIONS must be JSON like {"alert":{"sms":2,"email":5},"ops":{"email":1}}',
    );
  }
  return checked.data;
}

export interface DigestClients {
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  ssm: SSMClient;
}

export function awsDigestDeps(
  env: NodeJS.ProcessEnv = process.env,
  clients: DigestClients = {
    dynamodb: new DynamoDBClient(CLIENT_TIMEOUTS),
    sns: new SNSClient(CLIENT_TIMEOUTS),
    ssm: new SSMClient(CLIENT_TIMEOUTS),
  },
  /** The config to fall back on: by default the JSON file the stack ships (DEFAULT_CONFIG_FILE). */
  shipped: () => CompiledConfig = shippedConfigFile(optionalEnv('DEFAULT_CONFIG_FILE', env)),
): DigestDeps {
  const doc = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sns = clients.sns;
  const alertTopicArn = requireEnv('ALERT_TOPIC_ARN', env);
  const opsTopicArn = requireEnv('OPS_TOPIC_ARN', env);
  const stateTable = requireEnv('STATE_TABLE', env);
  const state = new DynamoStateStore(doc, stateTable);
  // Like the scan, the digest goes out on the last good config when a pushed one cannot be read.
  const configSource = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: clients.ssm }),
    requireEnv('CONFIG_PARAMETER', env),
    shipped,
    state,
    new SnsOpsNotifier(sns, opsTopicArn),
  );
  const quiet = feedQuietAfterMs(env);
  const expected = expectedSubscriptions(env);
  return {
    config: () => configSource.current(),
    source: new DynamoOpenCaseSource(doc, requireEnv('MIRROR_TABLE', env), {
      ...openIndexOptions(optionalEnv('OPEN_CASES_INDEX', env), state),
    }),
    ledger: new DynamoLedger(doc, requireEnv('LEDGER_TABLE', env)),
    feed: { lastIngestAt: () => lastIngest(doc, stateTable) },
    store: new DynamoDigestStore(doc, stateTable),
    signals: new DynamoSignalStates(doc, stateTable),
    publisher: new SnsPublisher(sns, alertTopicArn),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ...(quiet !== undefined ? { feedQuietAfterMs: quiet } : {}),
    ...(expected
      ? {
          subscriptions: {
            directory: new SnsSubscriptionDirectory(sns, { alert: alertTopicArn, ops: opsTopicArn }),
            expected,
          },
        }
      : {}),
  };
}
