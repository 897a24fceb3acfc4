// `queuewatch config push FILE`: validate a config and publish it to SSM Parameter Store, where the
// scan function picks it up within a minute. Nothing invalid is ever pushed.

import { readFileSync } from 'node:fs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { configParameterName } from '../delivery/names.ts';
import { LOCAL_CREDENTIALS } from '../local/embedded-dynamo.ts';
import { loadConfigOption, print } from './output.ts';

export interface PushOptions {
  parameter?: string;
  stage: string;
  endpoint?: string;
  region?: string;
}

export async function pushConfig(
  file: string,
  options: PushOptions,
): Promise<{ name: string; version: number; bytes: number }> {
  loadConfigOption(file); // validates, or throws a ConfigError naming every problem
  // Stored as compact JSON (comments dropped): well inside the parameter size limits.
  const value = JSON.stringify(parse(readFileSync(file, 'utf8')));
  const name = options.parameter ?? configParameterName(options.stage);
  const client = new SSMClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: LOCAL_CREDENTIALS, region: options.region ?? 'eu-west-2' }
      : {}),
  });
  try {
    const response = await client.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'String',
        Overwrite: true,
        Tier: Buffer.byteLength(value) > 4096 ? 'Advanced' : 'Standard',
        Description: 'queuewatch admin config (pushed by queuewatch config push)',
      }),
    );
    return { name, version: response.Version ?? 0, bytes: Buffer.byteLength(value) };
  } finally {
    client.destroy();
  }
}

export function addPushCommand(config: Command): void {
  config
    .command('push')
    .description('Validate a config and publish it to SSM Parameter Store for the scan function')
    .argument('[file]', 'config file (YAML or JSON)', DEFAULT_CONFIG_PATH)
    .option('--stage <stage>', 'deployment stage: the parameter is /queuewatch/<stage>/config', 'dev')
    .option('--parameter <name>', 'parameter name (overrides --stage)')
    .option('--endpoint <url>', 'SSM endpoint, for local servers (e.g. http://localhost:5000)')
    .option('--region <region>', 'AWS region (default: from the environment)')
    .action(async (file: string, options: PushOptions) => {
      const pushed = await pushConfig(file, options);
      print(
        `pushed ${file} to ${pushed.name} (version ${pushed.version}, ${pushed.bytes} bytes); the scan uses it within a minute`,
      );
    });
}
