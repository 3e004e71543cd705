import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventReceiver, startEventReceiver } from '../../test/harness/event-receiver.ts';
import { useSandboxTether } from '../../test/harness/sandbox-tether.ts';
import { openCredentials } from '../connections/credentials.ts';
import { connections } from '../db/schema.ts';

// The connection state machine's moves each announce themselves, from the transaction that makes
// them, through the real flows (connect, refresh, a lost grant, disconnect).

const env = useSandboxTether(
  [{ key: 'xero', provider: 'xero', scopes: ['offline_access', 'accounting.transactions'] }],
  {
    endUserPrefix: 'ev',
  },
);
const refresh = (id: string) =>
  env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });
const set = (id: string, fields: Partial<typeof connections.$inferInsert>) =>
  env.t.database.db.update(connections).set(fields).where(eq(connections.id, id));

describe('connection events', () => {
  let receiver: EventReceiver;
  beforeAll(async () => {
    receiver = await startEventReceiver();
    const res = await env.t.app.inject({
      method: 'POST',
      url: '/v1/event-subscriptions',
      headers: env.t.auth,
      payload: {
        url: receiver.url,
        events: [
          'connection.created',
          'connection.degraded',
          'connection.recovered',
          'connection.reauthorization_required',
          'connection.disconnected',
        ],
      },
    });
    expect(res.statusCode).toBe(201);
  });
  afterAll(() => receiver?.close());

  const types = () =>
    receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });

  it('announces created, degraded, recovered, reauthorization_required and disconnected as they happen', async () => {
    const id = await connect();
    await receiver.waitFor(1);
    expect(types()[0]).toMatchObject({
      type: 'connection.created',
      data: { connectionId: id, status: 'connected', integration: 'xero' },
    });

    await env.control.failNext('xero.token', 503, { times: 10 });
    expect((await refresh(id)).statusCode).toBe(503);
    await env.control.clearFaults();
    await receiver.waitFor(2);
    expect(types()[1]).toMatchObject({
      type: 'connection.degraded',
      data: { connectionId: id, status: 'degraded' },
    });

    await set(id, { nextAttemptAt: null });
    expect((await refresh(id)).statusCode).toBe(200);
    await receiver.waitFor(3);
    expect(types()[2]).toMatchObject({
      type: 'connection.recovered',
      data: { connectionId: id, status: 'connected' },
    });

    const credentials = openCredentials(env.t.sealer, await env.row(id));
    await env.control.revoke({ refreshToken: credentials!.refreshToken! });
    expect((await refresh(id)).statusCode).toBe(409);
    await receiver.waitFor(4);
    expect(types()[3]).toMatchObject({
      type: 'connection.reauthorization_required',
      data: { connectionId: id, status: 'reauthorization_required' },
    });

    const other = await connect();
    await receiver.waitFor(5);
    const gone = await env.t.app.inject({
      method: 'DELETE',
      url: `/v1/connections/${other}`,
      headers: env.t.auth,
    });
    expect(gone.statusCode).toBeLessThan(300);
    await receiver.waitFor(6);
    expect(types()[5]).toMatchObject({
      type: 'connection.disconnected',
      data: { connectionId: other, status: 'disconnected' },
    });
    // One event per move, nothing for the refreshes that moved nothing.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(types().map((e) => e.type)).toEqual([
      'connection.created',
      'connection.degraded',
      'connection.recovered',
      'connection.reauthorization_required',
      'connection.created',
      'connection.disconnected',
    ]);
  });

  const connect = () => env.connect('xero');
});
