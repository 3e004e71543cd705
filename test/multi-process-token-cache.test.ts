import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { LISTENER_APPLICATION_NAME } from '../src/connections/connection-changes.ts';
import { type Database, openDatabase } from '../src/db/client.ts';
import { makeLogger } from '../src/logger.ts';
import { startTether, type Tether } from '../src/runtime.ts';
import { sandboxClientCredentials, sandboxEndpoints } from '../src/sandbox/index.ts';
import { makeTestDatabase, needsPostgres, type TestDatabase, testPostgresUrl } from './harness/database.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';
import { startSandbox } from './harness/sandbox-connect.ts';
import { connectOverHttp } from './harness/sandbox-process.ts';
import { LogCapture } from './harness/tether.ts';

// Two instances on one PostgreSQL, each with its token cache: `a` a `tether serve` in a child
// process, `b` in this process (so a test can mute its listener). What one instance changes, the
// other answers at once while announcements flow, and within the staleness bound when they do not.
const STALENESS_MS = 4_000;

describe.skipIf(!testPostgresUrl)(`the token cache across two processes (${needsPostgres})`, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let a: TetherProcess;
  let b: Tether;
  let bDatabase: Database;
  const bLogs = new LogCapture();
  const apiKey = `tk_${randomBytes(16).toString('hex')}`;
  const auth = { authorization: `Bearer ${apiKey}` };
  const headers = { ...auth, 'content-type': 'application/json' };
  const handedOut = new Set<string>();

  beforeAll(async () => {
    sandbox = await startSandbox();
    db = await makeTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const env = {
      DATABASE_URL: db.url!,
      TETHER_API_KEY: apiKey,
      TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      TETHER_TOKEN_CACHE_SIZE: '1000',
      TETHER_TOKEN_CACHE_MAX_STALENESS_MS: String(STALENESS_MS),
    };
    a = await spawnTether({ ...env, TETHER_LOG_LEVEL: 'info' });
    bDatabase = await openDatabase({ url: db.url! });
    const config = loadConfig({ ...env, TETHER_SANDBOX: '0', PORT: '0', TETHER_LOG_LEVEL: 'info' });
    b = await startTether(config, {
      database: bDatabase,
      logger: makeLogger({ level: 'info', destination: bLogs }),
      listen: false,
      jobPollingIntervalSeconds: 0.5,
    });
    const { clientId, clientSecret } = sandboxClientCredentials('xero');
    const created = await fetch(`${a.url}/v1/integrations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        key: 'xero',
        provider: 'xero',
        clientId,
        clientSecret,
        scopes: ['offline_access'],
        endpoints: sandboxEndpoints(sandbox.server.url).xero,
      }),
    });
    expect(created.status, await created.text()).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await bDatabase?.close();
    await sql?.end();
    await db?.dispose();
    await sandbox?.close();
  });

  let user = 0;
  const connect = () =>
    connectOverHttp(a.url, apiKey, sandbox.control, { integration: 'xero', endUserId: `cache-${++user}` });

  async function tokenFromB(id: string): Promise<{ status: number; accessToken?: string }> {
    const res = await b.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}/access-token`,
      headers: auth,
    });
    const accessToken = res.statusCode === 200 ? (res.json().accessToken as string) : undefined;
    if (accessToken) handedOut.add(accessToken);
    return { status: res.statusCode, accessToken };
  }
  async function tokenFromA(id: string): Promise<string> {
    const res = await fetch(`${a.url}/v1/connections/${id}/access-token`, { headers });
    expect(res.status).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };
    handedOut.add(accessToken);
    return accessToken;
  }
  /** A connection whose token b holds in its cache. */
  async function cachedOnB(): Promise<{ id: string; token: string }> {
    const id = await connect();
    // The connect's own announcement may still be on its way to b: once it has arrived, b's entry
    // stays until the next change (an announcement arriving late only costs a read again).
    await b.connectionChanges!.fence();
    const first = await tokenFromB(id);
    expect(first.status).toBe(200);
    expect(b.connections.cache.get(id)).toBeDefined();
    return { id, token: first.accessToken! };
  }
  const disconnectOnA = async (id: string) =>
    expect((await fetch(`${a.url}/v1/connections/${id}`, { method: 'DELETE', headers: auth })).status).toBe(
      200,
    );
  /** How long b takes to stop answering `from` (polling every 10 ms, up to `withinMs`). */
  async function msUntilB(id: string, done: (answer: { status: number; accessToken?: string }) => boolean) {
    const started = performance.now();
    while (!done(await tokenFromB(id))) {
      if (performance.now() - started > 2 * STALENESS_MS) throw new Error('b never changed its answer');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return performance.now() - started;
  }

  it('answers 409 on one instance at once when the other disconnects the connection', async () => {
    const { id } = await cachedOnB();
    await disconnectOnA(id);
    const ms = await msUntilB(id, (answer) => answer.status === 409);
    expect(ms).toBeLessThan(250);
  });

  it('hands out the new token on one instance after a refresh on the other', async () => {
    const { id, token } = await cachedOnB();
    const refreshed = await fetch(`${a.url}/v1/connections/${id}/refresh`, { method: 'POST', headers: auth });
    expect(refreshed.status).toBe(200);
    const fresh = await tokenFromA(id);
    expect(fresh).not.toBe(token);
    const ms = await msUntilB(id, (answer) => answer.accessToken === fresh);
    expect(ms).toBeLessThan(250);
  });

  it('with the announcements lost, answers 409 within the staleness bound', async () => {
    const { id, token } = await cachedOnB();
    const cachedAt = performance.now();
    const unmute = await b.connectionChanges!.muteForTest();
    let sinceCached: number;
    try {
      await disconnectOnA(id);
      // Nothing told b: it still serves what it holds…
      expect(await tokenFromB(id)).toEqual({ status: 200, accessToken: token });
      // …until the entry is older than the bound.
      await msUntilB(id, (answer) => answer.status === 409);
      sinceCached = performance.now() - cachedAt;
    } finally {
      await unmute();
    }
    expect(sinceCached).toBeGreaterThan(STALENESS_MS - 100);
    expect(sinceCached).toBeLessThan(STALENESS_MS + 1_000);
  }, 20_000);

  it('flushes the cache the moment its listener connection drops, then listens again', async () => {
    const { id, token } = await cachedOnB();
    const cachedAt = performance.now();
    // The announcement of the disconnect is lost (the listener muted)…
    await b.connectionChanges!.muteForTest();
    await disconnectOnA(id);
    expect(await tokenFromB(id)).toEqual({ status: 200, accessToken: token });
    // …then the listener's connection drops, and cannot come back for now.
    const name = new URL(db.url!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: testPostgresUrl }); // not on the database it closes
    await admin.connect();
    await admin.query(`alter database ${name} allow_connections false`);
    try {
      const { rows } = await sql.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
        [LISTENER_APPLICATION_NAME],
      );
      expect(rows.length).toBeGreaterThanOrEqual(2); // a's and b's
      await msUntilB(id, (answer) => answer.status === 409);
      expect(performance.now() - cachedAt).toBeLessThan(STALENESS_MS / 2);
      expect(b.connectionChanges!.listening).toBe(false);
    } finally {
      await admin.query(`alter database ${name} allow_connections true`);
      await admin.end();
    }

    // Listening again: b caches and hears of a's changes as before.
    const started = performance.now();
    while (!b.connectionChanges!.listening) {
      if (performance.now() - started > 15_000) throw new Error('b did not listen again');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const again = await cachedOnB();
    await disconnectOnA(again.id);
    expect(await msUntilB(again.id, (answer) => answer.status === 409)).toBeLessThan(250);
  }, 40_000);

  it('never writes a token it handed out in either instance’s log', () => {
    expect(handedOut.size).toBeGreaterThan(3);
    const logs = `${a.output()}\n${bLogs.text()}`;
    expect(logs).toContain('connection change listener lost'); // the logs are really captured
    for (const token of handedOut) expect(logs).not.toContain(token);
  });
});
