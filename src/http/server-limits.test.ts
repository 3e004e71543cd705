import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, parseRawResponse } from '../../test/harness/raw-http.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';

async function rejected(t: TestTether, reason: string): Promise<number> {
  const metric = (await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth })).body;
  const line = metric.split('\n').find((l) => l.startsWith(`tether_http_rejected_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('slow clients', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({
      listen: true,
      // The idle socket timeout comes out at 2 s: twice the request timeout.
      env: {
        TETHER_REQUEST_TIMEOUT_MS: '1000',
        TETHER_KEEP_ALIVE_TIMEOUT_MS: '1000',
        TETHER_PROVIDER_TIMEOUT_MS: '100',
        TETHER_REFRESH_LEASE_MS: '500',
      },
      publicPlugins: [
        async (app) => {
          app.get('/test/slow', async () => {
            await new Promise((resolve) => setTimeout(resolve, 1500));
            return { done: true };
          });
          const big = Buffer.alloc(32 * 1024 * 1024, 'x');
          app.get('/test/big', async (_request, reply) => reply.type('text/plain').send(big));
        },
      ],
    });
  });
  afterAll(() => t.close());

  it('cuts off a body trickling a byte at a time with 408 request_timeout and closes the socket', async () => {
    const client = await connectRaw(t.url);
    client.socket.write(
      'POST /v1/connect-sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n' +
        `authorization: ${t.auth.authorization}\r\n\r\n{`,
    );
    client.trickle(' ', 100);
    const response = parseRawResponse(await client.closed);
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'request_timeout', message: expect.any(String) },
    });
    expect(await rejected(t, 'request_timeout')).toBeGreaterThanOrEqual(1);
  });

  it('cuts off headers that never finish', async () => {
    const client = await connectRaw(t.url);
    client.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n');
    client.trickle('x-slow: 1\r\n', 100);
    const response = parseRawResponse(await client.closed);
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body).error.code).toBe('request_timeout');
  });

  it('closes a socket that never sends a byte', async () => {
    const client = await connectRaw(t.url);
    expect(parseRawResponse(await client.closed).status).toBe(408);
  });

  it('closes an idle keep-alive socket after its response', async () => {
    const client = await connectRaw(t.url);
    client.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    const response = parseRawResponse(await client.closed);
    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('keep-alive');
  });

  it('lets a handler take longer than the request timeout once the request has arrived', async () => {
    const response = await fetch(`${t.url}/test/slow`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
  });

  it('destroys a socket whose client stops reading its response', async () => {
    const accepted = new Promise<Socket>((resolve) => t.app.server.once('connection', resolve));
    const client = await connectRaw(t.url);
    const serverSide = await accepted;
    client.socket.pause();
    client.socket.write('GET /test/big HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => serverSide.once('close', resolve));
    expect(serverSide.destroyed).toBe(true);
    client.socket.destroy();
  });
});

describe('the connection cap', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({ listen: true, env: { TETHER_MAX_CONNECTIONS: '3' } });
  });
  afterAll(() => t.close());

  it('refuses sockets above TETHER_MAX_CONNECTIONS and serves again once one closes', async () => {
    const held = await Promise.all([1, 2, 3].map(() => connectRaw(t.url)));
    // Accepted by the kernel, then closed by tether with no answer.
    const surplus = await connectRaw(t.url);
    expect(await surplus.closed).toBe('');
    expect(await rejected(t, 'connection_limit')).toBe(1);

    // The held sockets are served as usual.
    held[0]!.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(parseRawResponse(await held[0]!.closed).status).toBe(200);
    for (const client of held.slice(1)) client.socket.destroy();
    await Promise.all(held.map((client) => client.closed));

    const later = await fetch(`${t.url}/healthz`);
    expect(later.status).toBe(200);
  });
});
