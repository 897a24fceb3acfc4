// The one middy chain every function uses: Powertools logger, metrics and tracer, set up once.
// Functions log structured objects through `logger`, never JSON spliced into a string.

import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { optionalEnv } from './env.ts';

/** The service name where the environment gives none (the CLI, local runs, tests). */
export const SERVICE = 'queuewatch';
export const METRICS_NAMESPACE = 'Queuewatch';

/** A deployed function's force: the stack sets POWERTOOLS_SERVICE_NAME to `queuewatch-<stage>`, the
 * `service` dimension of every metric, so two forces (or stages) in one account and region never
 * count into each other's metrics: one's heartbeat would hide the other's stopped scan. */
const service = optionalEnv('POWERTOOLS_SERVICE_NAME') ?? SERVICE;

export const logger = new Logger({ serviceName: service });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
export const tracer = new Tracer({ serviceName: service });

/**
 * Returns the client with its calls traced: X-Ray shows each DynamoDB, SNS or SSM call as a
 * subsegment (service, operation, latency, throttle or error), so a slow or failing dependency is
 * visible on the function's trace. Wrap the base client before building a DocumentClient from it
 * (they share one middleware stack). Outside Lambda, or with POWERTOOLS_TRACE_ENABLED=false (tests,
 * the CLI, local runs), the client comes back untouched.
 */
export function traced<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

export function withObservability<Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
) {
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
