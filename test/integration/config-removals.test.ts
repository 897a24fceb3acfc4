// `config push` and `config check` against a real mirror (dynalite) and real SSM (moto_server): a
// config that drops a district or category open cases still use is refused, naming it and counting
// the cases, and nothing is pushed; the districts of the config in force are read too, since a
// district the new config drops is exactly the one to read.

import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { createTableInput, MIRROR_TABLE_MIGRATING, OPEN_SHARD_ATTRIBUTE } from '#shared/adapters/tables.ts';
import { DEFAULT_CONFIG_PATH } from '#shared/config/load.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import {
  createTables,
  type EmbeddedDynamo,
  LOCAL_CREDENTIALS,
  startDynalite,
} from '#shared/local/embedded-dynamo.ts';
import { seedMirror } from '#shared/local/seed.ts';
import { aCase, configTextWith, HOUR, iso, ref, runCli, tempDir } from '#test/support/fixtures.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';

const NOW = Date.parse('2026-11-30T09:00:00Z');
const D10 = '  D10: { name: Riverside, localAuthority: la-riverside }\n';

let moto: Moto;
let dynamo: EmbeddedDynamo;
let ssm: SSMClient;
let doc: DynamoDBDocumentClient;
const tmp = tempDir();
let withoutD10: string;
let withD11: string;

beforeAll(async () => {
  [moto, dynamo] = await Promise.all([startMoto(), startDynalite()]);
  ssm = new SSMClient({ endpoint: moto.endpoint, region: 'eu-west-2', credentials: LOCAL_CREDENTIALS });
  doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  withoutD10 = tmp.file('without-d10.yaml', configTextWith([D10, '']));
  withD11 = tmp.file(
    'with-d11.yaml',
    configTextWith([D10, `${D10}  D11: { name: Ridgeway, localAuthority: la-riverside }\n`]),
  );
});
afterAll(async () => {
  ssm?.destroy();
  await Promise.all([moto?.stop(), dynamo?.close()]);
  tmp.cleanup();
});

/** An open case; the lower its number, the longer it has waited (the index lists oldest first). */
const open = (n: number, overrides: Partial<CaseRecord>) => {
  const entered = iso(Date.parse('2026-11-29T00:00:00Z') + n * HOUR);
  return aCase({ caseRef: ref(n), stageEnteredAt: entered, sourceUpdatedAt: entered, ...overrides });
};

/** A stage's mirror on dynalite, `queuewatch-<stage>-mirror`, holding these cases. */
async function mirrorOf(stage: string, records: CaseRecord[]): Promise<void> {
  const tables = await createTables(dynamo.client, `queuewatch-${stage}`);
  await seedMirror(doc, tables.mirror, records, NOW);
}

/** A mirror of the first release mid-migration (both indexes; see README "Migrating to the sharded
 * index"), its cases written before the feed wrote the new key: in the old index only. */
async function firstReleaseMirrorOf(stage: string, records: CaseRecord[]): Promise<void> {
  const table = `queuewatch-${stage}-mirror`;
  await dynamo.client.send(new CreateTableCommand(createTableInput(MIRROR_TABLE_MIGRATING, table)));
  for (const record of records) {
    const { [OPEN_SHARD_ATTRIBUTE]: _notYet, ...item } = toMirrorItem(record, NOW);
    await doc.send(new PutCommand({ TableName: table, Item: item }));
  }
}

const push = (stage: string, file: string, ...args: string[]) =>
  runCli([
    'config',
    'push',
    file,
    '--stage',
    stage,
    '--endpoint',
    moto.endpoint,
    '--mirror-endpoint',
    dynamo.endpoint,
    ...args,
  ]);

async function versionOf(stage: string): Promise<number | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `/queuewatch/${stage}/config` }));
    return Parameter?.Version;
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

