// A dependency that accepts the connection and then never answers, or answers half a reply: the
// functions' SDK clients give such a call up instead of waiting for the function's own time-out,
// and a press of the acknowledgement button is answered within its budget, as a failure that
// changed nothing.

import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAckHandler } from '#shared/ack/handler.ts';
import { ACK_BUDGET } from '#shared/ack/respond.ts';
import { newToken } from '#shared/ack/token.ts';
import { ACK_CLIENT_TIMEOUTS, CLIENT_TIMEOUTS } from '#shared/lambda/clients.ts';
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
  it("is given up by the clients' limits: no reply at all, or a reply that stalls part way", async () => {
    // Answers the other server's requests with headers and half a body, then nothing.
    const halfway = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 40\r\n\r\n{"TableNames"',
        ),
      );
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => halfway.listen(0, '127.0.0.1', resolve));
    const port = (halfway.address() as { port: number }).port;
    const client = (at: string) =>
      new DynamoDBClient({ ...ACK_CLIENT_TIMEOUTS, endpoint: at, region: 'eu-west-2', credentials });
    const started = performance.now();

    const outcomes = await Promise.allSettled([
      client(endpoint).send(new ListTablesCommand({})),
      client(`http://127.0.0.1:${port}`).send(new ListTablesCommand({})),
    ]);
    const tookMs = performance.now() - started;
    await new Promise<void>((resolve) => halfway.close(() => resolve()));

    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ name: 'TimeoutError' });
    }
    // Each within its limit (tried once), nowhere near a function's time-out.
    expect(tookMs).toBeLessThan(ACK_CLIENT_TIMEOUTS.requestHandler.requestTimeout * 3);
  }, 30_000);

  it('uses the same limits, wider, in the scheduled functions and ingest', () => {
    // 10 s: far above any reply DynamoDB, SNS or SSM gives, so only a stopped call is retried.
    expect(CLIENT_TIMEOUTS.requestHandler).toMatchObject({
      requestTimeout: 10_000,
      socketTimeout: 10_000,
      throwOnRequestTimeout: true,
    });
  });

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
    expect(tookMs).toBeLessThan(ACK_BUDGET.hardMs);
    vi.unstubAllEnvs();
  }, 30_000);
});
