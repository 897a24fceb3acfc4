// Shared CLI helpers that every command definition uses: the exit statuses, parsing options and
// printing. Kept free of heavy imports (no zod, no AWS SDK): `queuewatch --help` loads only this,
// commander and the command definitions.

import { InvalidArgumentError } from 'commander';
import { STAGE_PATTERN, STAGE_RULE } from '../delivery/names.ts';

/** One table of exit statuses for every command (README "Exit status" shows the same). */
export const EXIT = {
  ok: 0,
  /** A check failed: invalid config, a config dropping what open cases still use (refused), routes
   * or config differing from what was expected, an import stopped by an error (resumable). */
  failed: 1,
  /** Usage: unknown command or option, a bad or missing argument, a file that cannot be read. */
  usage: 2,
  /** Done, but some records were rejected (import). */
  rejected: 3,
  /** A service could not be reached or refused: connection refused, no AWS credentials or region,
   * access denied, a table or parameter that does not exist. */
  unavailable: 4,
  /** A bug in queuewatch. */
  internal: 70,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
} as const;

export const EXIT_STATUS_HELP = `
Exit status (every command):
  0    done; a check passed
  1    a check failed: invalid config, a config that drops a district or category open cases
       still use (config check given a mirror; config push: refused), audiences or config
       differing from the expected (routes test --expect, config diff), an import stopped by an
       error (re-run with --resume)
  2    usage error: unknown command or option, a bad or missing argument, a file that
       cannot be read
  3    done, but some records were rejected (import: see the rejects file)
  4    a service could not be reached or refused: connection refused, no AWS credentials or
       region, access denied, no such table or parameter
  70   internal error (a bug): re-run with QUEUEWATCH_DEBUG=1 for the stack trace and report it
  130  interrupted (import: re-run with --resume; migrate: run it again)`;

/** A mistake in how the command was called; exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** "1 case", "2 cases"; "1 audience", "3 audiences". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-GB')} ${count === 1 ? singular : pluralForm}`;
}

/** Whether YYYY-MM-DD names a day the calendar has (Date.parse takes 2026-02-30 as 2 March). */
const realDay = (value: string) => {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
};

export function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (
    !/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value) ||
    Number.isNaN(ms) ||
    !realDay(value)
  ) {
    throw new InvalidArgumentError(
      `'${value}' is not an ISO 8601 instant with an offset (e.g. 2026-03-29T00:30:00Z)`,
    );
  }
  return ms;
}

/** A local server's address: an http or https URL. */
export function parseEndpoint(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new InvalidArgumentError(`'${value}' is not a server address like http://localhost:4566`);
  }
  return value;
}

/** A deployment stage, as the stack names it (shared/delivery/names.ts). */
export function parseStage(value: string): string {
  if (!STAGE_PATTERN.test(value)) throw new InvalidArgumentError(`'${value}' ${STAGE_RULE}`);
  return value;
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return Number(value);
}

/** A calendar date, YYYY-MM-DD. */
export function parseDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !realDay(value)) {
    throw new InvalidArgumentError(`'${value}' is not a date like 2026-11-30`);
  }
  return value;
}

export const print = (text: string) => process.stdout.write(`${text}\n`);
