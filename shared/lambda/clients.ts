// How long the functions' AWS SDK clients wait for a connection, and on a socket gone quiet, before
// giving a request up (the client then retries it, up to its attempts). Without them a stalled call
// holds its function until the function's own time-out: a scan run that never finishes, an
// acknowledgement that never answers. DynamoDB, SNS and SSM answer in tens of milliseconds, and a
// long response (a 1 MB page) keeps its socket busy, so only calls that have stopped are cut off.
// `throwOnRequestTimeout`: without it the SDK's handler only logs a warning and goes on waiting.

/** For the scheduled functions and ingest: a call quiet for 5 s has stopped. */
export const CLIENT_TIMEOUTS = {
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;

/** For the acknowledgement page, whose every press must be answered within seconds (respond.ts
 * ACK_BUDGET cuts a press off at 5 s whatever its calls do). */
export const ACK_CLIENT_TIMEOUTS = {
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const;
