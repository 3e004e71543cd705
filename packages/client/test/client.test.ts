import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../scripts/openapi-document.ts';
import { startEventReceiver } from '../../../test/harness/event-receiver.ts';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../../test/harness/tether.ts';
import { clientTypesFrom } from '../scripts/types-from-document.ts';
import { verifyTetherEvent } from '../src/events.ts';
import { createTetherClient, isTetherError, type TetherClient, TetherError } from '../src/index.ts';

// The typed client (@tether/client) against a real, listening tether. Its types come from the
// OpenAPI document by openapi-typescript; the first test fails when the routes changed and
// `npm run client:generate` was not run.

describe('@tether/client', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let client: TetherClient;
  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether({ listen: true });
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
    client = createTetherClient({ baseUrl: t.url, apiKey: t.auth.authorization.slice('Bearer '.length) });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  it('is generated from the current routes (run `npm run client:generate` after changing a route)', async () => {
    const document = await openApiDocument();
    const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(JSON.parse(committed), 'packages/client/openapi.json is stale').toEqual(document);
    const types = readFileSync(new URL('../src/api.d.ts', import.meta.url), 'utf8');
    expect(types === (await clientTypesFrom(document)), 'packages/client/src/api.d.ts is stale').toBe(true);
  }, 120_000);

  it('reads and changes integrations', async () => {
    const created = await client.integrations.create({
      key: 'slack-client',
      provider: 'slack',
      clientId: 'c',
      clientSecret: 's',
    } as never);
    expect(created).toMatchObject({ key: 'slack-client', provider: 'slack' });
    expect((await client.integrations.get('slack-client')).key).toBe('slack-client');
    const keys: string[] = [];
    for await (const integration of client.integrations.list({ limit: 1 })) keys.push(integration.key);
    expect(keys).toEqual(expect.arrayContaining(['google', 'slack-client']));
    await client.integrations.remove('slack-client');
    await expect(client.integrations.get('slack-client')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('throws a TetherError with a typed code, status and message', async () => {
    const error = await client.connections.get('conn_missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TetherError);
    expect(isTetherError(error, 'not_found')).toBe(true);
    expect((error as TetherError).status).toBe(404);
    const bad = createTetherClient({ baseUrl: t.url, apiKey: 'tk_wrong_key_wrong_key' });
    await expect(bad.connections.summary()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('connects, reads connections across pages, hands out tokens, refreshes and disconnects', async () => {
    const ids: string[] = [];
    for (const endUserId of ['client-a', 'client-b', 'client-c']) {
      const result = await connectThroughSandbox(t, sandbox.control, { integration: 'google', endUserId });
      ids.push(result.connectionId!);
    }
    const seen: string[] = [];
    for await (const connection of client.connections.list({ integration: 'google', limit: 2 }))
      seen.push(connection.id);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
    const token = await client.connections.accessToken(ids[0]!);
    expect(token.accessToken).toEqual(expect.any(String));
    expect((await client.connections.refresh(ids[0]!)).status).toBe('connected');
    expect((await client.connections.summary()).byStatus.connected).toBeGreaterThanOrEqual(3);
    await client.connections.disconnect(ids[2]!);
    expect((await client.connections.get(ids[2]!)).status).toBe('disconnected');
    await expect(client.connections.accessToken(ids[2]!)).rejects.toMatchObject({ status: 409 });
  });

  it("reads a connection's syncs and sync runs", async () => {
    const { connectionId } = await connectThroughSandbox(t, sandbox.control, {
      integration: 'google',
      endUserId: 'client-syncs',
    });
    const syncs = await client.syncs.list(connectionId!);
    expect(Array.isArray(syncs)).toBe(true);
    for (const sync of syncs)
      expect(sync).toMatchObject({ name: expect.any(String), models: expect.any(Array) });
    await expect(client.syncs.run(connectionId!, 'no-such-sync')).rejects.toMatchObject({
      status: 404,
      code: 'unknown_sync',
    });
    const runs = [];
    for await (const run of client.syncRuns.list({ connectionId: connectionId! })) runs.push(run);
    expect(runs).toEqual([]);
    await expect(client.syncRuns.get('run_missing')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('creates a connect session and reads its outcome', async () => {
    const session = await client.connectSessions.create({
      integration: 'google',
      endUserId: 'client-session',
    });
    expect(session.url).toContain('/connect/');
    expect((await client.connectSessions.get(session.id)).status).toBe('pending');
  });

  it('pages the audit log and the inbox with for await', async () => {
    let entries = 0;
    for await (const entry of client.audit({ limit: 2 })) {
      expect(entry.action).toEqual(expect.any(String));
      if (++entries >= 5) break;
    }
    expect(entries).toBe(5);
    const events = [];
    for await (const event of client.events.list({ limit: 10 })) events.push(event);
    expect(events).toEqual([]);
  });

  it('subscribes to events, and verifies a delivery with verifyTetherEvent', async () => {
    const receiver = await startEventReceiver();
    try {
      const subscription = await client.eventSubscriptions.create({
        url: receiver.url,
        events: ['connection.created'],
      });
      expect(subscription.secret).toMatch(/^whsec_/);
      await connectThroughSandbox(t, sandbox.control, { integration: 'google', endUserId: 'client-events' });
      const [delivery] = await receiver.waitFor(1, 20_000);
      const event = verifyTetherEvent<{ connectionId: string }>(
        delivery!.body,
        delivery!.headers as never,
        subscription.secret,
      );
      expect(event.type).toBe('connection.created');
      expect(event.webhookId).toBe(delivery!.headers['webhook-id']);
      expect(() =>
        verifyTetherEvent(
          delivery!.body,
          delivery!.headers as never,
          `whsec_${Buffer.alloc(24).toString('base64')}`,
        ),
      ).toThrow();
      await expect
        .poll(async () => {
          const all = [];
          for await (const d of client.eventSubscriptions.deliveries(subscription.id)) all.push(d);
          return all.map((d) => d.status);
        })
        .toEqual(['succeeded']);
      const rotated = await client.eventSubscriptions.rotateSecret(subscription.id);
      expect(rotated.secret).not.toBe(subscription.secret);
      await client.eventSubscriptions.remove(subscription.id);
      await expect(client.eventSubscriptions.get(subscription.id)).rejects.toMatchObject({
        code: 'not_found',
      });
    } finally {
      await receiver.close();
    }
  });

  it('reaches every route through the typed `api`, e.g. the records of a model', async () => {
    const { data, response } = await client.api.GET('/v1/connections/{id}/records/{model}', {
      params: { path: { id: 'conn_missing', model: 'messages' } },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(404);
  });
});
