// `config check` and `config push` against a mirror: reads which districts and categories the open
// cases use, and refuses a config that drops one still in use (the scan could not read those cases).
// Loaded only by a command given a mirror to check, so the others start without the AWS SDK.

import { mirrorOpenCases } from '../adapters/mirror-reader.ts';
import {
  checkRemovals,
  describeAlreadyUnknown,
  describeStillUsed,
  type RemovalCheck,
  readOpenCaseUse,
} from '../app/removals.ts';
import { type CompiledConfig, ConfigError } from '../config/compile.ts';
import { parseConfigJson } from '../config/json.ts';
import { loadConfig } from '../config/load.ts';
import { configTextOf } from '../config/stored.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { fetchInForce, type ParameterOptions } from './config-push.ts';
import { callService } from './errors.ts';
import { plural } from './output.ts';
import type { TableTarget } from './targets.ts';

/** The config whose districts and categories the scan reads now, and where it came from, in words. */
export interface InForce {
  config: CompiledConfig;
  source: string;
}

const SHIPPED = 'the shipped config';

/** The config pushed to a stage; the shipped one when none has been (the scan then runs on the one
 * bundled at deploy) or when the pushed one is not valid (the scan keeps its last good one). */
export async function configInForce(options: ParameterOptions): Promise<InForce> {
  const inForce = await fetchInForce(options);
  if (inForce) {
    try {
      return {
        config: parseConfigJson(configTextOf(inForce.value), inForce.name),
        source: `${inForce.name} (version ${inForce.version})`,
      };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { config: loadConfig(), source: `${SHIPPED} (the one pushed to ${inForce.name} is not valid)` };
    }
  }
  return { config: loadConfig(), source: `${SHIPPED} (nothing pushed to the stage)` };
}

export const shippedInForce = (): InForce => ({ config: loadConfig(), source: SHIPPED });

export interface MirrorCheck extends RemovalCheck {
  table: string;
  /** Open cases read; undefined when the table does not exist (nothing to check). */
  read: number | undefined;
}

/** Reads the open cases of every district either config knows (a district the new config drops is
 * exactly one to read) and checks what they use against the new config. */
export async function checkMirror(
  target: TableTarget,
  next: CompiledConfig,
  inForce: InForce,
): Promise<MirrorCheck> {
  const client = dynamoClient(target);
  try {
    const districts = [...inForce.config.vocabulary.districts, ...next.vocabulary.districts];
    const use = await callService(
      { service: 'DynamoDB', resource: target.tableName, ...target },
      async () => {
        try {
          return await readOpenCaseUse(
            await mirrorOpenCases(documentClient(client), target.tableName),
            districts,
          );
        } catch (error) {
          if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
          throw error;
        }
      },
    );
    if (!use) return { table: target.tableName, read: undefined, removed: [], unknown: [] };
    return {
      table: target.tableName,
      read: use.read,
      ...checkRemovals(use, next.vocabulary, inForce.config.vocabulary),
    };
  } finally {
    client.destroy();
  }
}

/** What the check found, for people: a verdict line, then one line per problem. */
export function describeMirrorCheck(check: MirrorCheck, file: string, inForce: InForce): string[] {
  if (check.read === undefined) {
    return [
      `warning: there is no mirror table ${check.table}, so no open case can be affected; check --stage (or the table's name) and --region if there should be one`,
    ];
  }
  const lines: string[] = [];
  const read = `${check.table}: ${plural(check.read, 'open case')} read (districts of ${file} and of ${inForce.source})`;
  if (check.removed.length === 0) {
    lines.push(`${read}; none uses a district or category that ${file} removes`);
  } else {
    lines.push(
      `${read}; ${file} removes what open cases still use (the scan could no longer read them):`,
      ...check.removed.map((p) => `  ${describeStillUsed(p)}`),
    );
  }
  for (const problem of check.unknown) lines.push(`warning: ${describeAlreadyUnknown(problem)}`);
  return lines;
}

/** What to do about a removal still in use, for the end of a refusal. */
export const REMOVAL_ADVICE =
  'The scan cannot read a case whose district or category its config does not know: such a case gets no alert of any kind until the config knows them again (ops hears of cases in a dropped category each run, as items the scan cannot read; a dropped district is not read at all, so nothing speaks of its cases). Keep them in the config until the source system has moved or closed those cases (`queuewatch status` shows what is open).';
