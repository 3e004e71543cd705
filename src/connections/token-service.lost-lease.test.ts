import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useSandboxTether } from '../../test/harness/sandbox-tether.ts';
import { auditLog } from '../db/schema.ts';
import { makeLogger } from '../logger.ts';
import { makeProviderRuntime } from '../providers/runtime.ts';
import { openCredentials } from './credentials.ts';
import { makeTokenService } from './token-service.ts';

// A refresher whose lease runs out while its provider call hangs, while a second refresher (the
// tether under test) takes over and succeeds. Whatever the first one's call brings back late
// (a timeout, invalid_grant, new tokens), the second one's outcome stands.

const env = useSandboxTether(
  [
    { key: 'xero', provider: 'xero', scopes: ['offline_access', 'accounting.transactions'] },
    { key: 'google', provider: 'google' },
  ],
  { endUserPrefix: 'lease' },
);
const { connect, row } = env;
const actions = async (id: string) =>
  (await env.t.database.db.select().from(auditLog).where(eq(auditLog.subjectId, id))).map((a) => a.action);
const refreshThroughApi = (id: string) =>
  env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Another process's token service whose lease is over almost at once, with provider calls the
 * test controls: `abort()` ends a hung call (as its timeout would), `release()` lets held calls go.
 */
function lateRefresher() {
  const base = makeProviderRuntime({ timeoutMs: 60_000 });
  const controller = new AbortController();
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = false;
  const tokens = makeTokenService({
    db: env.t.database.db,
    sealer: env.t.sealer,
    logger: makeLogger({ level: 'silent' }),
    leaseMs: 1,
    runtime: {
      now: base.now,
      async fetch(url, init) {
        if (holding) await held;
        return base.fetch(url, { ...init, signal: controller.signal });
      },
    },
  });
  return {
    tokens,
    abort: () => controller.abort(),
    hold: () => {
      holding = true;
    },
    release,
  };
}

describe('a refresher that lost its lease during a hung provider call', () => {
  it('does not mark the connection degraded when its call fails late', async () => {
    const id = await connect('xero');
    await env.control.hang('xero.token', { times: 1 });
    const late = lateRefresher();
    const first = late.tokens.getAccessToken(id, { force: true });
    await until(async () => (await env.control.callCount('xero.token')) === 1, 'the hung call');

    const second = await refreshThroughApi(id);
    expect(second.statusCode, second.body).toBe(200);
    const refreshed = openCredentials(env.t.sealer, await row(id))!;

    late.abort();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(after).toMatchObject({
      status: 'connected',
      lastError: null,
      failureCount: 0,
      nextAttemptAt: null,
    });
    expect(openCredentials(env.t.sealer, after)).toEqual(refreshed);
    expect(await actions(id)).not.toContain('connection.degraded');
  });

  it('does not wipe the credentials when Xero’s retry with the previous token outlives the lease', async () => {
    const id = await connect('xero');
    // One rotation, so the previous refresh token is kept and Xero's grace applies.
    expect((await refreshThroughApi(id)).statusCode).toBe(200);
    await env.control.resetCalls();
    await env.control.failNext('xero.token', 400, { body: { error: 'invalid_grant' } });
    await env.control.hang('xero.token', { times: 1 });
    const late = lateRefresher();
    const first = late.tokens.getAccessToken(id, { force: true });
    // First call: invalid_grant; the second, with the previous refresh token, hangs.
    await until(
      async () => (await env.control.callCount('xero.token')) === 2,
      'the retry with the previous token',
    );

    const second = await refreshThroughApi(id);
    expect(second.statusCode, second.body).toBe(200);
    const refreshed = openCredentials(env.t.sealer, await row(id))!;

    late.abort();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(after.status).toBe('connected');
    expect(openCredentials(env.t.sealer, after)).toEqual(refreshed);
    expect(await actions(id)).not.toContain('connection.reauthorization_required');
  });

  it('does not overwrite the newer token when its call succeeds late', async () => {
    const id = await connect('google');
    const late = lateRefresher();
    late.hold();
    const first = late.tokens.getAccessToken(id, { force: true });
    // The held call has taken its lease, which is over a millisecond later.
    await until(async () => (await row(id)).refreshLeaseOwner !== null, 'the first refresher’s lease');

    const second = await refreshThroughApi(id);
    expect(second.statusCode, second.body).toBe(200);
    const refreshed = openCredentials(env.t.sealer, await row(id))!;
    const version = (await row(id)).credentialsVersion;

    late.release();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(openCredentials(env.t.sealer, after)).toEqual(refreshed);
    expect(after.credentialsVersion).toBe(version);
  });
});
