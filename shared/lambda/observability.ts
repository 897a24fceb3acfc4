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

export const SERVICE = 'queuewatch';
export const METRICS_NAMESPACE = 'Queuewatch';

export const logger = new Logger({ serviceName: SERVICE });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });
export const tracer = new Tracer({ serviceName: SERVICE });

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
