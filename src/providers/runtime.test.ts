import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProviderRuntime } from './runtime.ts';

// The provider fetch against a tiny local server: redirects, timeouts, the clock.

let server: Server;
let origin: string;
const seenAuthorization: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/to-ok') return res.writeHead(302, { location: '/ok' }).end();
    if (path === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path === '/to-other-origin') {
      return res.writeHead(302, { location: `${origin.replace('127.0.0.1', 'localhost')}/ok` }).end();
    }
    if (path === '/slow') return setTimeout(() => res.end('late'), 2_000);
    seenAuthorization.push(req.headers.authorization);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('makeProviderRuntime', () => {
  const rt = makeProviderRuntime({ timeoutMs: 500 });

  it('follows a GET redirect to another http URL', async () => {
    const response = await rt.fetch(`${origin}/to-ok`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
  });

  it('does not follow a redirect to a non-http scheme', async () => {
    const response = await rt.fetch(`${origin}/to-file`);
    expect(response.status).toBe(302);
  });

  it('does not follow redirects of a POST', async () => {
    const response = await rt.fetch(`${origin}/to-ok`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(302);
  });

  it('returns a redirect unfollowed when the caller asks for manual redirects (the proxy)', async () => {
    const response = await rt.fetch(`${origin}/to-other-origin`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^http:\/\/localhost:\d+\/ok$/);
  });

  it('drops the Authorization header when a redirect leaves the origin', async () => {
    seenAuthorization.length = 0;
    await rt.fetch(`${origin}/to-ok`, { headers: { authorization: 'Bearer same-origin' } });
    await rt.fetch(`${origin}/to-other-origin`, { headers: { authorization: 'Bearer other-origin' } });
    expect(seenAuthorization).toEqual(['Bearer same-origin', undefined]);
  });

  it('aborts a call that outlives the timeout', async () => {
    const started = Date.now();
    await expect(rt.fetch(`${origin}/slow`)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('uses the clock it was given', () => {
    const fixed = new Date('2030-01-01T00:00:00Z');
    expect(makeProviderRuntime({ now: () => fixed }).now()).toBe(fixed);
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => makeProviderRuntime({ timeoutMs: 0 })).toThrow('"timeoutMs" must be a positive number');
  });
});
