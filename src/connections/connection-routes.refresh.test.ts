import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useSandboxTether } from '../../test/harness/sandbox-tether.ts';
import { connections } from '../db/schema.ts';
import { findDueConnections } from './keep-alive.ts';

// POST /v1/connections/:id/refresh answers what happened: 200 with the new expiry only when a
// refresh happened, otherwise the reason. Time moves by writing the row's timestamps, never by
// waiting.

const env = useSandboxTether(
  [
    { key: 'xero', provider: 'xero', scopes: ['offline_access', 'accounting.transactions'] },
    { key: 'slack', provider: 'slack' },
    { key: 'instagram', provider: 'instagram' },
  ],
  { endUserPrefix: 'rf' },
);
const { connect, row } = env;
const set = (id: string, fields: Partial<typeof connections.$inferInsert>) =>
  env.t.database.db.update(connections).set(fields).where(eq(connections.id, id));
const refresh = (id: string) =>
  env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });

describe('POST /v1/connections/:id/refresh', () => {
  it('answers 200 with the new expiry when it refreshed', async () => {
    const id = await connect('xero');
    const soon = new Date(Date.now() + 10 * 60_000);
    await set(id, { expiresAt: soon });
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(new Date(res.json().expiresAt).getTime()).toBeGreaterThan(soon.getTime());
    expect(res.json()).toMatchObject({ status: 'connected', refreshable: true });
    expect(await env.control.callCount('xero.token#refresh_token')).toBe(1);
  });

  it('answers 409 refresh_not_supported for a connection without a refresh token (Slack)', async () => {
    const id = await connect('slack');
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('refresh_not_supported');
    expect((await row(id)).status).toBe('connected');
  });

  it('answers 409 refresh_too_early with Retry-After for an Instagram token under 24 hours old', async () => {
    const id = await connect('instagram');
    await env.control.resetCalls();
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('refresh_too_early');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(23 * 3600);
    expect(await env.control.callCount('instagram.refresh')).toBe(1); // Instagram refused it (code 100)
    expect((await row(id)).status).toBe('connected');
  });

  it('answers 503 refresh_failed_transient with Retry-After during a backoff, without calling the provider', async () => {
    const id = await connect('xero');
    await set(id, {
      status: 'degraded',
      nextAttemptAt: new Date(Date.now() + 120_000),
      lastError: { code: 'server_error', message: 'Xero answered 500', at: new Date().toISOString() },
    });
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error.code).toBe('refresh_failed_transient');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
    expect(await env.control.callCount('xero.token#refresh_token')).toBe(0);
  });

  it('answers 503 refresh_failed_transient with Retry-After when the refresh just failed', async () => {
    const id = await connect('xero');
    await env.control.failNext('xero.token', 500);
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error.code).toBe('refresh_failed_transient');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect((await row(id)).status).toBe('degraded');
  });
});

describe('the keep-alive job and a degraded connection', () => {
  it('retries it once its backoff has passed, not only at the next API call', async () => {
    const id = await connect('xero');
    await env.control.failNext('xero.token', 500);
    expect((await refresh(id)).statusCode).toBe(503);
    const degraded = await row(id);
    expect(degraded.status).toBe('degraded');
    // The token is far from its margin: only the failure makes it due.
    expect(degraded.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 20 * 60_000);
    const during = new Date(degraded.nextAttemptAt!.getTime() - 1000);
    expect((await findDueConnections(env.t.database.db, during, 100)).map((d) => d.id)).not.toContain(id);

    // The backoff is over (moved into the past rather than waited for).
    await set(id, { nextAttemptAt: new Date(Date.now() - 1000) });
    expect(await findDueConnections(env.t.database.db, new Date(), 100)).toContainEqual({
      id,
      reason: 'retry',
    });
    await env.t.keepAlive.sweep();
    const deadline = Date.now() + 20_000;
    while ((await row(id)).status !== 'connected' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const healed = await row(id);
    expect(healed.status).toBe('connected');
    expect(healed.lastError).toBeNull();
    expect(healed.credentialsVersion).toBeGreaterThan(degraded.credentialsVersion);
  });
});

describe('an Instagram connection a day later', () => {
  it('refreshes an Instagram token once it is a day old', async () => {
    const id = await connect('instagram');
    await set(id, { accessTokenIssuedAt: new Date(Date.now() - 25 * 3600_000) });
    await env.control.advanceClock(25 * 3600_000); // the sandbox's clock only moves forward: last in the file
    const res = await refresh(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(await env.control.callCount('instagram.refresh')).toBe(1);
  });
});
