// The admin config at runtime: read from SSM Parameter Store (cached by Powertools parameters), so
// thresholds change without a deploy. A config that fails validation never stops alerting: the
// last good one stays in force (kept in memory and in the state table) and ops are told once.

import { createHash } from 'node:crypto';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { CompiledConfig } from '../config/compile.ts';
import { ConfigError } from '../config/compile.ts';
import { loadConfig, parseConfig } from '../config/load.ts';
import type { OpsNotifier } from './ops-notifier.ts';
import type { StateStore } from './state-store.ts';

export interface ConfigInForce {
  config: CompiledConfig;
  source: 'parameter' | 'last-good' | 'default';
  /** Why the parameter's config is not in force, if it is not. */
  problem?: string;
}

const STATE_NAME = 'config';
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const isNotFound = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'ParameterNotFound' ||
    (error.cause instanceof Error && error.cause.name === 'ParameterNotFound'));

export class RuntimeConfigSource {
  private lastGood: { hash: string; config: CompiledConfig } | undefined;

  constructor(
    private readonly provider: SSMProvider,
    private readonly parameterName: string,
    private readonly defaultConfigFile: string | undefined,
    private readonly state: StateStore,
    private readonly ops: OpsNotifier,
    private readonly maxAgeSeconds = 60,
  ) {}

  async current(): Promise<ConfigInForce> {
    let text: string | undefined;
    try {
      text = await this.provider.get(this.parameterName, { maxAge: this.maxAgeSeconds });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (text === undefined) {
      return {
        config: loadConfig(this.defaultConfigFile),
        source: 'default',
        problem: 'no config has been pushed',
      };
    }
    const version = hash(text);
    if (this.lastGood?.hash === version) return { config: this.lastGood.config, source: 'parameter' };
    try {
      const config = parseConfig(text, this.parameterName);
      this.lastGood = { hash: version, config };
      await this.state.put(STATE_NAME, { lastGoodHash: version, lastGoodText: text });
      return { config, source: 'parameter' };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.keepLastGood(version, error);
    }
  }

  private async keepLastGood(badVersion: string, error: ConfigError): Promise<ConfigInForce> {
    const stored = await this.state.get(STATE_NAME);
    const problem = `config in ${this.parameterName} is invalid:\n${error.message}`;
    if (stored?.lastBadHash !== badVersion) {
      await this.ops.notify(
        'invalid config pushed: last good config kept',
        `${problem}\n\nThe scan keeps alerting with the last good config. Fix it and push again (queuewatch config push).`,
      );
      await this.state.put(STATE_NAME, { ...stored, lastBadHash: badVersion });
    }
    if (this.lastGood) return { config: this.lastGood.config, source: 'last-good', problem };
    if (typeof stored?.lastGoodText === 'string') {
      const config = parseConfig(stored.lastGoodText, 'last good config');
      this.lastGood = { hash: String(stored.lastGoodHash), config };
      return { config, source: 'last-good', problem };
    }
    return { config: loadConfig(this.defaultConfigFile), source: 'default', problem };
  }
}
