// The scan function's composition root: the AWS adapters built from the function's environment,
// once per container (at cold start); tests hand in clients pointed at local servers (and
// fault-injecting ones).

import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TokenAckLinks } from '../ack/links.ts';
import { DynamoAckLinkStore } from '../adapters/ack-links.ts';
import { DynamoAuditLog } from '../adapters/audit-log.ts';
import { RuntimeConfigSource, shippedConfigFile } from '../adapters/config-source.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { DynamoOpenCaseSource, openIndexOptions } from '../adapters/mirror-reader.ts';
import { SnsOpsNotifier } from '../adapters/ops-notifier.ts';
import { SnsPublisher } from '../adapters/sns-publisher.ts';
import { DynamoStateStore } from '../adapters/state-store.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { CLIENT_TIMEOUTS } from '../lambda/clients.ts';
import { optionalEnv, requireEnv } from '../lambda/env.ts';
import type { ScanDeps } from '../scan/handler.ts';

export interface ScanClients {
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  ssm: SSMClient;
}

export function awsScanDeps(
  env: NodeJS.ProcessEnv = process.env,
  clients: ScanClients = {
    dynamodb: new DynamoDBClient(CLIENT_TIMEOUTS),
    sns: new SNSClient(CLIENT_TIMEOUTS),
    ssm: new SSMClient(CLIENT_TIMEOUTS),
  },
  /** The config to fall back on: by default the JSON file the stack ships (DEFAULT_CONFIG_FILE). */
  shipped: () => CompiledConfig = shippedConfigFile(optionalEnv('DEFAULT_CONFIG_FILE', env)),
): ScanDeps {
  const doc = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const state = new DynamoStateStore(doc, requireEnv('STATE_TABLE', env));
  const ops = new SnsOpsNotifier(clients.sns, requireEnv('OPS_TOPIC_ARN', env));
  const configSource = new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: clients.ssm }),
    requireEnv('CONFIG_PARAMETER', env),
    shipped,
    state,
    ops,
  );
  // Acknowledgement links need their table and the page's own address, both set by the stack (the
  // config's acknowledge.baseUrl, when set, replaces the address in each link). A run without them
  // (`queuewatch local --aws` without ACK_BASE_URL) links its alerts to the case system only.
  const ackBaseUrl = optionalEnv('ACK_BASE_URL', env);
  const ackLinksTable = optionalEnv('ACK_LINKS_TABLE', env);
  return {
    config: () => configSource.current(),
    source: new DynamoOpenCaseSource(doc, requireEnv('MIRROR_TABLE', env), {
      ...openIndexOptions(optionalEnv('OPEN_CASES_INDEX', env), state),
    }),
    ledger: new DynamoLedger(doc, requireEnv('LEDGER_TABLE', env)),
    publisher: new SnsPublisher(clients.sns, requireEnv('ALERT_TOPIC_ARN', env)),
    audit: new DynamoAuditLog(doc, requireEnv('AUDIT_TABLE', env)),
    ...(ackLinksTable && ackBaseUrl
      ? {
          links: new TokenAckLinks(new DynamoAckLinkStore(doc, ackLinksTable), {
            baseUrl: ackBaseUrl,
            config: async () => (await configSource.current()).config,
          }),
        }
      : {}),
    ops,
    state,
  };
}
