import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from './harness/tether.ts';
import { createWebhookIntegration } from './harness/webhooks.ts';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_flood_test_secret';
const MINUTE_MS = 60_000;

/** Forged deliveries by the thousand cost counters, not audit rows, and never crowd out real ones. */
describe('a flood of forged webhook deliveries', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
    await createWebhookIntegration(t, { key: 'stripe-flood', provider: 'stripe', webhookSecrets: [SECRET] });
  });
  afterAll(() => t?.close());

  const deliver = (id: string, secret: string) => {
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: { object: { id: `pi_${id}`, object: 'payment_intent', status: 'succeeded' } },
    });
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe-flood',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret }),
      },
      payload: body,
    });
  };

  it('leaves only a few audit rows, carrying the count, while valid deliveries alongside are all accepted', async () => {
    const forged = 5000;
    const valid = 100;
    const startedMinute = Math.floor(Date.now() / MINUTE_MS);
    const statuses = new Map<number, number>();
    let validAccepted = 0;
    // In waves of 250 at once, one valid delivery in every 50.
    for (let wave = 0; wave < forged / 250; wave += 1) {
      const answers = await Promise.all(
        Array.from({ length: 250 + 5 }, (_, i) => {
          const n = wave * 255 + i;
          return i % 51 === 50
            ? deliver(`evt_flood_valid_${n}`, SECRET).then((res) => {
                if (res.statusCode === 200 && res.json().duplicate === false) validAccepted += 1;
                return res;
              })
            : deliver(`evt_flood_forged_${n}`, 'whsec_forged');
        }),
      );
      for (const answer of answers)
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
    }
    const endedMinute = Math.floor(Date.now() / MINUTE_MS);
    expect(Object.fromEntries(statuses)).toEqual({ 200: valid, 401: forged });
    expect(validAccepted).toBe(valid);
    const stored = await t.database.withSession((s) =>
      s.query("select id from webhook_events where event_id like 'evt_flood_valid_%'"),
    );
    expect(stored).toHaveLength(valid);

    await t.rejections.flush();
    const rows = await t.database.withSession((s) =>
      s.query<{ metadata: { reason: string; minute: string; count: number } }>(
        "select metadata from audit_log where action = 'webhook.rejected' and subject_id = 'stripe-flood'",
      ),
    );
    // One row per minute the flood lasted, together counting every forged delivery.
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(endedMinute - startedMinute + 1);
    expect(rows.every((row) => row.metadata.reason === 'bad_signature')).toBe(true);
    expect(rows.reduce((sum, row) => sum + Number(row.metadata.count), 0)).toBe(forged);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth });
    expect(metrics.body).toContain(
      `tether_webhooks_total{source="stripe",outcome="rejected",reason="bad_signature"} ${forged}`,
    );
    // Logged once a minute, not once a delivery.
    expect(t.logs.lines.filter((line) => line.includes('webhook rejected')).length).toBe(rows.length);
  });
});
