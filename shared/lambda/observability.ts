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

export function withObservability<Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
) {
  return middy(handler)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
