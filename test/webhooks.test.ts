import fc from 'fast-check';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeWebhookSandboxClient,
  type WebhookSandboxClient,
  type WebhookSandboxConfig,
} from '../src/sandbox/webhooks/index.ts';
import { startSandbox } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';
import { createWebhookIntegration, waitForEvent } from './harness/webhooks.ts';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_test_tether_secret';

describe('inbound webhooks', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let senders: WebhookSandboxClient;
  let config: WebhookSandboxConfig;
  const target = (key: string) => `${t.url}/webhooks/${key}`;

  beforeAll(async () => {
    sandbox = await startSandbox();
    senders = makeWebhookSandboxClient(sandbox.server.url);
    config = await senders.config();
    t = await startTestTether({ listen: true, env: { TETHER_WEBHOOK_MAX_ATTEMPTS: '3' } });
    await createWebhookIntegration(t, {
      key: 'stripe',
      provider: 'stripe',
      webhookSecrets: [SECRET, 'whsec_next_secret'],
    });
    await createWebhookIntegration(t, {
      key: 'docusign',
      provider: 'docusign-connect',
      webhookSecrets: ['docusign-key-1'],
    });
    await createWebhookIntegration(t, {
      key: 'paypal',
      provider: 'paypal',
      webhookId: 'WH-TETHER-1',
      paypal: {
        allowedCertOrigins: [new URL(sandbox.server.url).origin],
        trustedCaPems: [config.paypal.caPem],
      },
    });
    await createWebhookIntegration(t, {
      key: 'gmail',
      provider: 'gmail-pubsub',
      pubsub: { serviceAccountEmail: config.gmailPubsub.serviceAccount, audience: `${t.url}/webhooks/gmail` },
      endpoints: { jwksUrl: config.gmailPubsub.jwksUrl },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  const post = (key: string, body: string, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: `/webhooks/${key}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });
  const stripeEvent = (id: string, type = 'payment_intent.succeeded', status = 'succeeded') =>
    JSON.stringify({
      id,
      object: 'event',
      type,
      created: 1_700_000_000,
      data: { object: { id: `pi_${id}`, object: 'payment_intent', amount: 1200, currency: 'usd', status } },
    });
  const signed = (body: string, secret = SECRET, timestamp?: number) => ({
    'stripe-signature': stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      ...(timestamp ? { timestamp } : {}),
    }),
  });

  describe('Stripe', () => {
    it('accepts an event signed by the official stripe package, stores it before the 2xx, and processes it', async () => {
      const body = stripeEvent('evt_official_1');
      const res = await post('stripe', body, signed(body));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: false });
      const stored = await t.database.withSession((s) =>
        s.query('select status from webhook_events where event_id = $1', ['evt_official_1']),
      );
      expect(stored).toHaveLength(1);
      await waitForEvent(t, { eventId: 'evt_official_1' });
    });

    it('accepts the second secret during a rotation', async () => {
      const body = stripeEvent('evt_rotation_1');
      expect((await post('stripe', body, signed(body, 'whsec_next_secret'))).statusCode).toBe(200);
    });

    it.each([
      ['a tampered body', (body: string) => ({ body: body.replace('1200', '1'), headers: signed(body) })],
      ['a wrong secret', (body: string) => ({ body, headers: signed(body, 'whsec_wrong') })],
      [
        'an old timestamp',
        (body: string) => ({ body, headers: signed(body, SECRET, Math.floor(Date.now() / 1000) - 600) }),
      ],
      [
        'a far-future timestamp',
        (body: string) => ({ body, headers: signed(body, SECRET, Math.floor(Date.now() / 1000) + 3600) }),
      ],
      ['no signature header', (body: string) => ({ body, headers: {} })],
    ])('refuses %s with 401 invalid_signature and stores nothing', async (_name, make) => {
      const id = `evt_bad_${Math.random().toString(36).slice(2)}`;
      const { body, headers } = make(stripeEvent(id));
      const res = await post('stripe', body, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_signature');
      const stored = await t.database.withSession((s) =>
        s.query('select 1 from webhook_events where event_id = $1', [id]),
      );
      expect(stored).toEqual([]);
    });

    it('counts rejections by reason in metrics and the audit log', async () => {
      const body = stripeEvent('evt_metrics');
      await post('stripe', body, signed(body, 'whsec_wrong'));
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth });
      expect(metrics.body).toMatch(
        /tether_webhooks_total\{source="stripe",outcome="rejected",reason="bad_signature"\} \d+/,
      );
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const audit = (
        await t.app.inject({ method: 'GET', url: '/v1/audit?action=webhook.rejected', headers: t.auth })
      ).json();
      // Folded: one row per integration, reason and minute, with the count (rejection-audit.ts).
      const row = audit.items.find(
        (item: { metadata: { reason: string } }) => item.metadata.reason === 'bad_signature',
      );
      expect(row.metadata).toMatchObject({ source: 'stripe', reason: 'bad_signature' });
      expect(row.metadata.count).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(audit)).not.toContain('evt_metrics');
      expect(t.logs.text()).not.toContain('evt_metrics');
    });

    it('stores the same event delivered 50 times concurrently once: one row, one effect, 49 duplicates', async () => {
      const report = await senders.send('stripe', {
        target: target('stripe'),
        secrets: SECRET,
        events: [{ type: 'payment_intent.succeeded', seed: 'dup-50' }],
        delivery: { duplicates: 50, concurrency: 50 },
      });
      expect(report.delivered).toBe(50);
      const bodies = report.attempts.map((a) => JSON.parse(a.body as string) as { duplicate: boolean });
      expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
      expect(bodies.filter((b) => b.duplicate)).toHaveLength(49);
      const eventId = (JSON.parse(report.attempts[0]!.request.body) as { id: string }).id;
      const row = await waitForEvent(t, { eventId });
      expect(row.attempts).toBe(1);
      const rows = await t.database.withSession((s) =>
        s.query('select id from webhook_events where event_id = $1', [eventId]),
      );
      expect(rows).toHaveLength(1);
    });

    it('keeps succeeded when a late processing event arrives', async () => {
      const succeeded = stripeEvent('evt_order_1', 'payment_intent.succeeded', 'succeeded').replace(
        'pi_evt_order_1',
        'pi_order',
      );
      const processing = stripeEvent('evt_order_2', 'payment_intent.processing', 'processing').replace(
        'pi_evt_order_2',
        'pi_order',
      );
      await post('stripe', succeeded, signed(succeeded));
      await waitForEvent(t, { eventId: 'evt_order_1' });
      await post('stripe', processing, signed(processing));
      await waitForEvent(t, { eventId: 'evt_order_2' });
      const payments = (
        await t.app.inject({ method: 'GET', url: '/v1/payments?provider=stripe', headers: t.auth })
      ).json();
      const payment = payments.items.find(
        (p: { providerObjectId: string }) => p.providerObjectId === 'pi_order',
      );
      expect(payment.status).toBe('succeeded');
    });
  });

  describe('the other senders', () => {
    it('accepts PayPal events signed by the sandbox and fetches the certificate once for many', async () => {
      await sandbox.control.resetCalls();
      const report = await senders.send('paypal', {
        target: target('paypal'),
        webhookId: 'WH-TETHER-1',
        events: Array.from({ length: 5 }, (_, i) => ({
          type: 'PAYMENT.CAPTURE.COMPLETED' as const,
          seed: `pp-${i}`,
        })),
        delivery: { concurrency: 5 },
      });
      expect(report.attempts.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await sandbox.control.callCount('paypal.cert')).toBe(1);
    });

    it('refuses a PayPal event signed for another webhook id', async () => {
      const report = await senders.send('paypal', {
        target: target('paypal'),
        webhookId: 'WH-SOMEONE-ELSE',
        events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
      });
      expect(report.attempts[0]!.status).toBe(401);
    });

    it('accepts DocuSign Connect and keeps a completed envelope completed when sent arrives late', async () => {
      const envelopeId = '8e2f3a4b-0000-4000-8000-000000000001';
      for (const event of ['envelope-completed', 'envelope-sent'] as const) {
        const report = await senders.send('docusign-connect', {
          target: target('docusign'),
          keys: ['docusign-key-1'],
          events: [{ event, envelopeId }],
        });
        expect(report.attempts[0]!.status).toBe(200);
      }
      const deadline = Date.now() + 15_000;
      let status: string | undefined;
      while (Date.now() < deadline) {
        const list = (
          await t.app.inject({ method: 'GET', url: '/v1/signature-requests', headers: t.auth })
        ).json();
        const events = await t.database.withSession((s) =>
          s.query<{ status: string }>("select status from webhook_events where source = 'docusign-connect'"),
        );
        status = list.items.find((r: { envelopeId: string }) => r.envelopeId === envelopeId)?.status;
        if (events.every((e) => e.status === 'processed') && status) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe('completed');
      const wrong = await senders.send('docusign-connect', {
        target: target('docusign'),
        keys: ['not-the-key'],
        events: [{ event: 'envelope-sent' }],
      });
      expect(wrong.attempts[0]!.status).toBe(401);
    });

    it('accepts an authenticated Gmail push and moves the mailbox historyId forward', async () => {
      const report = await senders.send('gmail-pubsub', {
        target: target('gmail'),
        events: [{ emailAddress: 'ada@example.com', historyId: '1000', messageId: 'm-1000' }],
      });
      expect(report.attempts[0]!.status).toBe(200);
      await waitForEvent(t, { eventId: 'm-1000' });
      const rejected = await senders.send('gmail-pubsub', {
        target: target('gmail'),
        unauthenticated: true,
        events: [{ emailAddress: 'ada@example.com', historyId: '2000' }],
      });
      expect(rejected.attempts[0]!.status).toBe(401);
      const wrongAudience = await senders.send('gmail-pubsub', {
        target: target('gmail'),
        audience: 'https://elsewhere.example.com',
        events: [{ emailAddress: 'ada@example.com', historyId: '3000' }],
      });
      expect(wrongAudience.attempts[0]!.status).toBe(401);
      const mailboxes = (
        await t.app.inject({ method: 'GET', url: '/v1/gmail-mailboxes', headers: t.auth })
      ).json();
      expect(
        mailboxes.items.find((m: { emailAddress: string }) => m.emailAddress === 'ada@example.com').historyId,
      ).toBe('1000');
    });
  });

  describe('storage failure', () => {
    it('answers 503 (so the sender retries) when the event cannot be stored, and stores it on the retry', async () => {
      await t.database.withSession((s) =>
        s.query(`create function refuse_inbox() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$;
                 create trigger refuse_inbox before insert on webhook_events for each row execute function refuse_inbox();`),
      );
      const body = stripeEvent('evt_storage_down');
      try {
        const res = await post('stripe', body, signed(body));
        expect(res.statusCode).toBe(503);
        expect(res.json().error.code).toBe('service_unavailable');
        expect(res.headers['retry-after']).toBe('5');
      } finally {
        await t.database.withSession((s) =>
          s.query('drop trigger refuse_inbox on webhook_events; drop function refuse_inbox();'),
        );
      }
      const retry = await post('stripe', body, signed(body));
      expect(retry.statusCode).toBe(200);
      expect(retry.json().duplicate).toBe(false);
    });

    it('answers 503, not 404, when the integration cannot be read, and accepts the retry', async () => {
      await createWebhookIntegration(t, {
        key: 'stripe-lookup',
        provider: 'stripe',
        webhookSecrets: [SECRET],
      });
      const body = stripeEvent('evt_lookup_down');
      await t.database.withSession((s) => s.query('alter table integrations rename to integrations_away'));
      try {
        const res = await post('stripe-lookup', body, signed(body));
        expect(res.statusCode).toBe(503);
        expect(res.json().error.code).toBe('service_unavailable');
      } finally {
        await t.database.withSession((s) => s.query('alter table integrations_away rename to integrations'));
      }
      const retry = await post('stripe-lookup', body, signed(body));
      expect(retry.statusCode).toBe(200);
      expect(retry.json().duplicate).toBe(false);
    });
  });

  describe('bad input', () => {
    it('answers 404 for an unknown integration and for an OAuth integration, 413 for a huge body', async () => {
      expect((await post('nope', '{}', {})).statusCode).toBe(404);
      await t.app.inject({
        method: 'POST',
        url: '/v1/integrations',
        headers: t.auth,
        payload: { key: 'notion-x', provider: 'notion', clientId: 'a', clientSecret: 'b' },
      });
      expect((await post('notion-x', '{}', {})).statusCode).toBe(404);
      const huge = 'x'.repeat(1024 * 1024 + 10);
      const res = await post('stripe', huge, signed(huge));
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('payload_too_large');
    });

    it('answers only 2xx or 4xx to random bodies and headers on every webhook route', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('stripe', 'paypal', 'docusign', 'gmail'),
          fc.oneof(
            fc.string(),
            fc.json(),
            fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')),
          ),
          fc.dictionary(
            fc.constantFrom(
              'stripe-signature',
              'paypal-transmission-sig',
              'paypal-cert-url',
              'paypal-transmission-id',
              'paypal-transmission-time',
              'paypal-auth-algo',
              'x-docusign-signature-1',
              'authorization',
              'content-type',
            ),
            fc.string({ maxLength: 200 }),
          ),
          async (key, body, headers) => {
            const res = await t.app.inject({
              method: 'POST',
              url: `/webhooks/${key}`,
              headers,
              payload: body,
            });
            expect(res.statusCode).toBeGreaterThanOrEqual(200);
            expect(res.statusCode).toBeLessThan(500);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
