import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import { connectThroughSandbox } from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { SandboxControl } from '../sandbox/index.ts';

// The proxy as an attacker meets it: tether listening with its own sandbox mounted, so the
// seeded Xero's API base (…/sandbox/xero/api) sits on the same host as tether's /healthz and /v1.
// Requests go over a raw socket so paths arrive exactly as written (no client normalises them).

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function rawRequest(
  origin: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}/`, { path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The URLs tether itself was asked for, from its request log. */
function requestedUrls(t: TestTether): string[] {
  return t.logs.lines
    .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string } })
    .filter((entry) => entry.msg === 'incoming request' && entry.req?.url)
    .map((entry) => entry.req!.url!);
}

describe('the proxy against path escapes and redirects', () => {
  let t: TestTether;
  let origin: string;
  let control: SandboxControl;
  let id: string;
  /** Another host, to redirect to: it answers 401 to whoever comes, and counts them. */
  let elsewhere: Server;
  let elsewhereOrigin: string;
  const elsewhereHits: { url: string; headers: Record<string, unknown> }[] = [];
  let sent: MockInstance<typeof fetch>;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    t = await startTestTether({
      listen: true,
      env: { TETHER_SANDBOX: '1', PORT: String(port), TETHER_PUBLIC_URL: origin },
    });
    control = new SandboxControl(`${origin}/sandbox`);
    id = (await connectThroughSandbox(t, control, { integration: 'sandbox-xero', endUserId: 'escape-user' }))
      .connectionId!;
    elsewhere = createServer((req, res) => {
      elsewhereHits.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"stolen":true}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereOrigin = `http://localhost:${(elsewhere.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    elsewhere?.closeAllConnections();
    await new Promise<void>((resolve) => (elsewhere ? elsewhere.close(() => resolve()) : resolve()));
  });
  beforeEach(async () => {
    await control.clearFaults();
    await control.resetCalls();
    elsewhereHits.length = 0;
    t.logs.lines.length = 0;
    sent = vi.spyOn(globalThis, 'fetch');
  });
  afterEach(() => sent.mockRestore());

  const proxied = (path: string, method = 'GET') =>
    rawRequest(origin, `/v1/proxy/${id}/${path}`, t.auth, method);

  it('calls an ordinary path, which the request log shows reaching the sandbox', async () => {
    const res = await proxied('api.xro/2.0/Organisation');
    expect(res.status, res.body).toBe(200);
    expect(requestedUrls(t)).toContain('/sandbox/xero/api/api.xro/2.0/Organisation');
  });

  it.each([
    ['..%2f..%2f..%2f..%2fhealthz'],
    ['..%2f..%2f..%2f..%2fv1%2fintegrations'],
    ['..%2F..%2Fv1/integrations'],
    ['%2e%2e/%2e%2e/healthz'],
    ['%2E%2E%2F%2E%2E%2Fhealthz'],
    ['../../healthz'],
    ['..\\..\\healthz'],
    ['..%5c..%5chealthz'],
    ['%252e%252e%252f%252e%252e%252fhealthz'],
    ['api.xro/../../../../v1/integrations'],
  ])('refuses %s with 400 invalid_proxy_path, sending nothing and refreshing nothing', async (path) => {
    for (const method of ['GET', 'POST']) {
      const res = await proxied(path, method);
      expect(res.status, res.body).toBe(400);
      expect(JSON.parse(res.body).error.code).toBe('invalid_proxy_path');
    }
    expect(sent).not.toHaveBeenCalled();
    expect(requestedUrls(t).filter((url) => !url.startsWith('/v1/proxy/'))).toEqual([]);
    expect(await control.callCount('xero.token')).toBe(0);
  });

  it('relays a provider redirect to another host as it is, without following it', async () => {
    const location = `${elsewhereOrigin}/steal?from=xero`;
    await control.failNext('xero.organisation', 302, { headers: { location } });
    const res = await proxied('api.xro/2.0/Organisation');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(location);
    expect(elsewhereHits).toEqual([]);
    expect(await control.callCount('xero.token')).toBe(0);
  });

  it('relays a redirect inside the API base too, and never refreshes over one', async () => {
    await control.failNext('xero.organisation', 307, {
      headers: { location: '/sandbox/xero/api/api.xro/2.0/Users' },
    });
    const res = await proxied('api.xro/2.0/Organisation');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('/sandbox/xero/api/api.xro/2.0/Users');
    expect(await control.callCount('xero.organisation')).toBe(1);
    expect(await control.callCount('xero.token')).toBe(0);
  });
});
