import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxControl } from '../src/sandbox/index.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('the offline demo: tether with its own sandbox', () => {
  let t: TestTether;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestTether({
      listen: true,
      env: { TETHER_SANDBOX: '1', PORT: String(port), TETHER_PUBLIC_URL: base },
    });
  });
  afterAll(() => t?.close());

  it('seeds one sandbox integration per provider, idempotently', async () => {
    const list = await (await fetch(`${base}/v1/integrations`, { headers: t.auth })).json();
    const keys = (list as { items: { key: string }[] }).items.map((i) => i.key);
    for (const provider of [
      'google',
      'gmail',
      'xero',
      'docusign',
      'notion',
      'instagram',
      'tiktok',
      'slack',
      'oauth2',
    ]) {
      expect(keys).toContain(`sandbox-${provider}`);
    }
  });

  it('connects an account end to end over HTTP and hands out a working token', async () => {
    const session = (await (
      await fetch(`${base}/v1/connect-sessions`, {
        method: 'POST',
        headers: { ...t.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ integration: 'sandbox-xero', endUserId: 'demo-user' }),
      })
    ).json()) as { url: string };
    const start = await fetch(session.url, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const redirect = await new SandboxControl(`${base}/sandbox`).authorize(start.headers.get('location')!, {
      decision: 'approve',
    });
    // The browser sends back the cookie /connect/:token set.
    const cookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const done = await fetch(redirect.location, { headers: { cookie } });
    expect(done.status, await done.text()).toBe(200);
    const connections = (await (
      await fetch(`${base}/v1/connections?endUserId=demo-user`, { headers: t.auth })
    ).json()) as { items: { id: string }[] };
    const id = connections.items[0]!.id;
    const token = await fetch(`${base}/v1/connections/${id}/access-token`, { headers: t.auth });
    expect(token.status).toBe(200);
    const proxied = await fetch(`${base}/v1/proxy/${id}/api.xro/2.0/Organisation`, { headers: t.auth });
    expect(proxied.status).toBe(200);
  });

  it('keeps the sandbox off the API key, and answers 404 under /sandbox when it is off', async () => {
    expect((await fetch(`${base}/sandbox/_control/accounts`)).status).toBe(200);
    const off = await startTestTether();
    try {
      expect((await off.app.inject({ method: 'GET', url: '/sandbox/_control/accounts' })).statusCode).toBe(
        404,
      );
    } finally {
      await off.close();
    }
  });
});
