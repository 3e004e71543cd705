import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { connections } from '../db/schema.ts';
import { sandboxClientCredentials, sandboxEndpoints } from '../sandbox/index.ts';
import { openCredentials } from './credentials.ts';

describe('the proxy', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let id: string;
  const organisation = () =>
    t.app.inject({ method: 'GET', url: `/v1/proxy/${id}/api.xro/2.0/Organisation`, headers: t.auth });
  const status = async () =>
    (await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth })).json().status;

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether();
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'xero',
      provider: 'xero',
      scopes: ['offline_access'],
    });
    id = (await connectThroughSandbox(t, sandbox.control, { integration: 'xero', endUserId: 'proxy-user' }))
      .connectionId!;
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });
  beforeEach(async () => {
    await sandbox.control.clearFaults();
    await sandbox.control.resetCalls();
  });

  it('calls the provider as the connection, adding the token and the Xero tenant header', async () => {
    const res = await organisation();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().Organisations ?? res.json()).toBeTruthy();
    expect(await sandbox.control.callCount('xero.organisation')).toBe(1);
  });

  it('refreshes once and retries once when the provider says the token expired', async () => {
    const [row] = await t.database.db.select().from(connections).where(eq(connections.id, id));
    await sandbox.control.expireAccessToken(openCredentials(t.sealer, row!)!.accessToken);
    const res = await organisation();
    expect(res.statusCode, res.body).toBe(200);
    expect(await sandbox.control.callCount('xero.token#refresh_token')).toBe(1);
    expect(await sandbox.control.callCount('xero.organisation')).toBe(2);
  });

  it('retries only once when the provider keeps answering 401, and does not disconnect', async () => {
    await sandbox.control.failNext('xero.organisation', 401, { times: 5, body: { Type: 'TokenExpired' } });
    const res = await organisation();
    expect(res.statusCode).toBe(401);
    expect(await sandbox.control.callCount('xero.organisation')).toBe(2);
    expect(await sandbox.control.callCount('xero.token')).toBe(1);
    expect(await status()).toBe('connected');
  });

  it('passes a 429 back with the provider’s Retry-After, without refreshing', async () => {
    await sandbox.control.failNext('xero.organisation', 429, {
      times: 1,
      headers: { 'retry-after': '7' },
      body: { Title: 'Too Many Requests' },
    });
    const res = await organisation();
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(await sandbox.control.callCount('xero.token')).toBe(0);
  });

  it('never disconnects over a 403 or 404 about one resource', async () => {
    for (const code of [403, 404]) {
      await sandbox.control.failNext('xero.organisation', code, { times: 1 });
      expect((await organisation()).statusCode).toBe(code);
    }
    expect(await status()).toBe('connected');
    expect(await sandbox.control.callCount('xero.token')).toBe(0);
  });

  it('needs the API key and answers 409 for a disconnected connection', async () => {
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/proxy/${id}/api.xro/2.0/Organisation` })).statusCode,
    ).toBe(401);
    const other = (
      await connectThroughSandbox(t, sandbox.control, { integration: 'xero', endUserId: 'proxy-gone' })
    ).connectionId!;
    await t.app.inject({ method: 'DELETE', url: `/v1/connections/${other}`, headers: t.auth });
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/proxy/${other}/api.xro/2.0/Organisation`,
      headers: t.auth,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('not_connected');
  });

  it('answers 409 proxy_not_configured for a generic oauth2 integration without apiBaseUrl, calling nothing', async () => {
    const { apiBaseUrl, ...endpoints } = sandboxEndpoints(sandbox.server.url).oauth2;
    expect(apiBaseUrl).toBeTruthy();
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/integrations',
      headers: t.auth,
      payload: { key: 'tokens-only', provider: 'oauth2', ...sandboxClientCredentials('oauth2'), endpoints },
    });
    expect(created.statusCode, created.body).toBe(201);
    const tokensOnly = (
      await connectThroughSandbox(t, sandbox.control, {
        integration: 'tokens-only',
        endUserId: 'tokens-user',
      })
    ).connectionId!;
    // Due for a refresh: the 409 must still come before any token work.
    await t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(eq(connections.id, tokensOnly));
    await sandbox.control.resetCalls();
    const res = await t.app.inject({ method: 'GET', url: `/v1/proxy/${tokensOnly}/me`, headers: t.auth });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('proxy_not_configured');
    expect((await sandbox.control.calls(0)).counts).toEqual({});
    const token = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${tokensOnly}/access-token`,
      headers: t.auth,
    });
    expect(token.statusCode).toBe(200);
  });

  it('answers 502 when the provider drops the connection', async () => {
    await sandbox.control.drop('xero.organisation', { times: 1 });
    expect((await organisation()).statusCode).toBe(502);
  });
});
