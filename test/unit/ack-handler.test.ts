// The acknowledgement function's edge: HTTP events (an HTTP API's, a function URL's, behind a custom
// domain) read into requests; each outcome counted and logged by a prefix of the link's hash, never
// by its token; a failing table answered with a plain "try again" page.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAckHandler } from '#shared/ack/handler.ts';
import { requestFromEvent } from '#shared/ack/http-event.ts';
import { ACK_METRICS } from '#shared/ack/metrics.ts';
import { AckLinkUnreadableError } from '#shared/ack/ports.ts';
import { linkRef, newToken } from '#shared/ack/token.ts';
import { MemoryAckLinkStore } from '#shared/adapters/memory-ack-links.ts';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { logger, metrics } from '#shared/lambda/observability.ts';

const TOKEN = 'Zz9Yy8Xx7W';

function httpEvent(overrides: Record<string, unknown> = {}) {
  return {
    version: '2.0',
    routeKey: 'GET /{token}',
    rawPath: `/${TOKEN}`,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-2.amazonaws.com', 'user-agent': 'test' },
    pathParameters: { token: TOKEN },
    requestContext: { http: { method: 'GET', path: `/${TOKEN}` }, requestId: 'r-1' },
    isBase64Encoded: false,
    ...overrides,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('reading an HTTP event', () => {
  it("takes the token from the HTTP API's path parameter", () => {
    expect(requestFromEvent(httpEvent())).toEqual({ method: 'GET', token: TOKEN });
  });

  it("takes the path's last segment behind a function URL or a custom domain's mapping key", () => {
    const { pathParameters: _none, ...functionUrl } = httpEvent({
      rawPath: `/a/${TOKEN}`,
      routeKey: '$default',
    });
    expect(requestFromEvent(functionUrl)?.token).toBe(TOKEN);
  });

  it('decodes a base64 form body and reads Sec-Fetch-Site whatever its case', () => {
    const request = requestFromEvent(
      httpEvent({
        requestContext: { http: { method: 'POST' } },
        headers: { 'Sec-Fetch-Site': 'same-origin' },
        body: Buffer.from('acknowledge=yes').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(request).toEqual({
      method: 'POST',
      token: TOKEN,
      body: 'acknowledge=yes',
      fetchSite: 'same-origin',
    });
  });

  it('is not fooled by an event that is not an HTTP request', () => {
    expect(requestFromEvent({ source: 'aws.events' })).toBeUndefined();
    expect(requestFromEvent(undefined)).toBeUndefined();
  });
});

describe('the handler', () => {
  const deps = () => ({
    links: new MemoryAckLinkStore(),
    acks: new MemoryLedger(),
    audit: new MemoryAuditLog(),
    caseSystemUrl: 'https://qw.example.police.uk/q',
    retry: { attempts: 1, baseDelayMs: 0 },
  });

  it('counts a refused link and logs a prefix of its hash, never the token', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const token = newToken();

    const page = await createAckHandler(deps(), { clock: () => 0 })({ method: 'GET', token });

    expect(page.statusCode).toBe(404);
    expect(addMetric).toHaveBeenCalledWith(ACK_METRICS.refused, 'Count', 1);
    expect(warn).toHaveBeenCalledWith('acknowledgement link refused', {
      kind: 'refused',
      link: linkRef(token),
      method: 'GET',
      reason: 'unknown',
    });
    expect(JSON.stringify(warn.mock.calls)).not.toContain(token);
  });

  it('answers a stored link that cannot be read as a failure (503, counted for the alarm), not as an old link', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const links = new MemoryAckLinkStore();
    links.get = async () => {
      throw new AckLinkUnreadableError('stored link is not valid at sections.breach.lines');
    };

    const page = await createAckHandler(
      { ...deps(), links },
      { clock: () => 0 },
    )({ method: 'POST', token: TOKEN, body: 'acknowledge=yes' });

    expect(page.statusCode).toBe(503);
    expect(page.body).not.toContain('not valid any more');
    expect(addMetric).toHaveBeenCalledWith(ACK_METRICS.failures, 'Count', 1);
    expect(addMetric).not.toHaveBeenCalledWith(ACK_METRICS.refused, 'Count', 1);
    expect(JSON.stringify(error.mock.calls)).toContain('AckLinkUnreadableError');
  });

  it('answers a failing table with a plain page saying nothing changed, and counts it for the alarm', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const links = new MemoryAckLinkStore();
    links.get = async () => {
      throw Object.assign(new Error(`table said ${TOKEN}`), {
        name: 'ProvisionedThroughputExceededException',
      });
    };

    const page = await createAckHandler(
      { ...deps(), links },
      { clock: () => 0 },
    )({ method: 'GET', token: TOKEN });

    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('Nothing has changed');
    expect(addMetric).toHaveBeenCalledWith(ACK_METRICS.failures, 'Count', 1);
    expect(JSON.stringify(error.mock.calls)).toContain('ProvisionedThroughputExceededException');
    expect(JSON.stringify(error.mock.calls)).not.toContain(TOKEN);
  });
});