describe('queuewatch config push, against the stage’s mirror', () => {
  it('refuses a config that drops a district open cases still use, naming it and counting them, and pushes nothing', async () => {
    await mirrorOf('refuse', [
      open(1, { district: 'D10' }),
      open(2, { district: 'D10', category: 'child-protection' }),
      open(3, { district: 'D10' }),
      open(4, { district: 'D10', stage: 'closed' }),
      open(5, { district: 'D01' }),
    ]);

    const refused = await push('refuse', withoutD10);

    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      `queuewatch: refused: queuewatch-refuse-mirror: 4 open cases read (districts of ${withoutD10} and of the shipped config (nothing pushed to the stage)); ${withoutD10} removes what open cases still use (the scan could no longer read them):\n  district D10: 3 open cases (DA-000-0000001, DA-000-0000002, DA-000-0000003)\n`,
    );
    expect(refused.stderr).toContain('add --allow-removal');
    expect(await versionOf('refuse')).toBeUndefined();
  });

  it('counts every open case of a mirror not yet moved to the index by district, and refuses alike', async () => {
    await firstReleaseMirrorOf('unmigrated', [
      open(1, { district: 'D10' }),
      open(2, { district: 'D10' }),
      open(3, { district: 'D10', stage: 'closed' }),
      open(4, { district: 'D01' }),
    ]);

    const refused = await push('unmigrated', withoutD10);

    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `queuewatch: refused: queuewatch-unmigrated-mirror: 3 open cases read (districts of ${withoutD10} and of the shipped config (nothing pushed to the stage)); ${withoutD10} removes what open cases still use (the scan could no longer read them):\n  district D10: 2 open cases (DA-000-0000001, DA-000-0000002)\n`,
    );
    expect(await versionOf('unmigrated')).toBeUndefined();
  });

  it('pushes a config that keeps everything in use, saying what it checked', async () => {
    await mirrorOf('accept', [open(1, { district: 'D10' }), open(2, { district: 'D01' })]);

    const pushed = await push('accept', DEFAULT_CONFIG_PATH);

    expect(pushed.status).toBe(0);
    expect(pushed.stdout).toMatch(/^pushed .* to \/queuewatch\/accept\/config \(version 1\)/);
    expect(pushed.stderr).toBe(
      `queuewatch: queuewatch-accept-mirror: 2 open cases read (districts of ${DEFAULT_CONFIG_PATH} and of the shipped config (nothing pushed to the stage)); none uses a district or category that ${DEFAULT_CONFIG_PATH} removes\n`,
    );
    expect(await versionOf('accept')).toBe(1);
  });

  it('reads the districts of the config in force: one that neither the new nor the shipped config knows is still counted', async () => {
    await mirrorOf('in-force', [open(1, { district: 'D11' }), open(2, { district: 'D11' })]);
    const first = await push('in-force', withD11);

    const dropped = await push('in-force', DEFAULT_CONFIG_PATH);

    expect(first.status).toBe(0);
    expect(dropped.status).toBe(1);
    expect(dropped.stderr).toContain('of /queuewatch/in-force/config (version 1))');
    expect(dropped.stderr).toContain('\n  district D11: 2 open cases (DA-000-0000001, DA-000-0000002)\n');
    expect(await versionOf('in-force')).toBe(1);
  });

  it('pushes with --allow-removal, still listing what goes unalerted', async () => {
    await mirrorOf('override', [open(1, { district: 'D10' })]);

    const pushed = await push('override', withoutD10, '--allow-removal');

    expect(pushed.status).toBe(0);
    expect(pushed.stderr).toContain('\n  district D10: 1 open case (DA-000-0000001)\n');
    expect(pushed.stderr).toContain(
      'queuewatch: warning: pushing anyway (--allow-removal): up to 1 open case will get no alert until it moves on or the config knows its district and category again\n',
    );
    expect(await versionOf('override')).toBe(1);
  });

  it('refuses, exit 4, when the mirror named by --mirror-table is not there (a typo must not skip the check)', async () => {
    await mirrorOf('typo', [open(1, { district: 'D10' })]);

    const refused = await push('typo', withoutD10, '--mirror-table', 'queuewatch-typo-mirorr');
    const allowed = await push(
      'typo',
      DEFAULT_CONFIG_PATH,
      '--mirror-table',
      'queuewatch-typo-mirorr',
      '--allow-removal',
    );

    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain(
      'queuewatch: refused: there is no mirror table queuewatch-typo-mirorr (--mirror-table), so the config could not be checked against its open cases; nothing pushed.',
    );
    expect(allowed.status).toBe(0);
    expect(await versionOf('typo')).toBe(1);
  });

  it('says so, and pushes, when the stage has no mirror table', async () => {
    const pushed = await push('no-mirror', DEFAULT_CONFIG_PATH);

    expect(pushed.status).toBe(0);
    expect(pushed.stderr).toContain('warning: there is no mirror table queuewatch-no-mirror-mirror');
    expect(await versionOf('no-mirror')).toBe(1);
  });
});

