// The admin config at runtime: read from SSM Parameter Store (cached by Powertools parameters), so
// thresholds change without a deploy. Nothing here can stop alerting: a pushed config that cannot
// be read, parsed or validated, and a state table or ops topic that fails while that is handled,
// all leave the last good config in force (kept in memory and in the state table), else the one
// shipped in the bundle. Ops are told once per bad push. Every config read here is JSON (push and
// the synth write JSON), read by json.ts: no YAML parser in a function's bundle.

import { createHash } from 'node:crypto';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { CompiledConfig } from '../config/compile.ts';
import { loadConfigJson, parseConfigJson } from '../config/json.ts';
import { configTextOf } from '../config/stored.ts';
import { ConfigReadError } from '../config/validate.ts';
import type { ConfigInForce, OpsNotifier, StateStore } from '../scan/ports.ts';
import { errorName } from '../scan/retry.ts';

const STATE_NAME = 'config';
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const isNotFound = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'ParameterNotFound' ||
    (error.cause instanceof Error && error.cause.name === 'ParameterNotFound'));

/** The config a function ships with: the JSON file the synth writes beside its bundle
 * (DEFAULT_CONFIG_FILE), read the first time it is needed. */
export function shippedConfigFile(path: string | undefined): () => CompiledConfig {
  return () => {
    if (path === undefined) {
      throw new ConfigReadError([
        {
          path: '',
          message: 'no shipped config to fall back on: environment variable DEFAULT_CONFIG_FILE is not set',
        },
      ]);
    }
    return loadConfigJson(path);
  };
}

export class RuntimeConfigSource {
  private lastGood: { hash: string; config: CompiledConfig } | undefined;
  private shipped: CompiledConfig | undefined;
  /** The bad push ops were last told about (memory, for when the state table is down). */
  private toldBad: string | undefined;

  constructor(
    private readonly provider: SSMProvider,
    private readonly parameterName: string,
    /** The config shipped with the function (shippedConfigFile), loaded only when needed. */
    private readonly loadShipped: () => CompiledConfig,
    private readonly state: StateStore,
    private readonly ops: OpsNotifier,
    private readonly maxAgeSeconds = 60,
    /** `strict`: a failure to read the parameter is thrown rather than worked around, for callers
     * that can wait and retry (ingest: SQS delivers the batch again) rather than judge by an
     * older config. The scan never waits: it alerts with the last good config. */
    private readonly options: { strict?: boolean } = {},
  ) {}

  /** The config in force now. Never throws (unless `strict` and SSM cannot be read, or even the
   * shipped config cannot be loaded). */
  async current(): Promise<ConfigInForce> {
    const degraded: string[] = [];
    let text: string | undefined;
    try {
      text = await this.provider.get(this.parameterName, { maxAge: this.maxAgeSeconds });
    } catch (error) {
      if (!isNotFound(error) && this.options.strict) throw error;
      if (!isNotFound(error)) {
        degraded.push(`ssm:${errorName(error)}`);
        return this.fallback(`could not read ${this.parameterName} (${errorName(error)})`, degraded);
      }
    }
    if (text === undefined) {
      return {
        config: this.shippedConfig(),
        source: 'default',
        problem: 'no config has been pushed',
        degraded,
      };
    }
    const version = hash(text);
    if (this.lastGood?.hash === version)
      return { config: this.lastGood.config, source: 'parameter', degraded };
    let config: CompiledConfig;
    try {
      config = parseConfigJson(configTextOf(text), this.parameterName);
    } catch (error) {
      // Any failure at all (a ConfigError names the keys; anything else is named by its kind).
      const why = error instanceof Error && error.name === 'ConfigError' ? error.message : errorName(error);
      return this.keepLastGood(version, `config in ${this.parameterName} is invalid:\n${why}`, degraded);
    }
    this.lastGood = { hash: version, config };
    await this.state
      .put(STATE_NAME, { lastGoodHash: version, lastGoodText: text })
      .catch((error: unknown) => degraded.push(`state:${errorName(error)}`));
    return { config, source: 'parameter', degraded };
  }

  private shippedConfig(): CompiledConfig {
    this.shipped ??= this.loadShipped();
    return this.shipped;
  }

  /** The last good config from memory, else from the state table, else the shipped one. */
  private async fallback(
    problem: string,
    degraded: string[],
    read: () => Promise<Record<string, unknown> | undefined> = () => this.state.get(STATE_NAME),
  ): Promise<ConfigInForce> {
    if (this.lastGood) return { config: this.lastGood.config, source: 'last-good', problem, degraded };
    try {
      const stored = await read();
      if (typeof stored?.lastGoodText === 'string') {
        const config = parseConfigJson(configTextOf(stored.lastGoodText), 'last good config');
        this.lastGood = { hash: String(stored.lastGoodHash), config };
        return { config, source: 'last-good', problem, degraded };
      }
    } catch (error) {
      degraded.push(`state:${errorName(error)}`);
    }
    return { config: this.shippedConfig(), source: 'default', problem, degraded };
  }

  private async keepLastGood(
    badVersion: string,
    problem: string,
    degraded: string[],
  ): Promise<ConfigInForce> {
    let stored: Record<string, unknown> | undefined;
    try {
      stored = await this.state.get(STATE_NAME);
    } catch (error) {
      degraded.push(`state:${errorName(error)}`);
    }
    const alreadyTold = this.toldBad === badVersion || stored?.lastBadHash === badVersion;
    if (!alreadyTold) {
      try {
        await this.ops.notify(
          'invalid config pushed: last good config kept',
          `${problem}\n\nThe scan keeps alerting with the last good config. Fix it and push again (queuewatch config push).`,
        );
        this.toldBad = badVersion;
        await this.state
          .put(STATE_NAME, { ...stored, lastBadHash: badVersion })
          .catch((error: unknown) => degraded.push(`state:${errorName(error)}`));
      } catch (error) {
        // Not told: the next run tries again.
        degraded.push(`ops:${errorName(error)}`);
      }
    }
    return this.fallback(problem, degraded, async () => stored);
  }
}
