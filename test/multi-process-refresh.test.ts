import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxClientCredentials, sandboxEndpoints } from '../src/sandbox/index.ts';
import { makeTestDatabase, needsPostgres, type TestDatabase, testPostgresUrl } from './harness/database.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';
import { startSandbox } from './harness/sandbox-connect.ts';
import { connectOverHttp } from './harness/sandbox-process.ts';

describe.skipIf(!testPostgresUrl)(`two tether processes on one PostgreSQL (${needsPostgres})`, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let a: TetherProcess;
  let b: TetherProcess;
  const apiKey = `tk_${randomBytes(16).toString('hex')}`;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    db = await makeTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    env = {
      DATABASE_URL: db.url!,
      TETHER_API_KEY: apiKey,
      TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      TETHER_PROVIDER_TIMEOUT_MS: '5000',
      TETHER_REFRESH_LEASE_MS: '6000',
    };
    [a, b] = await Promise.all([spawnTether(env), spawnTether(env)]);
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
    await sql?.end();
    await db?.dispose();
    await sandbox?.close();
  });

  const connect = (endUserId: string) =>
    connectOverHttp(a.url, apiKey, sandbox.control, { integration: 'xero', endUserId });
  const expireSoon = (id: string) =>
    sql.query("update connections set expires_at = now() + interval '1 minute' where id = $1", [id]);
  const tokenFrom = async (instance: TetherProcess, id: string) => {
    const res = await fetch(`${instance.url}/v1/connections/${id}/access-token`, { headers });
    return { status: res.status, body: (await res.json()) as { accessToken?: string } };
  };

  it('makes one token-endpoint call for 100 concurrent callers on each instance, round after round of rotation', async () => {
    const id = await connect('multi-1');
    await sandbox.control.latency('xero.token', 200);
    for (let round = 0; round < 3; round++) {
      await expireSoon(id);
      await sandbox.control.resetCalls();
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => tokenFrom(i % 2 ? a : b, id)));
      expect(answers.filter((r) => r.status !== 200)).toEqual([]);
      expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
      expect(await sandbox.control.callCount('xero.token')).toBe(1);
    }
    const { rows } = await sql.query('select status from connections where id = $1', [id]);
    expect(rows[0].status).toBe('connected');
    await sandbox.control.clearFaults();
  }, 60_000);

  it('lets the other instance refresh after the lease when a refresher is killed mid-refresh, losing no token', async () => {
    const id = await connect('multi-2');
    await expireSoon(id);
    await sandbox.control.latency('xero.token', 2500, { times: 1 });
    const dying = tokenFrom(a, id).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, 700));
    a.child.kill('SIGKILL');
    await dying;
    const { rows: held } = await sql.query('select refresh_lease_owner from connections where id = $1', [id]);
    expect(held[0].refresh_lease_owner).not.toBeNull();
    const started = Date.now();
    const answer = await tokenFrom(b, id);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(Date.now() - started).toBeGreaterThan(1000);
    const { rows } = await sql.query('select status from connections where id = $1', [id]);
    expect(rows[0].status).toBe('connected');
    a = await spawnTether(env);
  }, 60_000);
});
