import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWebhookVerifierRegistry, REJECT_REASONS, WEBHOOK_SOURCES, type WebhookSource } from './index.ts';
import { startWebhookFixture, type WebhookFixture } from './testing.ts';
import type { WebhookRequest, WebhookVerifier } from './types.ts';

// Whatever arrives (random bytes, random headers, real deliveries with parts swapped or
// mangled), every verifier answers a result object: it never throws, and a rejection names a
// known reason with a message that does not echo the body or a secret.

const SECRETS = ['whsec_property_secret', 'docusign_property_key'];

let fx: WebhookFixture;
let verifiers: Record<WebhookSource, WebhookVerifier>;
let real: Record<WebhookSource, WebhookRequest>;

beforeAll(async () => {
  fx = await startWebhookFixture();
  const registry = makeWebhookVerifierRegistry();
  verifiers = {
    stripe: registry.build('stripe', { secrets: [SECRETS[0]] }),
    paypal: registry.build('paypal', {
      webhookId: 'WH-PROP',
      // https://127.0.0.1 refuses at once: a generated PayPal URL never reaches the internet.
      allowedCertHosts: ['127.0.0.1'],
      allowedCertOrigins: [fx.sandbox.origin],
      trustedCaPems: [fx.config.paypal.caPem],
    }),
    'docusign-connect': registry.build('docusign-connect', { keys: [SECRETS[1]] }),
    'gmail-pubsub': registry.build('gmail-pubsub', {
      serviceAccount: fx.config.gmailPubsub.serviceAccount,
      endpoints: { jwksUrl: fx.config.gmailPubsub.jwksUrl },
    }),
  };
  const [stripe] = await fx.capture('stripe', { secrets: SECRETS[0]!, events: [{ type: 'invoice.paid' }] });
  const [paypal] = await fx.capture('paypal', {
    webhookId: 'WH-PROP',
    events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
  });
  const [docusign] = await fx.capture('docusign-connect', {
    keys: [SECRETS[1]!],
    events: [{ event: 'envelope-sent' }],
  });
  const [gmail] = await fx.capture('gmail-pubsub', {
    events: [{ emailAddress: 'a@example.com', historyId: 5 }],
  });
  real = { stripe: stripe!, paypal: paypal!, 'docusign-connect': docusign!, 'gmail-pubsub': gmail! };
});
afterAll(() => fx.close());

const headerName = fc.oneof(
  fc.constantFrom(
    'stripe-signature',
    'paypal-transmission-id',
    'paypal-transmission-time',
    'paypal-transmission-sig',
    'paypal-cert-url',
    'paypal-auth-algo',
    'x-docusign-signature-1',
    'X-DocuSign-Signature-2',
    'authorization',
    'Authorization',
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(
    't=1,v1=',
    'Bearer a.b.c',
    'Bearer eyJhbGciOiJSUzI1NiJ9.e30.',
    'https://127.0.0.1/cert',
    'SHA256withRSA',
  ),
  fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ maxLength: 300 }).map((s) => new Uint8Array(Buffer.from(s))),
  fc.json().map((s) => new Uint8Array(Buffer.from(s))),
);

const request = fc.record({
  source: fc.constantFrom(...WEBHOOK_SOURCES),
  base: fc.constantFrom(...WEBHOOK_SOURCES),
  keepBody: fc.boolean(),
  body,
  drop: fc.array(headerName, { maxLength: 3 }),
  set: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
  url: fc.option(fc.webUrl(), { nil: undefined }),
});

describe('every verifier', () => {
  it('answers a result object for any body and headers, never throwing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const base = real[r.base];
        const headers: Record<string, string | string[] | undefined> = { ...base.headers } as never;
        for (const name of r.drop) delete headers[name];
        Object.assign(headers, r.set);
        const rawBody = r.keepBody ? base.rawBody : r.body;

        const result = await verifiers[r.source].verify({ rawBody, headers, url: r.url });

        expect(typeof result.ok).toBe('boolean');
        if (result.ok) {
          expect(typeof result.eventId).toBe('string');
          expect(result.eventId).not.toBe('');
        } else {
          expect(Object.keys(REJECT_REASONS)).toContain(result.reason);
          expect(typeof result.message).toBe('string');
          for (const secret of SECRETS) expect(result.message).not.toContain(secret);
          const text = Buffer.from(rawBody).toString();
          if (text.length >= 16) expect(result.message).not.toContain(text);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('accepts the untouched real deliveries it was seeded with', async () => {
    for (const source of WEBHOOK_SOURCES) {
      expect((await verifiers[source].verify(real[source])).ok, source).toBe(true);
    }
  });
});
