import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, needsPostgres, type TestDatabase, testPostgresUrl } from './harness/database.ts';
import { type EventReceiver, startEventReceiver } from './harness/event-receiver.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';

const SECRET = 'whsec_multi_process_events';

/** A signed Stripe payment_intent.succeeded: its payment.updated event is what gets delivered. */
function signedStripe(id: string) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: 1_700_000_000,
    data: {
      object: { id: `pi_${id}`, object: 'payment_intent', amount: 500, currency: 'eur', status: 'succeeded' },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  return {
    body,
    signature: `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`,
  };
}

describe.skipIf(!testPostgresUrl)(`events to the host app across tether processes (${needsPostgres})`, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let a: TetherProcess;
  let b: TetherProcess;
  let env: Record<string, string>;
  const apiKey = `tk_${randomBytes(16).toString('hex')}`;
  const receivers: EventReceiver[] = [];

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
    const created = await call(a, 'POST', '/v1/integrations', {
      key: 'stripe',
      provider: 'stripe',
      webhookSecrets: [SECRET],
    });
    expect(created.status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const r of receivers) await r.close();
    await sql?.end();
    await db?.dispose();
  });

  function call(instance: TetherProcess, method: string, path: string, body?: object) {
    return fetch(`${instance.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function subscribe(instance: TetherProcess, url: string) {
    const res = await call(instance, 'POST', '/v1/event-subscriptions', { url, events: ['payment.updated'] });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string };
  }

  const deliver = (instance: TetherProcess, id: string) => {
    const event = signedStripe(id);
    return fetch(`${instance.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
      body: event.body,
    });
  };

  it('delivers each event once per subscription when two processes share the work', async () => {
    const one = await startEventReceiver();
    const two = await startEventReceiver();
    receivers.push(one, two);
    const subs = [await subscribe(a, one.url), await subscribe(b, two.url)];
    const count = 60;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => deliver(i % 2 ? a : b, `evt_mp_${i}`)),
    );
    expect(answers.every((res) => res.status === 200)).toBe(true);
    await Promise.all([one.waitFor(count, 60_000), two.waitFor(count, 60_000)]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const r of [one, two]) {
      const ids = r.received.map((got) => String(got.headers['webhook-id']));
      expect(ids).toHaveLength(count);
      expect(new Set(ids).size).toBe(count);
    }
    const { rows } = await sql.query(
      "select count(*)::int as n from event_deliveries where status = 'succeeded' and attempts = 1",
    );
    expect(rows[0].n).toBe(2 * count);
    for (const sub of subs)
      expect((await call(a, 'DELETE', `/v1/event-subscriptions/${sub.id}`)).status).toBe(204);
  }, 120_000);

  it('delivers after a restart an event whose process was SIGKILLed before the attempt was answered', async () => {
    const r = await startEventReceiver();
    receivers.push(r);
    let first = true;
    let attemptArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      attemptArrived = resolve;
    });
    r.respond = (_request, response) => {
      if (first) {
        first = false;
        attemptArrived();
        return 'hang';
      }
      response.statusCode = 204;
      response.end();
    };
    const sub = await subscribe(a, r.url);
    await b.stop(); // only `a` may take the job
    expect((await deliver(a, 'evt_killed')).status).toBe(200);
    await arrived;
    a.child.kill('SIGKILL');
    a = await spawnTether(env);
    // The dead process's claim lapses (its 15 s timeout and a 30 s margin); the new process's
    // start-up sweep queued the attempt for then.
    await r.waitFor(2, 90_000);
    const [firstTry, secondTry] = r.received;
    expect(secondTry!.headers['webhook-id']).toBe(firstTry!.headers['webhook-id']);
    // The same attempt, made again (it was never answered), then recorded once.
    const deadline = Date.now() + 10_000;
    let rows: { status: string; attempts: number }[] = [];
    while (Date.now() < deadline) {
      ({ rows } = await sql.query(
        'select status, attempts from event_deliveries where subscription_id = $1',
        [sub.id],
      ));
      if (rows[0]?.status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows).toEqual([{ status: 'succeeded', attempts: 1 }]);
    expect(r.received).toHaveLength(2);
    b = await spawnTether(env);
  }, 150_000);
});
