import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxClientCredentials, sandboxEndpoints } from '../src/sandbox/index.ts';
import { makeTestDatabase, needsPostgres, type TestDatabase, testPostgresUrl } from './harness/database.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';
import { startSandbox } from './harness/sandbox-connect.ts';
import { connectOverHttp } from './harness/sandbox-process.ts';

const SYNC = 'gmail-messages';

describe.skipIf(!testPostgresUrl)(`two tether processes syncing on one PostgreSQL (${needsPostgres})`, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let a: TetherProcess;
  let b: TetherProcess;
  const apiKey = `tk_${randomBytes(16).toString('hex')}`;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    sandbox = await startSandbox();
    db = await makeTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const env = {
      DATABASE_URL: db.url!,
      TETHER_API_KEY: apiKey,
      TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      TETHER_PROVIDER_TIMEOUT_MS: '5000',
    };
    [a, b] = await Promise.all([spawnTether(env), spawnTether(env)]);
    const { clientId, clientSecret } = sandboxClientCredentials('google');
    const created = await fetch(`${a.url}/v1/integrations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        key: 'gmail',
        provider: 'gmail',
        clientId,
        clientSecret,
        endpoints: sandboxEndpoints(sandbox.server.url).google,
        // The schedule stays out of it: only the runs asked for below.
        syncs: { [SYNC]: { enabled: false } },
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
    connectOverHttp(a.url, apiKey, sandbox.control, { integration: 'gmail', endUserId });

  it('makes one run of one sync for 20 requests spread over both instances, each page fetched once', async () => {
    const accountId = (await sandbox.control.accounts()).google[0]!.sub;
    await sandbox.control.sizeDataset('google', 'messages', { account: accountId, count: 1200, seed: 'two' });
    const id = await connect('multi-sync-1');
    await sandbox.control.resetCalls();
    await sandbox.control.latency('google.gmail.messages.list', 300);

    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetch(`${(i % 2 ? a : b).url}/v1/connections/${id}/syncs/${SYNC}/run`, {
          method: 'POST',
          headers: { authorization: headers.authorization },
        });
        return { status: res.status, body: (await res.json()) as { id: string } };
      }),
    );
    expect(answers.filter((r) => r.status !== 202)).toEqual([]);
    const runIds = new Set(answers.map((r) => r.body.id));
    expect(runIds.size).toBe(1);

    const [runId] = [...runIds];
    let run: { status: string; counts: Record<string, number> } | undefined;
    for (let i = 0; i < 300; i++) {
      run = (await (await fetch(`${a.url}/v1/sync-runs/${runId}`, { headers })).json()) as typeof run;
      if (run!.status !== 'running') break;
      await sleep(100);
    }
    expect(run).toMatchObject({
      status: 'succeeded',
      counts: { imported: 1200, unchanged: 0, deleted: 0, failed: 0 },
    });
    const { rows: runs } = await sql.query('select id from sync_runs where connection_id = $1', [id]);
    expect(runs).toHaveLength(1);
    // One full pass: three list pages, one profile read.
    expect(await sandbox.control.callCount('google.gmail.messages.list')).toBe(3);
    expect(await sandbox.control.callCount('google.gmail.profile')).toBe(1);
    const { rows: live } = await sql.query(
      'select count(*)::int as n from sync_records where connection_id = $1 and deleted_at is null',
      [id],
    );
    expect(live[0].n).toBe(1200);
    await sandbox.control.clearFaults();
  }, 90_000);
});
