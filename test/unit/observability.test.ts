// The service name every metric carries.

import { afterEach, describe, expect, it, vi } from 'vitest';

/** The observability module as a function with this environment loads it (the logger and metrics
 * read their environment once, when the module is first imported). */
async function observabilityWith(env: Record<string, string>) {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return import('#shared/lambda/observability.ts');
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
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