describe('queuewatch config check', () => {
  it('warns that it did not check removals when given no mirror, and says how to', async () => {
    const checked = await runCli(['config', 'check', withoutD10]);

    expect(checked.status).toBe(0);
    expect(checked.stdout).toContain(': OK\n');
    expect(checked.stderr).toBe(
      'queuewatch: warning: not checked against a mirror, so a district or category that open cases still use could be dropped unseen: add --stage STAGE (or --endpoint URL, --prefix, --table) to check; `config push` always does\n',
    );
  });

  it('fails a config that drops a district in use in the mirror it is given, and passes one that keeps it', async () => {
    await mirrorOf('check', [open(1, { district: 'D10' }), open(2, { district: 'D10' })]);
    const mirror = ['--endpoint', dynamo.endpoint, '--prefix', 'queuewatch-check'];

    const dropped = await runCli(['config', 'check', withoutD10, ...mirror]);
    const kept = await runCli(['config', 'check', DEFAULT_CONFIG_PATH, ...mirror]);

    expect(dropped.status).toBe(1);
    expect(dropped.stdout).toContain(
      `\nqueuewatch-check-mirror: 2 open cases read (districts of ${withoutD10} and of the shipped config); ${withoutD10} removes what open cases still use (the scan could no longer read them):\n  district D10: 2 open cases (DA-000-0000001, DA-000-0000002)\n`,
    );
    expect(kept.status).toBe(0);
    expect(kept.stdout).toContain('queuewatch-check-mirror: 2 open cases read');
    expect(kept.stderr).toBe('');
  });

  it('exits 4 when the table named by --table is not there, and says so on stderr', async () => {
    const checked = await runCli([
      'config',
      'check',
      withoutD10,
      '--endpoint',
      dynamo.endpoint,
      '--table',
      'nope',
    ]);

    expect(checked.status).toBe(4);
    expect(checked.stderr).toContain('queuewatch: warning: there is no mirror table nope');
    expect(checked.stdout).not.toContain('there is no mirror table');
  });

  it('fails a config too big to push, as push refuses it', async () => {
    // 80 audiences with descriptions that do not compress: over 8 KB even gzip-compressed (many
    // districts would do too, but make the check's coverage work slow).
    let seed = 7;
    const letter = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return String.fromCharCode(97 + (seed % 26));
    };
    const description = () => Array.from({ length: 200 }, letter).join('');
    const padding = Array.from(
      { length: 80 },
      (_, i) => `  unused-${i}: { scope: force, description: ${description()} }\n`,
    ).join('');
    const big = tmp.file('big.yaml', configTextWith(['audiences:\n', `audiences:\n${padding}`]));

    const checked = await runCli(['config', 'check', big, '--strict']);

    expect(checked.status).toBe(1);
    expect(checked.stderr).toMatch(
      /^queuewatch: .*big\.yaml is too big to push: .*too big for an SSM parameter/,
    );
  });
});
