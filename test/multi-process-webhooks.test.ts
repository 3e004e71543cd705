import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, needsPostgres, type TestDatabase, testPostgresUrl } from './harness/database.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';

const SECRET = 'whsec_multi_process';

function signedStripe(id: string, objectId = `pi_${id}`) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: 1_700_000_000,
    data: {
      object: { id: objectId, object: 'payment_intent', amount: 500, currency: 'eur', status: 'succeeded' },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  return {
    body,
    signature: `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`,
  };
}

describe.skipIf(!testPostgresUrl)(
  `webhooks across tether processes on one PostgreSQL (${needsPostgres})`,
  () => {
    let db: TestDatabase;
    let sql: pg.Client;
    let a: TetherProcess;
    let b: TetherProcess;
    let env: Record<string, string>;
    const apiKey = `tk_${randomBytes(16).toString('hex')}`;

    beforeAll(async () => {
      db = await makeTestDatabase();
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      env = {
        DATABASE_URL: db.url!,
        TETHER_API_KEY: apiKey,
        TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      };
      [a, b] = await Promise.all([spawnTether(env), spawnTether(env)]);
      const created = await fetch(`${a.url}/v1/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'stripe', provider: 'stripe', webhookSecrets: [SECRET] }),
      });
      expect(created.status).toBe(201);
    }, 90_000);
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await sql?.end();
      await db?.dispose();
    });

    const deliver = (instance: TetherProcess, event: { body: string; signature: string }) =>
      fetch(`${instance.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
        body: event.body,
      });

    async function waitProcessed(eventId: string, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await sql.query('select status, attempts from webhook_events where event_id = $1', [
          eventId,
        ]);
        if (rows[0]?.status === 'processed') return rows[0] as { status: string; attempts: number };
        if (Date.now() > deadline) {
          const jobs = await sql.query(
            "select state, heartbeat_on, heartbeat_seconds, retry_count, start_after, started_on from pgboss.job where name = 'webhooks.process' and state <> 'completed'",
          );
          throw new Error(`event ${eventId} is ${rows[0]?.status}; jobs: ${JSON.stringify(jobs.rows)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    it('stores one row and applies one effect for 50 concurrent deliveries split over two instances', async () => {
      const event = signedStripe('evt_split_50');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          deliver(i % 2 ? a : b, event).then(async (res) => ({
            status: res.status,
            body: (await res.json()) as { duplicate: boolean },
          })),
        ),
      );
      expect(answers.every((r) => r.status === 200)).toBe(true);
      expect(answers.filter((r) => !r.body.duplicate)).toHaveLength(1);
      await waitProcessed('evt_split_50');
      const { rows } = await sql.query(
        "select count(*)::int as n from webhook_events where event_id = 'evt_split_50'",
      );
      expect(rows[0].n).toBe(1);
      const payments = await sql.query(
        "select status from payments where provider_object_id = 'pi_evt_split_50'",
      );
      expect(payments.rows).toEqual([{ status: 'succeeded' }]);
    }, 60_000);

    it('processes an event once after the worker holding it is killed mid-processing', async () => {
      // Hold the payment row's lock so the worker stops inside its processing transaction.
      await sql.query(
        "insert into payments (id, provider, integration_key, provider_object_id, status, status_rank) values ('stripe:pi_killed', 'stripe', 'stripe', 'pi_killed', 'processing', 1)",
      );
      await sql.query('begin');
      await sql.query("select * from payments where provider_object_id = 'pi_killed' for update");
      await b.stop(); // only `a` may pick the job
      const res = await deliver(a, signedStripe('evt_killed', 'pi_killed'));
      expect(res.status).toBe(200);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await sql.query("select status from webhook_events where event_id = 'evt_killed'");
        if (rows[0]?.status === 'processing') break;
        if (Date.now() > deadline) throw new Error('the worker never started processing');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      a.child.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await sql.query('commit');
      a = await spawnTether(env);
      // pg-boss fails the dead worker's job once its heartbeat lapses (supervision runs every 10 s).
      const row = await waitProcessed('evt_killed', 150_000);
      expect(row.attempts).toBe(2);
      const payments = await sql.query("select status from payments where provider_object_id = 'pi_killed'");
      expect(payments.rows).toEqual([{ status: 'succeeded' }]);
      b = await spawnTether(env);
    }, 120_000);
  },
);
