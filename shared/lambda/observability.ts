// The one middy chain every function uses: Powertools logger and metrics, set up once. Functions
// log structured objects through `logger`, never JSON spliced into a string. Traces come from
// Lambda's active tracing alone (the stack turns it on): no X-Ray SDK is loaded, see README "Observe".

import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
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

export function withObservability<Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
) {
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
