import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED_SANDBOX_SECRETS } from '../src/integrations/seed-sandbox-webhooks.ts';
import {
  makeWebhookSandboxClient,
  type WebhookSandboxClient,
  type WebhookSandboxConfig,
} from '../src/sandbox/webhooks/index.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The seeded webhook sources as the README's demo uses them: the sandbox mounted in tether signs
// with the secrets tether generated for this database, and its control API tells them.

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function statusesOf(t: TestTether, integrationKey: string): Promise<string[]> {
  const rows = await t.database.withSession((s) =>
    s.query<{ status: string }>('select status from webhook_events where integration_key = $1', [
      integrationKey,
    ]),
  );
  return rows.map((row) => row.status);
}

async function waitUntilProcessed(t: TestTether, integrationKey: string, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const statuses = await statusesOf(t, integrationKey);
    if (statuses.length === count && statuses.every((s) => s === 'processed')) return;
    if (Date.now() > deadline) {
      expect(statuses, `events of ${integrationKey}`).toEqual(Array(count).fill('processed'));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the seeded sandbox webhook sources', () => {
  let t: TestTether;
  let base: string;
  let sandbox: WebhookSandboxClient;
  let config: WebhookSandboxConfig;
  const target = (key: string) => `${base}/webhooks/${key}`;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestTether({
      listen: true,
      env: { TETHER_SANDBOX: '1', PORT: String(port), TETHER_PUBLIC_URL: base },
    });
    sandbox = makeWebhookSandboxClient(`${base}/sandbox`);
    config = await sandbox.config();
  });
  afterAll(() => t?.close());

  it('tells the secrets generated for this database on the control API', () => {
    expect(config.secrets).toBeDefined();
    for (const value of Object.values(config.secrets!)) {
      expect(value.length).toBeGreaterThan(16);
      expect(PUBLISHED_SANDBOX_SECRETS).not.toContain(value);
    }
  });

  it('accepts and processes one webhook of each seeded source, signed with the sandbox secrets', async () => {
    const sends = {
      'sandbox-stripe': () =>
        sandbox.send('stripe', { target: target('sandbox-stripe'), events: [{ type: 'invoice.paid' }] }),
      'sandbox-paypal': () =>
        sandbox.send('paypal', {
          target: target('sandbox-paypal'),
          events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
        }),
      'sandbox-docusign-connect': () =>
        sandbox.send('docusign-connect', {
          target: target('sandbox-docusign-connect'),
          events: [{ event: 'envelope-completed' }],
        }),
      'sandbox-gmail-pubsub': () =>
        sandbox.send('gmail-pubsub', {
          target: target('sandbox-gmail-pubsub'),
          events: [{ emailAddress: 'grace@example.com', historyId: 4242 }],
        }),
    };
    for (const [key, send] of Object.entries(sends)) {
      const report = await send();
      expect(
        report.attempts.map((a) => a.status),
        `${key}: ${report.attempts[0]?.body}`,
      ).toEqual([200]);
    }
    for (const key of Object.keys(sends)) await waitUntilProcessed(t, key, 1);
  });

  it('refuses events signed with the secrets earlier versions published', async () => {
    const stripe = await sandbox.send('stripe', {
      target: target('sandbox-stripe'),
      secrets: 'whsec_tether_sandbox_stripe',
      events: [{ type: 'payment_intent.succeeded', seed: 'forged' }],
    });
    expect(stripe.attempts.map((a) => a.status)).toEqual([401]);
    expect(JSON.parse(stripe.attempts[0]!.body)).toMatchObject({ error: { code: 'invalid_signature' } });
    const docusign = await sandbox.send('docusign-connect', {
      target: target('sandbox-docusign-connect'),
      keys: ['tether-sandbox-docusign-connect-key'],
      events: [{ event: 'envelope-completed', seed: 'forged' }],
    });
    expect(docusign.attempts.map((a) => a.status)).toEqual([401]);
    const paypal = await sandbox.send('paypal', {
      target: target('sandbox-paypal'),
      webhookId: 'WH-TETHER-SANDBOX',
      events: [{ type: 'PAYMENT.CAPTURE.COMPLETED', seed: 'forged' }],
    });
    expect(paypal.attempts.map((a) => a.status)).toEqual([401]);
  });
});

describe('the sandbox with DATABASE_URL', () => {
  it('is off unless TETHER_SANDBOX=1: no control API, no sandbox integrations', async () => {
    // The harness opens its own test database; DATABASE_URL only decides the configuration.
    const t = await startTestTether({
      env: { DATABASE_URL: 'postgres://tether@127.0.0.1:5432/tether', TETHER_SANDBOX: '' },
    });
    try {
      for (const url of ['/sandbox/_control/webhooks/config', '/sandbox/_control/accounts']) {
        expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
      }
      const sent = await t.app.inject({
        method: 'POST',
        url: '/sandbox/_control/webhooks/stripe/send',
        payload: { target: 'http://127.0.0.1:1/webhooks/sandbox-stripe', raw: ['{}'] },
      });
      expect(sent.statusCode).toBe(404);
      const list = await t.app.inject({ method: 'GET', url: '/v1/integrations', headers: t.auth });
      expect(list.json()).toMatchObject({ items: [] });
    } finally {
      await t.close();
    }
  });
});
