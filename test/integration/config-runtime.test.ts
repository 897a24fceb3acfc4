// The config at runtime: pushed to SSM (moto_server), read by the scan with caching, and a bad
// push never stops alerting: the last good config stays in force and ops are told once.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
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

const source = (name: string, ops: MemoryOpsNotifier, store = state) =>
  new RuntimeConfigSource(
    new SSMProvider({ awsSdkV3Client: ssm }),
    name,
    shippedConfigFile(shippedConfigJsonPath()),
    store,
    ops,
    0,
  );
let stores = 0;
/** A state table of its own, for a test that counts what ops are told. */
const freshState = async () =>
  new DynamoStateStore(
    DynamoDBDocumentClient.from(dynamo.client),
    (await createTables(dynamo.client, `cfgown${stores++}`)).state,
  );

describe('config at runtime', () => {
  it('uses the shipped default, and says so, until a config is pushed', async () => {
    const inForce = await source('/queuewatch/none/config', new MemoryOpsNotifier()).current();

    expect(inForce.source).toBe('default');
    expect(inForce.problem).toMatch(/no config has been pushed/);
    // Nothing pushed is not a push that failed: no alarm for it.
    expect(inForce.pushNotInForce).toBeUndefined();
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
    expect(good.pushNotInForce).toBeUndefined();
    expect(good.config.file.sms.maxPerRun).toBe(7);
    // The bad push is not in force for as long as it stays (its alarm stays raised).
    expect([afterBadPush, again, coldStart].map((c) => c.pushNotInForce)).toEqual([true, true, true]);
    expect(afterBadPush.source).toBe('last-good');
    expect(afterBadPush.config.file.sms.maxPerRun).toBe(7);
    expect(afterBadPush.problem).toMatch(/linkBase/);
    expect(again.source).toBe('last-good');
    expect(ops.messages).toHaveLength(1);
    expect(ops.messages[0]?.subject).toMatch(/last good config kept/);
    expect(coldStart.source).toBe('last-good');
    expect(coldStart.config.file.sms.maxPerRun).toBe(7);
  });

  it('tells ops once, across containers, that nothing has been pushed', async () => {
    const own = await freshState();
    const ops = new MemoryOpsNotifier();
    const name = '/queuewatch/never/config';

    await source(name, ops, own).current();
    await source(name, ops, own).current();
    const warm = source(name, ops, own);
    await warm.current();
    await warm.current();

    expect(ops.messages.map((m) => m.subject)).toEqual(['no config pushed: the shipped config is in force']);
  });

  it('keeps the last good config when the parameter is deleted after a push, tells ops once, and again after it comes back and goes again', async () => {
    const own = await freshState();
    const name = '/queuewatch/deleted/config';
    const tuned = join(dir, 'deleted.yaml');
    writeFileSync(tuned, readFileSync(DEFAULT_CONFIG_PATH, 'utf8').replace('maxPerRun: 20', 'maxPerRun: 7'));
    await pushConfig(tuned, { stage: 'deleted', endpoint: moto.endpoint });
    const ops = new MemoryOpsNotifier();
    const watcher = source(name, ops, own);
    expect((await watcher.current()).config.file.sms.maxPerRun).toBe(7);

    await ssm.send(new DeleteParameterCommand({ Name: name }));
    const gone = await watcher.current();
    const goneAgain = await watcher.current();
    // A container started after the delete finds the last good config in the state table.
    const cold = await source(name, ops, own).current();

    for (const inForce of [gone, goneAgain, cold]) {
      expect(inForce.source).toBe('last-good');
      expect(inForce.config.file.sms.maxPerRun).toBe(7);
      expect(inForce.problem).toMatch(/^\/queuewatch\/deleted\/config is missing/);
      expect(inForce.pushNotInForce).toBe(true);
    }
    expect(ops.messages.map((m) => m.subject)).toEqual(['config parameter missing: last good config kept']);

    await pushConfig(tuned, { stage: 'deleted', endpoint: moto.endpoint });
    expect((await watcher.current()).source).toBe('parameter');
    await ssm.send(new DeleteParameterCommand({ Name: name }));
    expect((await watcher.current()).source).toBe('last-good');
    expect(ops.messages).toHaveLength(2);
  });
});
