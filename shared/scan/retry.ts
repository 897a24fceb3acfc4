// Retries a call that failed for a passing reason (throttling, a dropped connection), with
// exponential backoff. A call that answered (a failed condition returns false or undefined, it
// does not throw) is never retried.

export interface RetryPolicy {
  attempts: number;
  /** First wait; each next one doubles (0 in tests: they never sleep on real time). */
  baseDelayMs: number;
  /** No attempt starts after this `performance.now()` time: a caller with a deadline gets the last
   * attempt's error instead of one more try it has no time to wait for. */
  stopAt?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200 };

export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const wait = policy.baseDelayMs * 2 ** (attempt - 1);
      if (attempt >= policy.attempts) throw error;
      if (policy.stopAt !== undefined && performance.now() + wait >= policy.stopAt) throw error;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** An error's name, never its message (an SDK message can quote a value). */
export const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

/** Whether a call that failed may still have been carried out: it got no answer (timed out, or the
 * connection broke), the service failed inside it (5xx), or the client tried it more than once (an
 * earlier try may have gone through whatever the last one said), rather than the service answering
 * that it did not (a throttle, a refused request, on the first and only try). */
export function mayHaveBeenCarriedOut(error: unknown): boolean {
  const { name, $metadata } = (error ?? {}) as {
    name?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  if (name === 'TimeoutError') return true;
  const status = $metadata?.httpStatusCode;
  return status === undefined || status >= 500 || ($metadata?.attempts ?? 1) > 1;
}
