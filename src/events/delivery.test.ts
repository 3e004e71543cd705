import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventReceiver, startEventReceiver } from '../../test/harness/event-receiver.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { rowsOf } from '../db/client.ts';
import { stripeSignatureHeader } from '../sandbox/webhooks/stripe.ts';
import { makeStripeEvent } from '../sandbox/webhooks/stripe-events.ts';
import { emitEvent, emitEvents } from './emit.ts';

const STRIPE_SECRET = 'whsec_delivery_test';
const FAST_SCHEDULE = [0, 150, 150, 150, 150, 150, 150, 150];
const DAY = 24 * 3_600_000;
const BREAKER = { threshold: 12, openMs: 1_000, maxOpenMs: 1_000 };

describe('event delivery to the host app', () => {
  let tether: TestTether;
  let offsetMs = 0;
  const receivers: EventReceiver[] = [];

  beforeAll(async () => {
    tether = await startTestTether({
      start: {
        now: () => new Date(Date.now() + offsetMs),
        events: {
          schedule: FAST_SCHEDULE,
          timeoutMs: 4_000,
          concurrency: 4,
          batchSize: 8,
          perSubscriptionConcurrency: 2,
          breaker: BREAKER,
        },
      },
    });
  });
  afterAll(async () => {
    if (process.env.DEBUG_LOGS)
      console.log(
        tether.logs.lines
          .filter((l) => /"level":(40|50)/.test(l))
          .slice(0, 8)
          .join('\n'),
      );
    await tether?.close();
  });
  afterEach(async () => {
    offsetMs = 0;
    const list = await api('GET', '/v1/event-subscriptions?limit=500');
    for (const sub of list.json().items as { id: string }[])
      await api('DELETE', `/v1/event-subscriptions/${sub.id}`);
    while (receivers.length) await receivers.pop()!.close();
  });

  function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
    return tether.app.inject({ method, url, headers: tether.auth, ...(payload ? { payload } : {}) });
  }

  async function receiver() {
    const r = await startEventReceiver();
    receivers.push(r);
    return r;
  }

  async function subscribe(url: string, events: string[] = ['*']) {
    const created = await api('POST', '/v1/event-subscriptions', { url, events });
    expect(created.statusCode).toBe(201);
    return created.json() as { id: string; secret: string; enabled: boolean };
  }

  const emit = (data: Record<string, unknown> = {}) =>
    tether.database.db.transaction((tx) => emitEvent(tx, { type: 'sync.completed', data }));

  async function until<T>(
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`gave up waiting: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const headersOf = (r: { headers: Record<string, unknown> }) => ({
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

  it('signs deliveries so the standardwebhooks package verifies them, during a secret rotation too', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url);
    expect(sub.secret).toMatch(/^whsec_/);
    const eventId = await emit({ n: 1 });
    const [first] = await r.waitFor(1);
    const payload = new Webhook(sub.secret).verify(first!.body, headersOf(first!)) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: eventId, type: 'sync.completed', data: { n: 1 } });
    expect(first!.headers['webhook-id']).toBe(eventId);

    const rotated = await api('POST', `/v1/event-subscriptions/${sub.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const newSecret = rotated.json().secret as string;
    expect(newSecret).not.toBe(sub.secret);
    await emit({ n: 2 });
    const [, second] = await r.waitFor(2);
    expect(String(second!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // Both the consumer still on the old secret and the one already on the new one accept it.
    expect(new Webhook(newSecret).verify(second!.body, headersOf(second!))).toMatchObject({ data: { n: 2 } });
    expect(new Webhook(sub.secret).verify(second!.body, headersOf(second!))).toMatchObject({
      data: { n: 2 },
    });

    offsetMs = 25 * 3_600_000; // the 24 hours of overlap are over
    await emit({ n: 3 });
    const [, , third] = await r.waitFor(3);
    expect(new Webhook(newSecret).verify(third!.body, headersOf(third!))).toMatchObject({ data: { n: 3 } });
    expect(() => new Webhook(sub.secret).verify(third!.body, headersOf(third!))).toThrow();
    // A forged body fails against either secret.
    expect(() => new Webhook(newSecret).verify(third!.body.replace('3', '4'), headersOf(third!))).toThrow();

    const listed = await api('GET', '/v1/event-subscriptions');
    expect(listed.body).not.toContain(sub.secret);
    expect(listed.body).not.toContain(newSecret);
    const [stored] = rowsOf<{ secrets_sealed: string }>(
      await tether.database.db.execute(
        sql`select secrets_sealed from event_subscriptions where id = ${sub.id}`,
      ),
    );
    expect(stored!.secrets_sealed).not.toContain(newSecret.slice(6, 20));
  });

  it('sends each attempt of a failing endpoint with the same webhook-id, once per attempt, until it succeeds', async () => {
    const r = await receiver();
    r.respond = (_request, response, index) => {
      response.statusCode = index < 3 ? 500 : 200;
      response.end(index < 3 ? 'not yet' : 'ok');
    };
    const sub = await subscribe(r.url);
    const eventId = await emit();
    const got = await r.waitFor(4);
    expect(got.map((g) => g.headers['webhook-id'])).toEqual([eventId, eventId, eventId, eventId]);
    await sleep(800);
    expect(r.received).toHaveLength(4);
    const deliveries = await api('GET', `/v1/event-subscriptions/${sub.id}/deliveries`);
    expect(deliveries.statusCode).toBe(200);
    const [delivery] = deliveries.json().items;
    expect(delivery).toMatchObject({
      eventId,
      eventType: 'sync.completed',
      status: 'succeeded',
      attempts: 4,
      lastResponseStatus: 200,
      lastResponseBody: 'ok',
      nextAttemptAt: null,
    });
    expect(delivery.lastLatencyMs).toBeGreaterThanOrEqual(0);
    const filtered = await api('GET', `/v1/event-subscriptions/${sub.id}/deliveries?status=failed`);
    expect(filtered.json().items).toEqual([]);
    expect((await api('GET', `/v1/event-subscriptions/${sub.id}/deliveries?cursor=nope`)).statusCode).toBe(
      400,
    );
  });

  it('keeps the answer of an endpoint whose body holds NUL bytes, and sends it once', async () => {
    // PostgreSQL text cannot hold U+0000: storing the body as it came would fail the attempt's
    // record, and the delivery would be sent again and again.
    const r = await receiver();
    r.respond = (_request, response, index) => {
      response.statusCode = index === 0 ? 500 : 200;
      response.end(Buffer.from([0x6f, 0x00, 0x6b, 0xff]));
    };
    const sub = await subscribe(r.url);
    await emit();
    await r.waitFor(2);
    const delivery = await until(
      async () => (await api('GET', `/v1/event-subscriptions/${sub.id}/deliveries`)).json().items[0],
      (d) => d?.status === 'succeeded',
    );
    expect(delivery).toMatchObject({
      attempts: 2,
      lastResponseStatus: 200,
      lastResponseBody: 'o\uFFFDk\uFFFD',
    });
    await sleep(800);
    expect(r.received).toHaveLength(2);
  });

  it('shows no next attempt while an attempt is in flight', async () => {
    // The claim keeps next_attempt_at (a HOT update); the view must not offer that past time.
    const r = await receiver();
    r.respond = () => 'hang';
    const sub = await subscribe(r.url);
    await emit();
    await r.waitFor(1);
    const [delivery] = (await api('GET', `/v1/event-subscriptions/${sub.id}/deliveries`)).json().items;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: null });
  });

  it('gives up after the last attempt, then sends again on a manual retry and on recover', async () => {
    const r = await receiver();
    let healthy = false;
    r.respond = (_request, response) => {
      response.statusCode = healthy ? 204 : 503;
      response.end('x'.repeat(5000));
    };
    const sub = await subscribe(r.url);
    const failedOnes = () => api('GET', `/v1/event-subscriptions/${sub.id}/deliveries?status=failed`);
    const since = new Date(Date.now() - 1000).toISOString();
    await emit({ n: 1 });
    const failed = await until(failedOnes, (res) => res.json().items.length === 1);
    const [one] = failed.json().items;
    expect(one).toMatchObject({ status: 'failed', attempts: FAST_SCHEDULE.length, lastResponseStatus: 503 });
    expect(one.lastResponseBody).toHaveLength(1024);
    expect(r.received).toHaveLength(FAST_SCHEDULE.length);

    healthy = true;
    const retried = await api('POST', `/v1/event-deliveries/${one.id}/retry`);
    expect(retried.statusCode).toBe(202);
    await r.waitFor(FAST_SCHEDULE.length + 1);
    await until(failedOnes, (res) => res.json().items.length === 0);

    healthy = false;
    await emit({ n: 2 });
    await until(failedOnes, (res) => res.json().items.length === 1);
    healthy = true;
    const recovered = await api('POST', `/v1/event-subscriptions/${sub.id}/recover`, { since });
    expect(recovered.statusCode).toBe(202);
    expect(recovered.json()).toEqual({ recovered: 1 });
    await r.waitFor(2 * FAST_SCHEDULE.length + 2);
    await until(
      () => api('GET', `/v1/event-subscriptions/${sub.id}/deliveries?status=succeeded`),
      (res) => res.json().items.length === 2,
    );
    expect((await api('POST', '/v1/event-deliveries/evd_missing/retry')).statusCode).toBe(404);
  });

  it("opens a dead endpoint's circuit breaker: its deliveries wait without spending attempts, then one probe lets them through", async () => {
    const r = await receiver();
    let healthy = false;
    r.respond = (_request, response) => {
      response.statusCode = healthy ? 204 : 500;
      response.end();
    };
    const sub = await subscribe(r.url);
    for (let i = 0; i < 30; i++) await emit({ i });
    await r.waitFor(BREAKER.threshold);
    await sleep(400);
    // Open: the 30 deliveries (each with attempts left) stopped after the threshold's failures.
    const whileOpen = r.received.length;
    expect(whileOpen).toBeLessThanOrEqual(BREAKER.threshold + 2);
    healthy = true;
    await until(
      () => api('GET', `/v1/event-subscriptions/${sub.id}/deliveries?status=succeeded&limit=100`),
      (res) => res.json().items.length === 30,
      15_000,
    );
    const attempts = rowsOf<{ n: number }>(
      await tether.database.db.execute(
        sql`select sum(attempts)::int as n from event_deliveries where subscription_id = ${sub.id}`,
      ),
    )[0]!.n;
    // 30 successes plus the failures before the breaker opened (and at most one failed probe).
    expect(attempts).toBeLessThanOrEqual(30 + BREAKER.threshold + 3);
    expect(r.received.length).toBe(attempts);
  });

  it('disables a subscription at once on 410 Gone', async () => {
    const r = await receiver();
    r.respond = (_request, response) => {
      response.statusCode = 410;
      response.end();
    };
    const sub = await subscribe(r.url);
    await emit();
    await r.waitFor(1);
    const disabled = await until(
      () => api('GET', `/v1/event-subscriptions/${sub.id}`),
      (res) => res.json().enabled === false,
    );
    expect(disabled.json().disabledReason).toBe('gone');
    await emit();
    await sleep(600);
    expect(r.received).toHaveLength(1);
    const retry = await api('POST', `/v1/event-subscriptions/${sub.id}/recover`, {
      since: new Date(0).toISOString(),
    });
    expect(retry.statusCode).toBe(409);
    expect(retry.json().error.code).toBe('subscription_disabled');

    const enabled = await api('PATCH', `/v1/event-subscriptions/${sub.id}`, { enabled: true });
    expect(enabled.json()).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('disables a subscription failing without a success for 5 days, with an audit entry', async () => {
    const r = await receiver();
    r.respond = (_request, response) => {
      response.statusCode = 500;
      response.end();
    };
    const sub = await subscribe(r.url);
    await emit();
    await r.waitFor(1);
    await sleep(50);
    expect((await api('GET', `/v1/event-subscriptions/${sub.id}`)).json().enabled).toBe(true);
    offsetMs = 5 * DAY + 60_000;
    const disabled = await until(
      () => api('GET', `/v1/event-subscriptions/${sub.id}`),
      (res) => res.json().enabled === false,
    );
    expect(disabled.json().disabledReason).toBe('failing_for_5_days');
    const audit = await api('GET', '/v1/audit?action=event_subscription.disabled');
    expect(audit.json().items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subjectId: sub.id,
          metadata: expect.objectContaining({ reason: 'failing_for_5_days' }),
        }),
      ]),
    );
  });

  it('announces a payment a verified webhook moved, once, and nothing for a duplicate or stale one', async () => {
    const r = await receiver();
    await subscribe(r.url, ['payment.updated']);
    const created = await api('POST', '/v1/integrations', {
      key: 'stripe-events',
      provider: 'stripe',
      webhookSecrets: [STRIPE_SECRET],
    });
    expect(created.statusCode, created.body).toBe(201);
    const post = (event: object) => {
      const body = JSON.stringify(event);
      return tether.app.inject({
        method: 'POST',
        url: '/webhooks/stripe-events',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': stripeSignatureHeader(body, STRIPE_SECRET, Math.floor(Date.now() / 1000)),
        },
        payload: body,
      });
    };
    const succeeded = makeStripeEvent('payment_intent.succeeded', { object: { id: 'pi_announced' } });
    expect((await post(succeeded)).statusCode).toBe(200);
    const [got] = await r.waitFor(1);
    expect(JSON.parse(got!.body)).toMatchObject({
      type: 'payment.updated',
      data: {
        paymentId: 'pi_announced',
        status: 'succeeded',
        provider: 'stripe',
        sourceEventId: succeeded.id,
      },
    });
    // The same delivery again (a duplicate), and another event with the same status (stale):
    // neither moves the payment, so neither announces anything.
    expect((await post(succeeded)).statusCode).toBe(200);
    const again = makeStripeEvent('payment_intent.succeeded', { object: { id: 'pi_announced' } });
    expect((await post(again)).statusCode).toBe(200);
    await until(
      async () =>
        rowsOf<{ n: number }>(
          await tether.database.db.execute(
            sql`select count(*)::int as n from webhook_events where event_id = ${again.id} and status = 'processed'`,
          ),
        )[0]!.n,
      (n) => n === 1,
    );
    await sleep(500);
    expect(r.received).toHaveLength(1);
  });

  it('writes several events in one statement, each fanned out to the subscriptions that want it', async () => {
    const all = await receiver();
    const payments = await receiver();
    await subscribe(all.url);
    await subscribe(payments.url, ['payment.updated']);
    const ids = await tether.database.db.transaction((tx) =>
      emitEvents(tx, [
        { type: 'sync.completed', data: { n: 1 } },
        { type: 'payment.updated', data: { n: 2 } },
        { type: 'sync.failed', data: { n: 3 } },
      ]),
    );
    expect(new Set(ids).size).toBe(3);
    await all.waitFor(3);
    await payments.waitFor(1);
    const seen = (r: EventReceiver) =>
      r.received.map((m) => JSON.parse(m.body) as { id: string; type: string; data: { n: number } });
    expect(seen(all).sort((a, b) => a.data.n - b.data.n)).toEqual([
      expect.objectContaining({ id: ids[0], type: 'sync.completed', data: { n: 1 } }),
      expect.objectContaining({ id: ids[1], type: 'payment.updated', data: { n: 2 } }),
      expect.objectContaining({ id: ids[2], type: 'sync.failed', data: { n: 3 } }),
    ]);
    expect(seen(payments)).toEqual([expect.objectContaining({ id: ids[1], type: 'payment.updated' })]);
    // Nothing to write is no statement and no event.
    expect(await tether.database.db.transaction((tx) => emitEvents(tx, []))).toEqual([]);
  });

  /** The first-attempts jobs queued with an event: how many deliveries each carries. */
  async function firstAttemptJobsOf(eventId: string) {
    return rowsOf<{ id: string; data: { deliveries: { deliveryId: string; subscriptionId: string }[] } }>(
      await tether.database.db.execute(sql`
        select j.id, j.data from pgboss.job j
        where j.name = 'events.deliver' and j.data ? 'deliveries'
          and j.data->'deliveries'->0->>'deliveryId' in (select id from event_deliveries where event_id = ${eventId})`),
    );
  }

  it("queues an event's first attempts as one job, however many subscriptions it fans out to (32 to a job)", async () => {
    const r = await receiver();
    const subs = [];
    for (let i = 0; i < 33; i++) subs.push(await subscribe(`${r.url}?sub=${i}`));
    const eventId = await emit({ wide: true });
    const jobs = await firstAttemptJobsOf(eventId);
    expect(jobs.map((job) => job.data.deliveries.length).sort((a, b) => a - b)).toEqual([1, 32]);
    const named = jobs.flatMap((job) => job.data.deliveries.map((d) => d.subscriptionId));
    expect(new Set(named)).toEqual(new Set(subs.map((sub) => sub.id)));
    // No job per delivery besides them.
    const perDelivery = rowsOf<{ n: number }>(
      await tether.database.db.execute(sql`
        select count(*)::int as n from pgboss.job
        where name = 'events.deliver' and data->>'deliveryId' in (select id from event_deliveries where event_id = ${eventId})`),
    );
    expect(perDelivery[0]!.n).toBe(0);
    await r.waitFor(33);
    await sleep(300);
    // Each subscription once, all with the event's webhook-id.
    expect(r.received.map((m) => m.path).sort()).toEqual(subs.map((_sub, i) => `/events?sub=${i}`).sort());
    expect(new Set(r.received.map((m) => String(m.headers['webhook-id'])))).toEqual(new Set([eventId]));
  });

  it('sends nothing twice when a first-attempts job runs again (pg-boss retrying it)', async () => {
    const ok = await receiver();
    const flaky = await receiver();
    flaky.respond = (_request, response, index) => {
      response.statusCode = index === 0 ? 500 : 204;
      response.end();
      return undefined;
    };
    await subscribe(ok.url);
    await subscribe(flaky.url);
    const eventId = await emit({ again: true });
    await ok.waitFor(1);
    await flaky.waitFor(2); // attempt 1 failed, attempt 2 (its own job) succeeded
    const [job] = await firstAttemptJobsOf(eventId);
    const rerun = await tether.boss.send('events.deliver', job!.data);
    await until(
      async () =>
        rowsOf<{ state: string }>(
          await tether.database.db.execute(sql`select state from pgboss.job where id = ${rerun}`),
        )[0]?.state,
      (state) => state === 'completed',
    );
    await sleep(300);
    expect(ok.received).toHaveLength(1);
    expect(flaky.received).toHaveLength(2);
  });

  it('retries a first-attempts job the database failed mid-way, each delivery then sent once', async () => {
    const a = await receiver();
    const b = await receiver();
    await subscribe(a.url);
    const bSub = await subscribe(b.url);
    // Every claim of b's deliveries fails (and with it the claim statement it shares), until lifted.
    await tether.database.db.execute(
      sql.raw(`create function refuse_claims() returns trigger language plpgsql as $$
        begin raise exception 'claims refused by the test'; end $$`),
    );
    await tether.database.db.execute(
      sql.raw(`create trigger refuse_claims before update on event_deliveries for each row
        when (new.claim_token is not null and old.claim_token is null and new.subscription_id = '${bSub.id}')
        execute function refuse_claims()`),
    );
    try {
      const eventId = await emit({ blink: true });
      await until(
        async () => (await firstAttemptJobsOf(eventId))[0]?.id,
        (id) => id !== undefined,
      );
      const [job] = await firstAttemptJobsOf(eventId);
      await until(
        async () =>
          rowsOf<{ state: string; retry_count: number }>(
            await tether.database.db.execute(
              sql`select state, retry_count from pgboss.job where id = ${job!.id}`,
            ),
          )[0]!,
        (row) => row.retry_count >= 1 || row.state === 'retry',
      );
    } finally {
      await tether.database.db.execute(sql.raw('drop trigger refuse_claims on event_deliveries'));
      await tether.database.db.execute(sql.raw('drop function refuse_claims()'));
    }
    await b.waitFor(1, 15_000);
    await a.waitFor(1);
    await sleep(300);
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
  });

  it('keeps delivering to a healthy endpoint while another hangs until the timeout', async () => {
    const slow = await receiver();
    slow.respond = () => 'hang';
    const fast = await receiver();
    await subscribe(slow.url);
    await subscribe(fast.url);
    const started = Date.now();
    for (let i = 0; i < 20; i++) await emit({ i });
    await fast.waitFor(20, 8_000);
    // All before the hanging endpoint's first attempts even timed out (4 s): it held at most its
    // share of the workers, and its other jobs waited elsewhere.
    expect(fast.received.at(-1)!.at - started).toBeLessThan(4_000);
    expect(slow.received.length).toBeLessThanOrEqual(2);
  });

  it('refuses URLs that are not http(s)', async () => {
    const bad = await api('POST', '/v1/event-subscriptions', { url: 'file:///etc/passwd', events: ['*'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_event_url');
    const unknown = await api('POST', '/v1/event-subscriptions', {
      url: 'https://example.com',
      events: ['nope'],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('validation_failed');
    expect((await api('GET', '/v1/event-subscriptions/esub_missing')).statusCode).toBe(404);
  });
});
