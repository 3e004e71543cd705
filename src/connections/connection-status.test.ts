import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { auditLog, connections, integrations } from '../db/schema.ts';
import { getProvider } from '../providers/index.ts';
import { makeProviderRuntime } from '../providers/runtime.ts';
import { CONNECTION_MOVES, canMove } from './connection-status.ts';
import { openCredentials } from './credentials.ts';
import { disconnect } from './disconnect.ts';
import { markGrantLost } from './grant-lost.ts';
import { writeRefreshed, writeRefreshFailure } from './refresh-writes.ts';

describe('the connection status moves', () => {
  it('allow only the moves of the table', () => {
    expect(canMove('connected', 'degraded')).toBe(true);
    expect(canMove('degraded', 'connected')).toBe(true);
    expect(canMove('degraded', 'reauthorization_required')).toBe(true);
    expect(canMove('reauthorization_required', 'connected')).toBe(true); // the end user reconnects
    expect(canMove('disconnected', 'degraded')).toBe(false);
    expect(canMove('reauthorization_required', 'degraded')).toBe(false);
    expect(canMove('disconnected', 'reauthorization_required')).toBe(false);
    expect(CONNECTION_MOVES.refreshed.from).not.toContain('disconnected');
  });
});

describe('status writes guarded by their from-states', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let user = 0;

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether();
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  const connect = async () =>
    (await connectThroughSandbox(t, sandbox.control, { integration: 'google', endUserId: `st-${++user}` }))
      .connectionId!;
  const deps = () => ({
    db: t.database.db,
    sealer: t.sealer,
    logger: t.logger,
    runtime: makeProviderRuntime({ timeoutMs: 5_000 }),
  });
  const row = async (id: string) =>
    (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;

  it('leave a disconnected connection alone even for a writer that still names itself the lease holder', async () => {
    const id = await connect();
    const live = await row(id);
    const old = openCredentials(t.sealer, live)!;
    await disconnect(deps(), live, 'api');
    await t.database.db
      .update(connections)
      .set({ refreshLeaseOwner: 'stale-holder' })
      .where(eq(connections.id, id));
    const stale = await row(id);
    const [integration] = await t.database.db
      .select()
      .from(integrations)
      .where(eq(integrations.key, 'google'));
    const input = { row: stale, owner: 'stale-holder', provider: getProvider('google'), now: new Date() };

    expect(
      await writeRefreshed(t.database.db, t.sealer, { ...input, old, tokens: { accessToken: 'x' } }),
    ).toBeNull();
    expect(
      await writeRefreshFailure(t.database.db, {
        ...input,
        integration: integration!,
        lastError: { code: 'timeout', message: 'late', at: new Date().toISOString() },
        providerCode: 'timeout',
        nextAttemptAt: new Date(),
        misconfigured: false,
      }),
    ).toBe(false);
    expect(
      await markGrantLost(t.database.db, {
        connectionId: id,
        provider: 'google',
        displayName: 'Google',
        reason: 'invalid_grant',
        message: 'late',
        now: new Date(),
      }),
    ).toBeNull();
    const after = await row(id);
    expect(after.status).toBe('disconnected');
    expect(after.credentialsSealed).toBeNull();
    expect(after.lastError).toBeNull();
  });

  it('records one disconnect when two race', async () => {
    const id = await connect();
    const live = await row(id);
    await Promise.all([disconnect(deps(), live, 'api'), disconnect(deps(), live, 'api')]);
    const entries = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, id), eq(auditLog.action, 'connection.disconnected')));
    expect(entries).toHaveLength(1);
  });
});
