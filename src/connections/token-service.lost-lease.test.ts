import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { auditLog, connections } from '../db/schema.ts';
import { makeLogger } from '../logger.ts';
import { makeProviderRuntime } from '../providers/runtime.ts';
import type { SandboxControl } from '../sandbox/index.ts';
import { openCredentials } from './credentials.ts';
import { makeTokenService } from './token-service.ts';

// A refresher whose lease runs out while its provider call hangs, while a second refresher (the
// tether under test) takes over and succeeds. Whatever the first one's call brings back late
// (a timeout, invalid_grant, new tokens), the second one's outcome stands.

let t: TestTether;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let control: SandboxControl;
let user = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  control = sandbox.control;
  t = await startTestTether();
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

async function connect(integration: string): Promise<string> {
  const result = await connectThroughSandbox(t, control, { integration, endUserId: `lease-${++user}` });
  expect(result.status, result.body).toBe(200);
  return result.connectionId!;
}
const row = async (id: string) =>
  (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
const actions = async (id: string) =>
  (await t.database.db.select().from(auditLog).where(eq(auditLog.subjectId, id))).map((a) => a.action);
const refreshThroughApi = (id: string) =>
  t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: t.auth });

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
    db: t.database.db,
    sealer: t.sealer,
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
    await control.hang('xero.token', { times: 1 });
    const late = lateRefresher();
    const first = late.tokens.getAccessToken(id, { force: true });
    await until(async () => (await control.callCount('xero.token')) === 1, 'the hung call');

    const second = await refreshThroughApi(id);
    expect(second.statusCode, second.body).toBe(200);
    const refreshed = openCredentials(t.sealer, await row(id))!;

    late.abort();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(after).toMatchObject({
      status: 'connected',
      lastError: null,
      failureCount: 0,
      nextAttemptAt: null,
    });
    expect(openCredentials(t.sealer, after)).toEqual(refreshed);
    expect(await actions(id)).not.toContain('connection.degraded');
  });

  it('does not wipe the credentials when Xero’s retry with the previous token outlives the lease', async () => {
    const id = await connect('xero');
    // One rotation, so the previous refresh token is kept and Xero's grace applies.
    expect((await refreshThroughApi(id)).statusCode).toBe(200);
    await control.resetCalls();
    await control.failNext('xero.token', 400, { body: { error: 'invalid_grant' } });
    await control.hang('xero.token', { times: 1 });
    const late = lateRefresher();
    const first = late.tokens.getAccessToken(id, { force: true });
    // First call: invalid_grant; the second, with the previous refresh token, hangs.
    await until(
      async () => (await control.callCount('xero.token')) === 2,
      'the retry with the previous token',
    );

    const second = await refreshThroughApi(id);
    expect(second.statusCode, second.body).toBe(200);
    const refreshed = openCredentials(t.sealer, await row(id))!;

    late.abort();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(after.status).toBe('connected');
    expect(openCredentials(t.sealer, after)).toEqual(refreshed);
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
    const refreshed = openCredentials(t.sealer, await row(id))!;
    const version = (await row(id)).credentialsVersion;

    late.release();
    expect((await first).accessToken).toBe(refreshed.accessToken);
    const after = await row(id);
    expect(openCredentials(t.sealer, after)).toEqual(refreshed);
    expect(after.credentialsVersion).toBe(version);
  });
});
