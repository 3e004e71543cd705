import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { connections } from '../db/schema.ts';
import type { SandboxControl } from '../sandbox/index.ts';
import { openCredentials, sealCredentials } from './credentials.ts';

describe('fresh access tokens', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let control: SandboxControl;
  let user = 0;

  beforeAll(async () => {
    sandbox = await startSandbox();
    control = sandbox.control;
    t = await startTestTether({
      env: { TETHER_PROVIDER_TIMEOUT_MS: '800', TETHER_REFRESH_LEASE_MS: '3000' },
    });
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'xero',
      provider: 'xero',
      scopes: ['offline_access', 'accounting.transactions'],
    });
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });
  beforeEach(async () => {
    await control.clearFaults();
    await control.resetCalls();
  });

  async function connect(integration = 'xero'): Promise<string> {
    const result = await connectThroughSandbox(t, control, { integration, endUserId: `user-${++user}` });
    expect(result.status, result.body).toBe(200);
    return result.connectionId!;
  }
  const row = async (id: string) =>
    (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
  const expireSoon = (id: string, ms = 60_000) =>
    t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() + ms) })
      .where(eq(connections.id, id));
  const accessToken = (id: string) =>
    t.app.inject({ method: 'GET', url: `/v1/connections/${id}/access-token`, headers: t.auth });
  const view = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth })).json();
  const audit = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/audit?subjectId=${id}&limit=100`, headers: t.auth }))
      .json()
      .items.map((i: { action: string }) => i.action);

  it('hands out the stored token without calling the provider while it is fresh', async () => {
    const id = await connect();
    await control.resetCalls();
    const res = await accessToken(id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json().accessToken).toEqual(expect.any(String));
    expect(await control.callCount('xero.token')).toBe(0);
  });

  it('refreshes inside the margin and seals the rotated refresh token before handing out the new access token', async () => {
    const id = await connect();
    const before = openCredentials(t.sealer, await row(id))!;
    await expireSoon(id);
    const res = await accessToken(id);
    expect(res.statusCode).toBe(200);
    const after = await row(id);
    const credentials = openCredentials(t.sealer, after)!;
    expect(res.json().accessToken).toBe(credentials.accessToken);
    expect(credentials.accessToken).not.toBe(before.accessToken);
    expect(credentials.refreshToken).not.toBe(before.refreshToken);
    expect(after.credentialsSealed).not.toContain(credentials.refreshToken!);
    expect(after.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(await control.callCount('xero.token#refresh_token')).toBe(1);
    expect(await audit(id)).toContain('connection.refreshed');
  });

  it('makes one token-endpoint call for 200 concurrent callers in one process', async () => {
    const id = await connect();
    await expireSoon(id);
    await control.latency('xero.token', 150);
    const answers = await Promise.all(Array.from({ length: 200 }, () => accessToken(id)));
    const tokens = new Set(answers.map((res) => res.json().accessToken));
    expect(answers.every((res) => res.statusCode === 200)).toBe(true);
    expect(tokens.size).toBe(1);
    expect(await control.callCount('xero.token#refresh_token')).toBe(1);
  });

  it('keeps Google’s refresh token when the refresh answer has none', async () => {
    const id = await connect('google');
    const before = openCredentials(t.sealer, await row(id))!;
    expect(before.refreshToken).toEqual(expect.any(String));
    await expireSoon(id);
    expect((await accessToken(id)).statusCode).toBe(200);
    const after = openCredentials(t.sealer, await row(id))!;
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
  });

  it('rides out 500s, timeouts and dropped connections without a disconnect, then recovers', async () => {
    const id = await connect();
    await expireSoon(id, 2 * 60_000);
    await control.resetCalls();
    const faults: [string, () => Promise<unknown>][] = [
      ['500', () => control.failNext('xero.token', 500, { times: 1 })],
      ['hang', () => control.hang('xero.token', { times: 1 })],
      ['drop', () => control.drop('xero.token', { times: 1 })],
      ['503', () => control.failNext('xero.token', 503, { times: 1 })],
    ];
    for (const [name, inject] of faults) {
      await inject();
      // Skip the backoff so each fault meets a real attempt.
      await t.database.db.update(connections).set({ nextAttemptAt: null }).where(eq(connections.id, id));
      const res = await accessToken(id);
      expect(res.statusCode, name).toBe(200); // the old token still works for two minutes
      const current = await view(id);
      expect(current.status, name).toBe('degraded');
      expect(current.lastError.code).toEqual(expect.any(String));
      expect(current.nextAttemptAt).not.toBeNull();
    }
    // Faulted calls are answered before the sandbox reads the grant type, so count the endpoint.
    expect(await control.callCount('xero.token')).toBe(4);
    await t.database.db.update(connections).set({ nextAttemptAt: null }).where(eq(connections.id, id));
    expect((await accessToken(id)).statusCode).toBe(200);
    const healed = await view(id);
    expect(healed.status).toBe('connected');
    expect(healed.lastError).toBeNull();
    const actions = await audit(id);
    expect(actions).toContain('connection.degraded');
    expect(actions).toContain('connection.recovered');
    expect(actions).not.toContain('connection.reauthorization_required');
  });

  it('answers 503 with Retry-After during the backoff instead of calling the provider again', async () => {
    const id = await connect();
    await t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connections.id, id));
    await control.failNext('xero.token', 500, { times: 50 });
    await control.resetCalls();
    const first = await accessToken(id);
    expect(first.statusCode).toBe(503);
    expect(first.json().error.code).toBe('refresh_failed_transient');
    expect(Number(first.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) expect((await accessToken(id)).statusCode).toBe(503);
    expect(await control.callCount('xero.token')).toBe(1);
  });

  it('marks a revoked grant reauthorization_required on the first attempt and wipes the credentials', async () => {
    const id = await connect();
    const { refreshToken } = openCredentials(t.sealer, await row(id))!;
    await control.revoke({ refreshToken: refreshToken! });
    await expireSoon(id);
    const res = await accessToken(id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toEqual({
      code: 'reauthorization_required',
      message: expect.stringContaining('Xero'),
    });
    expect(await control.callCount('xero.token#refresh_token')).toBe(1);
    const stored = await row(id);
    expect(stored.status).toBe('reauthorization_required');
    expect(stored.credentialsSealed).toBeNull();
    expect(stored.previousRefreshTokenSealed).toBeNull();
    const again = await accessToken(id);
    expect(again.statusCode).toBe(409);
    expect(await control.callCount('xero.token#refresh_token')).toBe(1);
    expect(await audit(id)).toContain('connection.reauthorization_required');
  });

  it('retries Xero’s previous refresh token within the grace before giving up', async () => {
    const id = await connect();
    await expireSoon(id);
    expect((await accessToken(id)).statusCode).toBe(200); // rotation: the previous token is kept sealed
    // The stored refresh token is one Xero never issued (as if a response had been lost).
    const current = await row(id);
    const credentials = openCredentials(t.sealer, current)!;
    await t.database.db
      .update(connections)
      .set({
        credentialsSealed: sealCredentials(t.sealer, id, { ...credentials, refreshToken: 'lost-in-transit' }),
        expiresAt: new Date(Date.now() + 60_000),
      })
      .where(eq(connections.id, id));
    const res = await accessToken(id);
    expect(res.statusCode, res.body).toBe(200);
    expect((await view(id)).status).toBe('connected');
    expect(await control.callCount('xero.token#refresh_token')).toBe(3);
  });

  it('reports invalid_client as the integration’s problem', async () => {
    const id = await connect();
    await t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connections.id, id));
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/integrations/xero',
      headers: t.auth,
      payload: { clientSecret: 'wrong-secret' },
    });
    try {
      const res = await accessToken(id);
      expect(res.statusCode).toBe(502);
      expect(res.json().error.code).toBe('integration_misconfigured');
      const integration = (
        await t.app.inject({ method: 'GET', url: '/v1/integrations/xero', headers: t.auth })
      ).json();
      expect(integration.lastError.code).toEqual(expect.any(String));
      expect((await view(id)).status).toBe('degraded');
    } finally {
      await t.app.inject({
        method: 'PATCH',
        url: '/v1/integrations/xero',
        headers: t.auth,
        payload: { clientSecret: 'sandbox-xero-secret' },
      });
    }
    expect((await accessToken(id)).statusCode).toBe(200);
  });

  it('lets another caller refresh once a crashed refresher’s lease runs out', async () => {
    const id = await connect();
    await expireSoon(id);
    // A refresher that took the lease and died: its lease is still running.
    await t.database.db
      .update(connections)
      .set({ refreshLeaseOwner: 'crashed-process', refreshLeaseUntil: new Date(Date.now() + 1500) })
      .where(eq(connections.id, id));
    const started = Date.now();
    const res = await accessToken(id);
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await control.callCount('xero.token#refresh_token')).toBe(1);
  });

  it('answers 404 for an unknown connection and 409 not_connected once disconnected', async () => {
    expect((await accessToken('conn_nope')).statusCode).toBe(404);
    const id = await connect();
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/connections/${id}`, headers: t.auth });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ status: 'disconnected', revokedAtProvider: true });
    expect(await control.callCount('xero.revocation')).toBe(1);
    expect((await row(id)).credentialsSealed).toBeNull();
    const res = await accessToken(id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('not_connected');
  });

  it('never puts a token in a log line or a connection view', async () => {
    const id = await connect();
    await expireSoon(id);
    await accessToken(id);
    const credentials = openCredentials(t.sealer, await row(id))!;
    const body = JSON.stringify(await view(id));
    const logs = t.logs.text();
    for (const secret of [credentials.accessToken, credentials.refreshToken!]) {
      expect(body).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
