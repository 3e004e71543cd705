import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startEventReceiver } from '../test/harness/event-receiver.ts';
import { useSandboxTether } from '../test/harness/sandbox-tether.ts';
import { runToEnd } from '../test/harness/syncs.ts';
import { createWebhookIntegration, waitForEvent } from '../test/harness/webhooks.ts';

// /metrics, scraped as Prometheus would (with the key), after real work: a connection, a refresh,
// a webhook. Each figure is read back by name and labels.

const env = useSandboxTether(
  [
    { key: 'google', provider: 'google' },
    { key: 'gmail', provider: 'gmail', sandboxProvider: 'google' },
  ],
  { endUserPrefix: 'metrics' },
);

async function scrape(): Promise<string> {
  const res = await env.t.app.inject({ method: 'GET', url: '/metrics', headers: env.t.auth });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of one sample, by metric name and exact labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('needs the API key', async () => {
    expect((await env.t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('counts connections by status from the database', async () => {
    const before = sample(await scrape(), 'tether_connections', { status: 'connected' }) ?? 0;
    const id = await env.connect('google');
    expect(sample(await scrape(), 'tether_connections', { status: 'connected' })).toBe(before + 1);
    const { providerAccountId } = await env.row(id);
    await env.control.revoke({ accountId: providerAccountId, provider: 'google' });
    await env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });
    const text = await scrape();
    expect(sample(text, 'tether_connections', { status: 'connected' })).toBe(before);
    expect(sample(text, 'tether_connections', { status: 'reauthorization_required' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('counts token refreshes by provider and outcome, with their duration', async () => {
    const id = await env.connect('google');
    await env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });
    let text = await scrape();
    const ok =
      sample(text, 'tether_token_refreshes_total', { provider: 'google', outcome: 'succeeded' }) ?? 0;
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'tether_token_refresh_duration_seconds_count', { provider: 'google' }),
    ).toBeGreaterThanOrEqual(ok);
    await env.control.revoke({ accountId: (await env.row(id)).providerAccountId, provider: 'google' });
    await env.t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: env.t.auth });
    text = await scrape();
    expect(
      sample(text, 'tether_token_refreshes_total', { provider: 'google', outcome: 'permanent' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts sync runs and their records by outcome', async () => {
    const account = (await env.control.accounts()).google[0]!.sub;
    await env.control.sizeDataset('google', 'messages', { account, count: 30, seed: 'metrics' });
    const id = await env.connect('gmail');
    const run = await runToEnd(env.t, id, 'gmail-messages');
    expect(run.status).toBe('succeeded');
    const text = await scrape();
    expect(
      sample(text, 'tether_sync_runs', { sync: 'gmail-messages', status: 'succeeded' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'tether_sync_records', { sync: 'gmail-messages', outcome: 'imported' }),
    ).toBeGreaterThanOrEqual(30);
  });

  it('counts event deliveries by outcome', async () => {
    const receiver = await startEventReceiver();
    try {
      const before = sample(await scrape(), 'tether_event_deliveries_total', { outcome: 'succeeded' }) ?? 0;
      const created = await env.t.app.inject({
        method: 'POST',
        url: '/v1/event-subscriptions',
        headers: env.t.auth,
        payload: { url: receiver.url, events: ['connection.created'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      await env.connect('google');
      await receiver.waitFor(1, 20_000);
      await expect
        .poll(async () => sample(await scrape(), 'tether_event_deliveries_total', { outcome: 'succeeded' }))
        .toBe(before + 1);
      await env.t.app.inject({
        method: 'DELETE',
        url: `/v1/event-subscriptions/${created.json().id}`,
        headers: env.t.auth,
      });
    } finally {
      await receiver.close();
    }
  });

  it('times HTTP requests by route template, never by raw URL', async () => {
    const id = await env.connect('google');
    await env.t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: env.t.auth });
    const text = await scrape();
    const labels = { method: 'GET', route: '/v1/connections/:id', status: '200' };
    expect(sample(text, 'tether_http_request_duration_seconds_count', labels)).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id);
  });

  it('reports webhooks received and processed, the inbox lag and the job queues', async () => {
    const secret = 'whsec_metrics_test';
    await createWebhookIntegration(env.t, {
      key: 'stripe-metrics',
      provider: 'stripe',
      webhookSecrets: [secret],
    });
    const body = JSON.stringify({
      id: 'evt_metrics_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: { object: { id: 'pi_metrics_1', object: 'payment_intent', amount: 100, currency: 'usd' } },
    });
    const stripe = new Stripe('sk_test_unused');
    const res = await env.t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe-metrics',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret }),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    await waitForEvent(env.t, { eventId: 'evt_metrics_1' });
    const text = await scrape();
    expect(
      sample(text, 'tether_webhooks_total', { source: 'stripe', outcome: 'received' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'tether_webhooks_total', { source: 'stripe', outcome: 'processed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tether_webhook_inbox_lag_seconds')).toBe(0);
    expect(text).toMatch(/^tether_job_queue_depth\{queue="[^"]+",state="queued"\} \d+$/m);
  });
});
