// Maps every error a command can end with to one message on stderr and an exit status (the table
// in output.ts), in one place. No stack traces unless QUEUEWATCH_DEBUG is set; never a value read
// from an input file (it may be personal data).

import { ConfigError } from '../config/compile.ts';
import { ConfigReadError } from '../config/load.ts';
import { CaseFileError } from '../io/case-file.ts';
import { EXIT, UsageError } from './output.ts';

/** A service (DynamoDB, SSM) could not be reached, or refused us; exit status 4. */
export class ServiceError extends Error {
  override name = 'ServiceError';
}

export interface ServiceTarget {
  service: 'DynamoDB' | 'SSM';
  /** A local server's URL; undefined for AWS. */
  endpoint?: string;
  region?: string;
  /** The table or parameter, for "does not exist" messages. */
  resource?: string;
  /** The command's options that name another table, for those messages (default: its --stage,
   * --prefix and --table, as most table commands have). */
  naming?: { local: string; aws: string };
}

const TABLE_NAMING = { local: '--prefix or --table', aws: '--stage (or --prefix, --table)' };

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
};

/** The network failure behind an error, if any: the SDK wraps it, Node may aggregate several. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const code = 'code' in error ? error.code : undefined;
  if (typeof code === 'string' && code in NETWORK_CODES) return code;
  if ('cause' in error) {
    const found = networkCode(error.cause, depth + 1);
    if (found) return found;
  }
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = networkCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

const errorName = (error: unknown) =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';

/** How to start a local server for a service, on the port of `endpoint`. */
function localServerHint(target: ServiceTarget): string {
  let port = '4567';
  try {
    port = new URL(target.endpoint ?? '').port || port;
  } catch {
    // not a URL: keep the example port
  }
  return target.service === 'DynamoDB'
    ? `start a local one with \`npx dynalite --port ${port}\` (then load cases with \`npx queuewatch import FILE --endpoint ${target.endpoint} --create-tables\`), or leave out --endpoint to use AWS`
    : `start a local one with \`moto_server -p ${port}\`, or leave out --endpoint to use AWS`;
}

/** A ServiceError saying what went wrong with a call to `target`, or undefined when the error is
 * not about reaching or using the service (a bug, a validation error). */
export function describeServiceFailure(error: unknown, target: ServiceTarget): ServiceError | undefined {
  const where = target.endpoint
    ? `${target.service} at ${target.endpoint}`
    : `AWS ${target.service}${target.region ? ` in ${target.region}` : ''}`;
  const options = { cause: error };
  const network = networkCode(error);
  if (network) {
    return new ServiceError(
      target.endpoint
        ? `cannot connect to ${where} (${NETWORK_CODES[network]}): ${localServerHint(target)}`
        : `cannot reach ${where} (${NETWORK_CODES[network]}): check the network and --region`,
      options,
    );
  }
  const name = errorName(error);
  const message = error instanceof Error ? error.message : '';
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new ServiceError(
      `no AWS credentials found for ${where}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run \`aws sso login\`; for a local server, pass --endpoint URL`,
      options,
    );
  }
  if (/region is missing/i.test(message)) {
    return new ServiceError(`no AWS region for ${where}: pass --region or set AWS_REGION`, options);
  }
  if (name === 'ResourceNotFoundException') {
    return new ServiceError(
      `${where} has no table ${target.resource ?? ''}`.trimEnd() +
        (target.endpoint
          ? `: create the tables with \`npx queuewatch import FILE --endpoint URL --create-tables\`, or name another with ${(target.naming ?? TABLE_NAMING).local}`
          : `: check ${(target.naming ?? TABLE_NAMING).aws} and --region`),
      options,
    );
  }
  if (
    [
      'AccessDeniedException',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
      'ExpiredToken',
      'InvalidClientTokenId',
    ].includes(name)
  ) {
    return new ServiceError(
      `${where} refused the request (${name}): check that the credentials in use are current and allowed to read ${target.resource ?? 'it'}`,
      options,
    );
  }
  if (
    ['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'].includes(name)
  ) {
    return new ServiceError(`${where} is throttling requests (${name}): try again shortly`, options);
  }
  return undefined;
}

/** Runs `call` against a service, turning failures to reach or use it into a ServiceError. */
export async function callService<T>(target: ServiceTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describeServiceFailure(error, target) ?? error;
  }
}

const write = (text: string) => process.stderr.write(`queuewatch: ${text}\n`);

/** Prints an error as one line (or one line per config issue) and returns its exit status. */
export function reportError(error: unknown): number {
  if (error instanceof ConfigReadError) {
    write(error.message);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(
      `queuewatch: invalid config:\n${error.issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}\n`,
    );
    return EXIT.failed;
  }
  if (error instanceof CaseFileError || error instanceof UsageError) {
    write(error.message);
    return EXIT.usage;
  }
  if (error instanceof ServiceError) {
    write(error.message);
    return EXIT.unavailable;
  }
  // A network failure the command did not wrap still gets a plain answer.
  const network = networkCode(error);
  if (network) {
    write(`cannot connect (${NETWORK_CODES[network]}): check --endpoint, --region and the network`);
    return EXIT.unavailable;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const debug = Boolean(process.env.QUEUEWATCH_DEBUG);
  write(
    `internal error (a bug): ${message}\n  ${debug ? 'report it with the stack trace below' : 're-run with QUEUEWATCH_DEBUG=1 for the stack trace, and report it'}`,
  );
  if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return EXIT.internal;
}
