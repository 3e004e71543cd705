import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from './harness/tether.ts';
import { createWebhookIntegration, waitForEvent } from './harness/webhooks.ts';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_processing_tests';

/**
 * Processing failures, injected where they really happen: a database trigger
 * on the payments table raises for the first N attempts (a sequence counts
 * them, since a failed transaction rolls back everything else).
 */
describe('webhook processing', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({ env: { TETHER_WEBHOOK_MAX_ATTEMPTS: '3' } });
    await createWebhookIntegration(t, { key: 'stripe', provider: 'stripe', webhookSecrets: [SECRET] });
  });
  afterAll(() => t?.close());

  const deliver = async (id: string, objectId: string) => {
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: {
        object: { id: objectId, object: 'payment_intent', amount: 700, currency: 'usd', status: 'succeeded' },
      },
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const [row] = await t.database.withSession((s) =>
      s.query<{ id: string }>('select id from webhook_events where event_id = $1', [id]),
    );
    return row!.id;
  };
  const failFirst = (objectId: string, times: number) =>
    t.database.withSession((s) =>
      s.query(`create sequence fail_${objectId};
        create function fail_${objectId}() returns trigger language plpgsql as $$
        begin
          if new.provider_object_id = '${objectId}' and nextval('fail_${objectId}') <= ${times} then raise exception 'injected failure'; end if;
          return new;
        end $$;
        create trigger fail_${objectId} before insert or update on payments for each row execute function fail_${objectId}();`),
    );
  const payments = (objectId: string) =>
    t.database.withSession((s) =>
      s.query<{ status: string }>('select status from payments where provider_object_id = $1', [objectId]),
    );

  it('processes once an event whose handler fails twice, then succeeds', async () => {
    await failFirst('pi_flaky', 2);
    const id = await deliver('evt_flaky', 'pi_flaky');
    // Drive the attempts directly rather than wait out pg-boss's backoff; the worker may join in.
    for (let i = 0; i < 3; i++) await t.webhooks.processEvent(id).catch(() => 'failed');
    const row = await waitForEvent(t, { eventId: 'evt_flaky' });
    expect(row.attempts).toBeGreaterThanOrEqual(3);
    expect(await payments('pi_flaky')).toEqual([{ status: 'succeeded' }]);
    const event = (await t.app.inject({ method: 'GET', url: `/v1/events/${id}`, headers: t.auth })).json();
    expect(event).toMatchObject({ status: 'processed', lastError: null });
  });

  it('marks an event dead after the last attempt, with an audit entry, and replay brings it back', async () => {
    await failFirst('pi_doomed', 3);
    const id = await deliver('evt_doomed', 'pi_doomed');
    for (let i = 0; i < 3; i++) await t.webhooks.processEvent(id).catch(() => 'failed');
    const dead = await waitForEvent(t, { eventId: 'evt_doomed' }, 'dead');
    expect(dead.attempts).toBeGreaterThanOrEqual(3);
    const event = (await t.app.inject({ method: 'GET', url: `/v1/events/${id}`, headers: t.auth })).json();
    expect(event.lastError).toContain('injected failure');
    const audit = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/audit?action=webhook.dead&subjectId=${id}`,
        headers: t.auth,
      })
    ).json();
    expect(audit.items).toHaveLength(1);
    expect(await payments('pi_doomed')).toEqual([]);

    const replay = await t.app.inject({ method: 'POST', url: `/v1/events/${id}/replay`, headers: t.auth });
    expect(replay.statusCode).toBe(202);
    await waitForEvent(t, { eventId: 'evt_doomed' });
    expect(await payments('pi_doomed')).toEqual([{ status: 'succeeded' }]);
  });

  it('lists and filters the inbox, and replays a processed event without a second effect', async () => {
    const id = await deliver('evt_listed', 'pi_listed');
    await waitForEvent(t, { eventId: 'evt_listed' });
    const list = (
      await t.app.inject({
        method: 'GET',
        url: '/v1/events?status=processed&integration=stripe',
        headers: t.auth,
      })
    ).json();
    expect(list.items.map((e: { id: string }) => e.id)).toContain(id);
    const replay = await t.app.inject({ method: 'POST', url: `/v1/events/${id}/replay`, headers: t.auth });
    expect(replay.statusCode).toBe(202);
    await waitForEvent(t, { eventId: 'evt_listed' });
    expect(await payments('pi_listed')).toEqual([{ status: 'succeeded' }]);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/events/wev_nope/replay', headers: t.auth })).statusCode,
    ).toBe(404);
    const summary = (
      await t.app.inject({ method: 'GET', url: '/v1/events/summary', headers: t.auth })
    ).json();
    expect(summary.duplicateRows).toBe(0);
  });
});
