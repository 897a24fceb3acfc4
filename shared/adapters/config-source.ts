// The admin config at runtime: read from SSM Parameter Store (cached by Powertools parameters), so
// thresholds change without a deploy. Nothing here can stop alerting: a pushed config that cannot
// be read, parsed or validated, and a state table or ops topic that fails while that is handled,
// all leave the last good config in force (kept in memory and in the state table), else the one
// shipped in the bundle; so does a parameter deleted after a push. Ops are told once per bad push,
// once when the parameter goes missing, and once while none has been pushed. Every config read here is JSON (push and
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
  /** What ops were last told about (memory, for when the state table is down): the bad push
   * (its hash), and the missing parameter (the last good config's hash, or `none`). */
  private readonly told: { lastBadHash?: string; missingTold?: string } = {};

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
    if (text === undefined) return this.missing(degraded);
    const version = hash(text);
    if (this.lastGood?.hash === version) {
      if (this.told.missingTold !== undefined) {
        // Back: a later disappearance is told again.
        this.told.missingTold = undefined;
        await this.state
          .put(STATE_NAME, { lastGoodHash: version, lastGoodText: text })
          .catch((error: unknown) => degraded.push(`state:${errorName(error)}`));
      }
      return { config: this.lastGood.config, source: 'parameter', degraded };
    }
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

  /** No parameter: never pushed (the shipped config), or deleted after a push (the last good one
   * stays in force: the feed keeps accepting what the pushed config allowed). Ops told once. */
  private async missing(degraded: string[]): Promise<ConfigInForce> {
    const gone = `${this.parameterName} is missing (deleted after a push?): the last good config stays in force`;
    // A container that holds the last good config and has told ops already reads nothing more.
    if (this.lastGood && this.told.missingTold === this.lastGood.hash) {
      return {
        config: this.lastGood.config,
        source: 'last-good',
        problem: gone,
        pushNotInForce: true,
        degraded,
      };
    }
    let stored: Record<string, unknown> | undefined;
    try {
      stored = await this.state.get(STATE_NAME);
    } catch (error) {
      degraded.push(`state:${errorName(error)}`);
    }
    const pushed = this.lastGood !== undefined || typeof stored?.lastGoodText === 'string';
    if (!pushed) {
      await this.tellOnce(
        'missingTold',
        'none',
        stored,
        'no config pushed: the shipped config is in force',
        `Nothing has been pushed to ${this.parameterName}: the functions run on the config shipped with this deploy. Push the force's config (queuewatch config push) to change thresholds and routing without a deploy.`,
        degraded,
      );
      return {
        config: this.shippedConfig(),
        source: 'default',
        problem: 'no config has been pushed',
        degraded,
      };
    }
    const inForce = { ...(await this.fallback(gone, degraded, async () => stored)), pushNotInForce: true };
    await this.tellOnce(
      'missingTold',
      this.lastGood?.hash ?? String(stored?.lastGoodHash),
      stored,
      'config parameter missing: last good config kept',
      `The config parameter ${this.parameterName} is missing: deleted, or the function points at another name. The functions keep the last good config that was pushed. Push the config again (queuewatch config push).`,
      degraded,
    );
    return inForce;
  }

  /** Tells ops once per `marker` of `field`: remembered in memory and in the state item, so neither
   * this container nor a new one tells again; not told (ops down), the next run tries again. */
  private async tellOnce(
    field: 'lastBadHash' | 'missingTold',
    marker: string,
    stored: Record<string, unknown> | undefined,
    subject: string,
    text: string,
    degraded: string[],
  ): Promise<void> {
    if (this.told[field] === marker || stored?.[field] === marker) {
      this.told[field] = marker;
      return;
    }
    try {
      await this.ops.notify(subject, text);
    } catch (error) {
      degraded.push(`ops:${errorName(error)}`);
      return;
    }
    this.told[field] = marker;
    await this.state
      .put(STATE_NAME, { ...stored, [field]: marker })
      .catch((error: unknown) => degraded.push(`state:${errorName(error)}`));
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
    await this.tellOnce(
      'lastBadHash',
      badVersion,
      stored,
      'invalid config pushed: last good config kept',
      `${problem}\n\nThe scan keeps alerting with the last good config. Fix it and push again (queuewatch config push).`,
      degraded,
    );
    return { ...(await this.fallback(problem, degraded, async () => stored)), pushNotInForce: true };
  }
}
