// The config at runtime: pushed to SSM (moto_server), read by the scan with caching, and a bad
// push never stops alerting: the last good config stays in force and ops are told once.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeConfigSource, shippedConfigFile } from '#shared/adapters/config-source.ts';
import { MemoryOpsNotifier } from '#shared/adapters/memory-sinks.ts';
import { DynamoStateStore } from '#shared/adapters/state-store.ts';
import { pushConfig } from '#shared/cli/config-push.ts';
import { DEFAULT_CONFIG_PATH } from '#shared/config/load.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { shippedConfigJsonPath } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';

let moto: Moto;
let dynamo: EmbeddedDynamo;
let ssm: SSMClient;
let state: DynamoStateStore;
const dir = mkdtempSync(join(tmpdir(), 'qw-config-'));

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
  ssm = new SSMClient({ endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS });
  const tables = await createTables(dynamo.client, 'cfg');
  state = new DynamoStateStore(DynamoDBDocumentClient.from(dynamo.client), tables.state);
});
afterAll(async () => {
  ssm?.destroy();
  await Promise.all([moto?.stop(), dynamo?.close()]);
});

const source = (name: string, ops: MemoryOpsNotifier) =>
  new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: ssm }),
    name,
    shippedConfigFile(shippedConfigJsonPath()),
    state,
    ops,
    0,
  );

describe('config at runtime', () => {
  it('uses the shipped default, and says so, until a config is pushed', async () => {
    const inForce = await source('/queuewatch/none/config', new MemoryOpsNotifier()).current();

    expect(inForce.source).toBe('default');
    expect(inForce.problem).toMatch(/no config has been pushed/);
  });

  it('reads a pushed config, and keeps the last good one when a bad one is pushed', async () => {
    const name = '/queuewatch/test/config';
    const tuned = join(dir, 'tuned.yaml');
    writeFileSync(tuned, readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace('maxPerRun: 20', 'maxPerRun: 7'));
    await pushConfig(tuned, { stage: 'test', endpoint: moto.endpoint });
    const ops = new MemoryOpsNotifier();
    const watcher = source(name, ops);

    const good = await watcher.current();
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: '{"version": 1, "force": "x"}',
        Type: 'String',
        Overwrite: true,
      }),
    );
    const afterBadPush = await watcher.current();
    const again = await watcher.current();
    const coldStart = await source(name, new MemoryOpsNotifier()).current();

    expect(good.source).toBe('parameter');
    expect(good.config.file.sms.maxPerRun).toBe(7);
    expect(afterBadPush.source).toBe('last-good');
    expect(afterBadPush.config.file.sms.maxPerRun).toBe(7);
    expect(afterBadPush.problem).toMatch(/linkBase/);
    expect(again.source).toBe('last-good');
    expect(ops.messages).toHaveLength(1);
    expect(ops.messages[0]?.subject).toMatch(/last good config kept/);
    expect(coldStart.source).toBe('last-good');
    expect(coldStart.config.file.sms.maxPerRun).toBe(7);
  });
});
