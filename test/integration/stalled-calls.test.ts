// A dependency that accepts the connection and then never answers: the functions' SDK clients give
// such a call up (and retry it) instead of waiting for the function's own time-out, and a press of
// the acknowledgement button is answered within its budget, as a failure that changed nothing.

import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAckHandler } from '#shared/ack/handler.ts';
import { ACK_BUDGET } from '#shared/ack/respond.ts';
import { newToken } from '#shared/ack/token.ts';
import { CLIENT_TIMEOUTS } from '#shared/lambda/clients.ts';
import { LOCAL_CREDENTIALS } from '#shared/local/embedded-dynamo.ts';
import { awsAckDeps } from '#shared/wiring/ack.ts';

let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Reads every request and answers none.
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the silent server has no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const credentials = LOCAL_CREDENTIALS;

describe('a dependency that stops answering', () => {
  it("is given up by the functions' clients after their quiet time, not at the function's time-out", async () => {
    const started = performance.now();
    const calls = [
      new DynamoDBClient({
        ...CLIENT_TIMEOUTS,
        endpoint,
        region: 'eu-west-2',
        credentials,
        maxAttempts: 1,
      }).send(new ListTablesCommand({})),
      new SNSClient({ ...CLIENT_TIMEOUTS, endpoint, region: 'eu-west-2', credentials, maxAttempts: 1 }).send(
        new ListTopicsCommand({}),
      ),
    ];

    const outcomes = await Promise.allSettled(calls);
    const tookMs = performance.now() - started;

    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ name: 'TimeoutError' });
    }
    expect(tookMs).toBeGreaterThanOrEqual(CLIENT_TIMEOUTS.requestHandler.requestTimeout - 100);
  }, 30_000);

  it('answers a press of the acknowledgement button within its budget, saying nothing changed', async () => {
    vi.stubEnv('ACK_LINKS_TABLE', 'queuewatch-stalled-acklinks');
    vi.stubEnv('LEDGER_TABLE', 'queuewatch-stalled-ledger');
    vi.stubEnv('AUDIT_TABLE', 'queuewatch-stalled-audit');
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
    vi.stubEnv('AWS_REGION', 'eu-west-2');
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'CRITICAL');
    const handler = createAckHandler(awsAckDeps());
    const started = performance.now();

    const page = await handler({ method: 'POST', token: newToken(), body: 'acknowledge=yes' });
    const tookMs = performance.now() - started;

    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('Nothing has changed');
    // Within the budget (and so well inside the function's 10 s time-out), give or take a timer.
    expect(tookMs).toBeLessThan(ACK_BUDGET.ackMs + 500);
    vi.unstubAllEnvs();
  }, 30_000);
});
