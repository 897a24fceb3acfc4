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

/** For the scheduled functions and ingest: 10 s without a reply is a call that has stopped. With
 * the SDK's own tries (DynamoDB's 4), a call that keeps stalling is given up within about 40 s:
 * inside ingest's 60 s time-out, the digest's 2 minutes, and three tries of the scan's own within
 * its 5 minutes. */
export const CLIENT_TIMEOUTS = {
  requestHandler: {
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    throwOnRequestTimeout: true,
    socketTimeout: 10_000,
  },
} as const;

/** For the acknowledgement page, whose every press must be answered within seconds: each call is
 * tried once (respond.ts retries what is safe to, within the press's budget, ACK_BUDGET), and one
 * that gets no reply is given up within 2.5 s. A reply that trickles in slower still is cut off by
 * the press's backstop; a write it makes may then land after the answer, which the page allows
 * for ("may or may not have been recorded"). */
export const ACK_CLIENT_TIMEOUTS = {
  maxAttempts: 1,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 1_500,
    throwOnRequestTimeout: true,
    socketTimeout: 1_500,
  },
} as const;
