// `queuewatch digest --prefix queuewatch-<stage>` previews a deployed stack's digests with the config
// its digest function renders with: the one pushed to the stage (SSM), not the shipped file. Run as
// an operator runs it, on "AWS" (the SDK's endpoint variables pointing at local servers).

import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { defaultConfig, runCli } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';

const REGION = 'eu-west-2';
let dynamo: EmbeddedDynamo;
let moto: Moto;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, moto] = await Promise.all([startDynalite(), startMoto()]);
  env = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SSM: moto.endpoint,
  };
  await createTables(dynamo.client, 'queuewatch-dg');
}, 60_000);
afterAll(async () => {
  await Promise.all([dynamo?.close(), moto?.stop()]);
});

describe('queuewatch digest of a deployed stack', () => {
  it('renders with the config pushed to the stage, as the digest function does', async () => {
    const before = await runCli(['digest', '--prefix', 'queuewatch-dg', '--at', '2026-11-27T07:00:00Z'], env);
    // The stage's admin pushes a config whose digest goes to the senior officer alone.
    const file = defaultConfig().file;
    const ssm = new SSMClient({ endpoint: moto.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    await ssm.send(
      new PutParameterCommand({
        Name: '/queuewatch/dg/config',
        Type: 'String',
        Value: JSON.stringify({ ...file, digest: { ...file.digest, audiences: ['senior-officer'] } }),
      }),
    );
    ssm.destroy();
    const after = await runCli(['digest', '--prefix', 'queuewatch-dg', '--at', '2026-11-27T07:00:00Z'], env);

    // The shipped config's digest goes to every director and the senior officer; the pushed one's
    // to the senior officer alone, as the deployed function would send it.
    expect(after.stderr).toBe('');
    expect(after.status).toBe(0);
    expect(after.stdout).toMatch(/: 1 digest \(not sent\)\n/);
    expect(after.stdout).toContain('==== to senior-officer@force ====');
    expect(after.stdout).not.toContain('==== to director-childrens-services');
    expect(after.stdout).toContain('\nconfig: /queuewatch/dg/config (version 1)\n');
    expect(before.stderr).toBe('');
    expect(before.stdout).toMatch(/: 11 digests \(not sent\)\n/);
    expect(before.stdout).toContain('\nconfig: the shipped config (nothing pushed to the stage)\n');
  });
});
