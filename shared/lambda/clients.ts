// How long the functions' AWS SDK clients wait before giving a call up. Without limits a stalled
// call holds its function until the function's own time-out: a scan run that never finishes, an
// acknowledgement that never answers. `requestTimeout` runs until the reply's headers arrive (with
// `throwOnRequestTimeout`; without it the SDK's handler only logs a warning and goes on waiting);
// `socketTimeout` cuts a socket that goes quiet after that (a reply stalled part way).
//
// A call given up is retried by the client, and one that had in fact been carried out is then
// carried out twice: a publish reaches people twice, a conditional write finds its own earlier
// write and reads as refused. DynamoDB, SNS and SSM answer in tens of milliseconds, so the limits
// are far above that, and only a call that has stopped is given up.

/** For the scheduled functions and ingest: 30 s without a reply is a call that has stopped. */
export const CLIENT_TIMEOUTS = {
  requestHandler: {
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    throwOnRequestTimeout: true,
    socketTimeout: 30_000,
  },
} as const;

/** For the acknowledgement page, whose every press must be answered within seconds: each call is
 * tried once (respond.ts retries what is safe to, within the press's budget, ACK_BUDGET) and given
 * up within 2.5 s, so that a call started before a deadline has settled before the press is
 * answered, and no retry of it lands afterwards. */
export const ACK_CLIENT_TIMEOUTS = {
  maxAttempts: 1,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 1_500,
    throwOnRequestTimeout: true,
    socketTimeout: 1_500,
  },
} as const;
