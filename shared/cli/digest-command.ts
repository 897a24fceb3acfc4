// `queuewatch digest`: the daily picture as each audience would read it, without sending it. By
// default for a seeded synthetic queue after one scan run; with --endpoint (a local DynamoDB) or
// --prefix (a deployed stack's tables) from the mirror, the alert ledger and the state table, read
// only.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDigestStore } from '../adapters/digest-store.ts';
import { lastIngest } from '../adapters/ingest-state.ts';
import { DynamoLedger } from '../adapters/ledger.ts';
import { mirrorOpenCases } from '../adapters/mirror-reader.ts';
import { DynamoSignalStates } from '../adapters/signal-state.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import { STAGE_PATTERN } from '../delivery/names.ts';
import type { DigestGroup } from '../digest/picture.ts';
import { selectGroups, storedDigests, syntheticDigests, UnknownDigestError } from '../digest/preview.ts';
import type { Gathered } from '../digest/run-digest.ts';
import { LOCAL_CREDENTIALS, tableNames } from '../local/embedded-dynamo.ts';
import { groupId } from '../scan/ports.ts';
import { configInForce } from './config-removals.ts';
import { callService } from './errors.ts';
import { plural, print, UsageError } from './output.ts';
import { stagePrefix } from './targets.ts';

export interface DigestOptions {
  at?: number;
  to?: string;
  open: number;
  seed: number;
  endpoint?: string;
  prefix?: string;
  region?: string;
  json?: boolean;
  config?: string;
}

export const LOCAL_PREFIX = 'local';

export function formatDigests(gathered: Gathered, header: string[]): string {
  const out = [...header];
  for (const { group, rendered } of gathered.digests) {
    out.push('', `==== to ${groupId(group.audience, group.place)} ====`, `Subject: ${rendered.subject}`, '');
    out.push(rendered.body);
  }
  return out.join('\n');
}

const asJson = (gathered: Gathered, extra: Record<string, unknown>) =>
  JSON.stringify(
    {
      ...extra,
      read: { read: gathered.read.read, open: gathered.read.open, invalid: gathered.read.invalid.total },
      digests: gathered.digests.map(({ group, rendered }) => ({
        group: groupId(group.audience, group.place),
        audience: group.audience,
        place: group.place,
        districts: group.districts,
        subject: rendered.subject,
        body: rendered.body,
        caseRefs: rendered.caseRefs,
      })),
    },
    null,
    2,
  );

/** The stage whose tables a prefix names on AWS (`queuewatch-<stage>`), if it names one. */
export function stageOfPrefix(prefix: string | undefined): string | undefined {
  const head = stagePrefix('');
  if (prefix === undefined || !prefix.startsWith(head)) return undefined;
  const stage = prefix.slice(head.length);
  return STAGE_PATTERN.test(stage) ? stage : undefined;
}

/** The config the digests are rendered with: the file given; for a deployed stack's tables (on
 * AWS, `--prefix queuewatch-<stage>`) the config in force on that stage, which its digest function
 * renders with (the shipped one until a config is pushed); else the shipped one. */
async function configFor(options: DigestOptions): Promise<{ config: CompiledConfig; source?: string }> {
  if (options.config !== undefined) return { config: loadConfig(options.config) };
  const stage = options.endpoint === undefined ? stageOfPrefix(options.prefix) : undefined;
  if (stage === undefined) return { config: loadConfig() };
  return configInForce({ stage, ...(options.region ? { region: options.region } : {}) });
}

/** The action of `queuewatch digest` (declared, with its options, in program.ts). */
export async function digestCommand(options: DigestOptions): Promise<void> {
  const { config, source } = await configFor(options);
  const nowMs = options.at ?? Date.now();
  let groups: DigestGroup[];
  try {
    groups = selectGroups(
      config,
      options.to
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  } catch (error) {
    if (error instanceof UnknownDigestError) throw new UsageError(error.message);
    throw error;
  }
  if (groups.length === 0) {
    print('the config sends no daily digest: digest.audiences is empty');
    return;
  }

  const prefix = options.prefix ?? (options.endpoint ? LOCAL_PREFIX : undefined);
  if (!prefix) {
    const preview = await syntheticDigests(config, nowMs, {
      open: options.open,
      seed: options.seed,
      groups,
    });
    const header = [
      `daily picture for ${preview.day} as of ${new Date(nowMs).toISOString()}: ${plural(preview.gathered.digests.length, 'digest')} (not sent)`,
      `synthetic queue: ${preview.gathered.read.open} open cases (seed ${options.seed}), after one scan run that sent ${preview.alertsSent} alerts; no history, so no trend`,
    ];
    print(
      options.json
        ? asJson(preview.gathered, {
            at: new Date(nowMs).toISOString(),
            day: preview.day,
            synthetic: true,
          })
        : formatDigests(preview.gathered, header),
    );
    return;
  }

  const client = options.endpoint
    ? new DynamoDBClient({
        endpoint: options.endpoint,
        region: options.region ?? 'eu-west-2',
        credentials: LOCAL_CREDENTIALS,
      })
    : new DynamoDBClient(options.region ? { region: options.region } : {});
  try {
    const doc = DynamoDBDocumentClient.from(client);
    const names = tableNames(prefix);
    const state = names.state;
    // A missing table or an unreachable server is said as every table command says it (exit 4).
    const { gathered, day } = await callService(
      {
        service: 'DynamoDB',
        resource: `${names.mirror}, ${names.ledger} or ${names.state}`,
        naming: { local: '--prefix', aws: '--prefix' },
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
      },
      async () =>
        storedDigests(config, nowMs, {
          source: await mirrorOpenCases(doc, names.mirror),
          ledger: new DynamoLedger(doc, names.ledger),
          feed: { lastIngestAt: () => lastIngest(doc, state) },
          store: new DynamoDigestStore(doc, state),
          signals: new DynamoSignalStates(doc, state),
          groups,
        }),
    );
    const header = [
      `daily picture for ${day} as of ${new Date(nowMs).toISOString()}: ${plural(gathered.digests.length, 'digest')} (not sent)`,
      `tables ${prefix}-*${options.endpoint ? ` at ${options.endpoint}` : ''}: ${gathered.read.open} open cases read`,
      ...(source ? [`config: ${source}`] : []),
    ];
    print(
      options.json
        ? asJson(gathered, {
            at: new Date(nowMs).toISOString(),
            day,
            tables: prefix,
            ...(source ? { config: source } : {}),
          })
        : formatDigests(gathered, header),
    );
  } finally {
    client.destroy();
  }
}
