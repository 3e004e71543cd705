import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { connections } from '../db/schema.ts';
import { findDueConnections } from './keep-alive.ts';

describe('keep-alive sweeps', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether();
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'xero',
      provider: 'xero',
      scopes: ['offline_access'],
    });
    for (const name of ['expiring', 'fresh', 'idle', 'revoked']) {
      ids[name] = (
        await connectThroughSandbox(t, sandbox.control, { integration: 'xero', endUserId: `ka-${name}` })
      ).connectionId!;
    }
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  const set = (id: string, fields: Partial<typeof connections.$inferInsert>) =>
    t.database.db.update(connections).set(fields).where(eq(connections.id, id));

  it('picks connections about to expire and idle refresh tokens about to lapse, nothing else', async () => {
    await set(ids.expiring!, { expiresAt: new Date(Date.now() + 6 * 60_000) });
    await set(ids.idle!, {
      lastRefreshAt: new Date(Date.now() - 55 * 86_400_000),
      expiresAt: new Date(Date.now() + 25 * 60_000),
    });
    await set(ids.revoked!, {
      status: 'reauthorization_required',
      credentialsSealed: null,
      expiresAt: new Date(Date.now() - 1000),
    });
    const due = await findDueConnections(t.database.db, new Date(), 100);
    expect(Object.fromEntries(due.map((d) => [d.id, d.reason]))).toEqual({
      [ids.expiring!]: 'expiring',
      [ids.idle!]: 'idle',
    });
  });

  it('bounds a sweep by its batch size', async () => {
    expect(await findDueConnections(t.database.db, new Date(), 1)).toHaveLength(1);
  });

  it('refreshes the due connections in the background before anyone asks', async () => {
    await sandbox.control.resetCalls();
    const before = await t.database.db.select().from(connections).where(eq(connections.id, ids.expiring!));
    expect(await t.keepAlive.sweep()).toBe(2);
    const deadline = Date.now() + 15_000;
    while ((await sandbox.control.callCount('xero.token#refresh_token')) < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await sandbox.control.callCount('xero.token#refresh_token')).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [after] = await t.database.db.select().from(connections).where(eq(connections.id, ids.expiring!));
    expect(after!.expiresAt!.getTime()).toBeGreaterThan(before[0]!.expiresAt!.getTime());
    expect(await findDueConnections(t.database.db, new Date(), 100)).toEqual([]);
  });
});
