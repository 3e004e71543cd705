import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useSandboxTether } from '../../test/harness/sandbox-tether.ts';
import { rotateKeys } from '../crypto/rotate-keys.ts';
import { makeSealer } from '../crypto/seal.ts';
import { connections } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';

const firstKey = Buffer.alloc(32, 1);

// The token cache hears of every committed change to a connection or its integration, whoever
// made it (this process's code, another instance, an operator's UPDATE): the trigger of
// migration 0016 announces it, on PostgreSQL through LISTEN/NOTIFY, on PGlite in-process.

const env = useSandboxTether([{ key: 'xero', provider: 'xero', scopes: ['offline_access'] }], {
  endUserPrefix: 'changes',
  env: { TETHER_TOKEN_CACHE_SIZE: '100', TETHER_ENCRYPTION_KEYS: firstKey.toString('base64') },
});
const { row } = env;
const accessToken = (id: string) =>
  env.t.app.inject({ method: 'GET', url: `/v1/connections/${id}/access-token`, headers: env.t.auth });

/** A connection whose fresh token the cache holds. */
async function cachedConnection(): Promise<string> {
  const id = await env.connect('xero');
  expect((await accessToken(id)).statusCode).toBe(200);
  expect(env.t.connections.cache.get(id)).toBeDefined();
  return id;
}
const settled = () => env.t.connectionChanges!.fence();

describe('the token cache and the change announcements', () => {
  it('serves a cached fresh token from memory, without reading the row again', async () => {
    const id = await cachedConnection();
    const served = (await accessToken(id)).json().accessToken;
    // A change nobody announces (the trigger off for a moment): only a read of the row would see it.
    await env.t.database.withSession(async (session) => {
      await session.query('alter table connections disable trigger connections_announce_change');
      try {
        await session.query('update connections set status = $1 where id = $2', ['disconnected', id]);
      } finally {
        await session.query('alter table connections enable trigger connections_announce_change');
      }
    });
    expect((await row(id)).status).toBe('disconnected');
    const again = await accessToken(id);
    expect(again.statusCode).toBe(200);
    expect(again.json().accessToken).toBe(served);
  });

  it('ignores a change of the refresh lease alone', async () => {
    const id = await cachedConnection();
    await env.t.database.db
      .update(connections)
      .set({ refreshLeaseOwner: 'someone', refreshLeaseUntil: new Date(Date.now() - 1000) })
      .where(eq(connections.id, id));
    await settled();
    expect(env.t.connections.cache.get(id)).toBeDefined();
  });

  it('drops the entry when anyone updates the connection row', async () => {
    const id = await cachedConnection();
    await env.t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() + 60_000) })
      .where(eq(connections.id, id));
    await settled();
    expect(env.t.connections.cache.get(id)).toBeUndefined();
    // The next caller reads the row: inside the margin, so it refreshes.
    await env.control.resetCalls();
    expect((await accessToken(id)).statusCode).toBe(200);
    expect(await env.control.callCount('xero.token#refresh_token')).toBe(1);
  });

  it('drops the entry on a disconnect and answers 409 at once', async () => {
    const id = await cachedConnection();
    const del = await env.t.app.inject({
      method: 'DELETE',
      url: `/v1/connections/${id}`,
      headers: env.t.auth,
    });
    expect(del.statusCode).toBe(200);
    expect(env.t.connections.cache.get(id)).toBeUndefined();
    expect((await accessToken(id)).statusCode).toBe(409);
  });

  it('drops every connection of an integration when the integration changes', async () => {
    const id = await cachedConnection();
    const patched = await env.t.app.inject({
      method: 'PATCH',
      url: '/v1/integrations/xero',
      headers: env.t.auth,
      payload: { scopes: ['offline_access', 'accounting.contacts'] },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await settled();
    expect(env.t.connections.cache.get(id)).toBeUndefined();
  });

  it('drops the entries whose sealed values a key rotation rewrote', async () => {
    const id = await cachedConnection();
    const rotated = makeSealer([Buffer.alloc(32, 2), firstKey]);
    const report = await rotateKeys(env.t.database, rotated, {
      columns: [
        {
          table: 'connections',
          idColumn: 'id',
          column: 'credentials_sealed',
          context: sealContext.connectionCredentials,
        },
      ],
    });
    expect(report.resealed).toBeGreaterThan(0);
    await settled();
    expect(env.t.connections.cache.get(id)).toBeUndefined();
  });
});
