// Numbers the two stacks must agree on (a queue's visibility timeout covers its consumer's timeout).
// The names both derive from the stage live in shared/delivery/names.ts (the CLI uses them too);
// the three the stacks have always imported from here are passed through.

import { Duration } from 'aws-cdk-lib';

/** The V8 heap each function may use, in MB: three quarters of its memory (the rest for code, the
 * SDK's buffers and the runtime). Stated, not left to V8's defaults: with a heap limit under 1 GB
 * V8 grows the heap by a smaller factor between collections, so a run's peak follows what it holds
 * rather than what it has thrown away (`npm run bench`, row 5, runs the scan with the same limit). */
export const heapLimitMb = (memoryMb: number): number => Math.floor((memoryMb * 3) / 4);

export const SCAN_TIMEOUT = Duration.minutes(5);
export const SCAN_MEMORY_MB = 512;

/** The digest reads the open cases and the ledger whole, like the scan, but once a day in earnest. */
export const DIGEST_TIMEOUT = Duration.minutes(2);
export const DIGEST_MEMORY_MB = 512;

export const INGEST_TIMEOUT = Duration.seconds(60);
/** AWS's advice for SQS event sources: six times the function timeout, so a batch retried by
 * Lambda is not handed to a second invocation while the first still holds it. */
export const INGEST_VISIBILITY_TIMEOUT = Duration.seconds(INGEST_TIMEOUT.toSeconds() * 6);
export const INGEST_BATCH_SIZE = 25;
/** Receives before a message goes to the dead-letter queue. */
export const INGEST_MAX_RECEIVE_COUNT = 5;

export const SIGNALS_TIMEOUT = Duration.minutes(5);
export const SIGNALS_MEMORY_MB = 512;

/** Default hours without an ingested message before the feed-silence alarm fires. */
export const DEFAULT_FEED_SILENCE_HOURS = 6;

export { configParameterName, functionName, prefix } from '#shared/delivery/names.ts';
