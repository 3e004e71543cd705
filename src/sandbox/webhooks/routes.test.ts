import { createHmac } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWebhookSandboxClient, type WebhookSandboxClient, WebhookSandboxError } from './client.ts';
import { webhookSenderRoutes } from './routes.ts';
import { makeWebhookSenderState } from './sender-state.ts';
import { type Receiver, type SandboxServer, startReceiver, startSandbox } from './test-support.ts';

let sandbox: SandboxServer;
let client: WebhookSandboxClient;
let receiver: Receiver;
let failFirst = false;

beforeAll(async () => {
  sandbox = await startSandbox();
  client = makeWebhookSandboxClient(sandbox.sandboxUrl);
  receiver = await startReceiver((n) => (failFirst && n === 0 ? { status: 500 } : {}));
});
afterAll(async () => {
  await receiver.close();
  await sandbox.close();
});
const lastReceived = (n: number) => receiver.received.slice(-n);

describe('webhook sender control API', () => {
  it('sends seeded Stripe events that the official package verifies', async () => {
    const report = await client.send('stripe', {
      target: receiver.url,
      secrets: ['whsec_a', 'whsec_b'],
      events: [{ type: 'charge.dispute.created' }, { type: 'checkout.session.completed' }],
      delivery: { seed: 'demo' },
    });
    expect(report).toMatchObject({ delivered: 2, failed: 0 });
    const stripe = new Stripe('sk_test_x');
    const events = lastReceived(2).map((r) =>
      stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature']!, 'whsec_b', 300),
    );
    expect(events.map((e) => e.type)).toEqual(['charge.dispute.created', 'checkout.session.completed']);
    const again = await client.send('stripe', {
      target: receiver.url,
      secrets: 'whsec_a',
      events: [{ type: 'charge.dispute.created' }],
      delivery: { seed: 'demo' },
    });
    expect(again.attempts[0]!.dedupeKey).toBe(events[0]!.id);
  });

  it('keeps the PayPal transmission id across a retry and signs a fresh transmission time', async () => {
    failFirst = true;
    receiver.received.length = 0;
    try {
      const report = await client.send('paypal', {
        target: receiver.url,
        webhookId: 'WH-ID',
        events: [{ type: 'PAYMENT.CAPTURE.REFUNDED' }],
        delivery: { retry: { timeScale: 1 / 60_000 } },
      });
      expect(report.attempts.map((a) => a.status)).toEqual([500, 200]);
    } finally {
      failFirst = false;
    }
    const [a, b] = lastReceived(2);
    expect(a!.body).toBe(b!.body);
    expect(a!.headers['paypal-transmission-id']).toBe(b!.headers['paypal-transmission-id']);
  });

  it('sends DocuSign Connect messages signed with every key given', async () => {
    const report = await client.send('docusign-connect', {
      target: receiver.url,
      keys: ['k1', 'k2'],
      events: [{ event: 'envelope-sent', envelopeId: 'ENV-1' }],
    });
    expect(report.attempts[0]!.dedupeKey).toMatch(/^ENV-1\|envelope-sent\|/);
    const [got] = lastReceived(1);
    expect(got!.headers['x-docusign-signature-2']).toBe(
      createHmac('sha256', 'k2').update(got!.body).digest('base64'),
    );
  });

  it('sends Gmail pushes whose token verifies against the served JWKS for the target audience', async () => {
    const { gmailPubsub } = await client.config();
    await client.send('gmail-pubsub', {
      target: receiver.url,
      events: [{ emailAddress: 'user@example.com', historyId: '42' }],
    });
    const [got] = lastReceived(1);
    const token = got!.headers.authorization!.replace(/^Bearer /, '');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(gmailPubsub.jwksUrl)), {
      issuer: gmailPubsub.issuer,
      audience: receiver.url,
    });
    expect(payload.email).toBe(gmailPubsub.serviceAccount);
    const data = JSON.parse(got!.body).message.data as string;
    expect(JSON.parse(Buffer.from(data, 'base64').toString())).toEqual({
      emailAddress: 'user@example.com',
      historyId: '42',
    });
  });

  it('sends an unauthenticated push when asked (a forgery a receiver must refuse)', async () => {
    await client.send('gmail-pubsub', {
      target: receiver.url,
      unauthenticated: true,
      raw: ['{"message":{"data":"e30=","messageId":"1"},"subscription":"projects/p/subscriptions/s"}'],
    });
    expect(lastReceived(1)[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses a target that is not loopback', async () => {
    const error = await client
      .send('stripe', { target: 'http://10.0.0.1/hook', secrets: 'whsec_x', raw: ['{}'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookSandboxError);
    expect(error).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it('answers 400 validation_failed for a body naming neither events nor raw, or an unknown cert', async () => {
    for (const body of [
      { target: receiver.url, secrets: 'whsec_x' },
      { target: receiver.url, webhookId: 'W', cert: 'CERT-nope', raw: ['{}'] },
      // A standalone sandbox holds no default secret: the send must name one.
      { target: receiver.url, raw: ['{}'] },
    ]) {
      const source = 'webhookId' in body ? 'paypal' : 'stripe';
      const error = await client.send(source, body as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    }
  });

  it('answers 404 for an unknown sender', async () => {
    const res = await fetch(`${sandbox.sandboxUrl}/_control/webhooks/github/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
  });
});

describe('webhookSenderRoutes', () => {
  it('gives every provider route an endpoint key and no control route one', async () => {
    const app = Fastify();
    const routes: { url: string; endpoint?: string }[] = [];
    app.addHook('onRoute', (r) => {
      routes.push({ url: r.url, endpoint: (r.config as { endpoint?: string } | undefined)?.endpoint });
    });
    await app.register(formbody);
    await app.register(webhookSenderRoutes, { prefix: '/sandbox', state: await makeWebhookSenderState() });
    await app.ready();
    const keys = Object.fromEntries(routes.map((r) => [r.url, r.endpoint]));
    expect(keys).toMatchObject({
      '/sandbox/paypal/v1/notifications/certs/:name': 'paypal.cert',
      '/sandbox/paypal/v1/oauth2/token': 'paypal.token',
      '/sandbox/paypal/v1/notifications/verify-webhook-signature': 'paypal.verify-webhook-signature',
      '/sandbox/google/oauth2/v3/certs': 'google.jwks',
    });
    for (const r of routes.filter((r) => r.url.includes('/_control/'))) expect(r.endpoint).toBeUndefined();
    await app.close();
  });
});
