// Shared CLI helpers: parsing options, and mapping errors to one line on stderr (no stack traces).

import { InvalidArgumentError } from 'commander';
import { type CompiledConfig, ConfigError } from '../config/compile.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts';
import { CaseFileError } from '../io/case-file.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints an error as one line (or one line per config issue) and returns the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(
      `queuewatch: invalid config:\n${error.issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}\n`,
    );
    return 1;
  }
  if (error instanceof CaseFileError || error instanceof UsageError) {
    process.stderr.write(`queuewatch: ${error.message}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`queuewatch: unexpected error: ${message}\n`);
  if (process.env.QUEUEWATCH_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 70;
}

export function loadConfigOption(path: string | undefined): CompiledConfig {
  return loadConfig(path ?? DEFAULT_CONFIG_PATH);
}

export function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    throw new InvalidArgumentError(
      `'${value}' is not an ISO 8601 instant with an offset (e.g. 2026-03-29T00:30:00Z)`,
    );
  }
  return ms;
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return Number(value);
}

export const print = (text: string) => process.stdout.write(`${text}\n`);
