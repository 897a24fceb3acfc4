// The tracing helper: inside Lambda an SDK client's calls go through X-Ray; anywhere else (tests,
// the CLI, local runs) the client is left as it was. And the service name every metric carries.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** The observability module as a function with this environment loads it (the tracer reads its
 * environment once, when the module is first imported). */
async function observabilityWith(env: Record<string, string>) {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return import('#shared/lambda/observability.ts');
}

const middlewareOf = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().join('\n');

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('traced', () => {
  it('instruments a client inside Lambda, and the DocumentClient built on it', async () => {
    const { traced } = await observabilityWith({
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      POWERTOOLS_TRACE_ENABLED: 'true',
    });
    const client = new DynamoDBClient({ region: 'eu-west-2' });

    expect(traced(client)).toBe(client);
    expect(middlewareOf(client)).toContain('XRaySDKInstrumentation');
    expect(middlewareOf(DynamoDBDocumentClient.from(client))).toContain('XRaySDKInstrumentation');
  });

  it('leaves a client untouched outside Lambda, or with tracing switched off', async () => {
    const environments: Array<Record<string, string>> = [
      { AWS_EXECUTION_ENV: '' },
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' },
    ];
    for (const env of environments) {
      const { traced } = await observabilityWith(env);
      const client = new DynamoDBClient({ region: 'eu-west-2' });
      expect(middlewareOf(traced(client)), JSON.stringify(env)).not.toContain('XRaySDKInstrumentation');
    }
  });
});

describe('the service name', () => {
  it("is the force's own where the stack sets it, so two forces never share a metric", async () => {
    const deployed = await observabilityWith({ POWERTOOLS_SERVICE_NAME: 'queuewatch-north' });
    deployed.metrics.addMetric('Heartbeat', 'Count', 1);
    const emf = deployed.metrics.serializeMetrics();
    deployed.metrics.clearMetrics();

    expect(emf.service).toBe('queuewatch-north');
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('is plain queuewatch where nothing sets it (the CLI, local runs)', async () => {
    const local = await observabilityWith({ POWERTOOLS_SERVICE_NAME: '' });
    local.metrics.addMetric('Heartbeat', 'Count', 1);
    const emf = local.metrics.serializeMetrics();
    local.metrics.clearMetrics();

    expect(emf.service).toBe('queuewatch');
  });
});
