// Names the outside service a failure came from (which table, topic or parameter), so a log line, a
// metric and an alarm's reader can tell a throttled mirror table from an unreachable SSM.

/** The services a function depends on, as logs name them: `<AWS service>:<what it holds>`. */
export type Dependency =
  | 'dynamodb:mirror'
  | 'dynamodb:rejects'
  | 'dynamodb:state'
  | 'dynamodb:ledger'
  | 'dynamodb:audit'
  | 'dynamodb:flow'
  | 'sns:alerts'
  | 'sns:ops'
  | 'ssm:config';

/** Counted once per failed call, with the service dimension only; the log line names the dependency. */
export const DEPENDENCY_FAILURES_METRIC = 'DependencyFailures';

/** A call to a dependency failed after the SDK's own retries. Carries the SDK error as `cause`. */
export class DependencyError extends Error {
  override name = 'DependencyError';
  constructor(
    readonly dependency: Dependency,
    cause: unknown,
  ) {
    super(`${dependency} failed: ${describeError(cause).name}`, { cause });
  }
}

export interface ErrorDescription {
  name: string;
  httpStatusCode?: number;
  /** A system error code such as ECONNREFUSED or ETIMEDOUT: the endpoint could not be reached. */
  code?: string;
  /** What it wraps (a library's error around the SDK's, like GetParameterError around a throttle). */
  cause?: ErrorDescription;
}

/** Only what is safe to log about an error: its kind and HTTP status, and its cause's, never a
 * message (an SDK validation message can quote a value). */
export function describeError(error: unknown, depth = 0): ErrorDescription {
  const name = error instanceof Error ? error.name : typeof error;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const code = (error as { code?: unknown } | undefined)?.code;
  const cause = error instanceof Error && error.cause !== undefined && depth < 2 ? error.cause : undefined;
  return {
    name,
    ...(status !== undefined ? { httpStatusCode: status } : {}),
    ...(typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? { code } : {}),
    ...(cause !== undefined ? { cause: describeError(cause, depth + 1) } : {}),
  };
}

/** Runs one call to a dependency; a failure comes back as a DependencyError naming it. */
export async function callDependency<T>(dependency: Dependency, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof DependencyError ? error : new DependencyError(dependency, error);
  }
}

/** The log fields for a failure: which dependency (when one failed) and what kind of error. */
export function failureFields(error: unknown): {
  dependency?: Dependency;
  error: ReturnType<typeof describeError>;
} {
  return error instanceof DependencyError
    ? { dependency: error.dependency, error: describeError(error.cause) }
    : { error: describeError(error) };
}
