import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { makeWebhookVerifierRegistry, parseWebhookSettings, WEBHOOK_SOURCES } from './index.ts';
import { startWebhookFixture, type WebhookFixture } from './testing.ts';

let fx: WebhookFixture;
beforeAll(async () => {
  fx = await startWebhookFixture();
});
afterAll(() => fx.close());

const validSettings = () => ({
  stripe: { secrets: ['whsec_one', 'whsec_two'] },
  paypal: {
    webhookId: 'WH-LISTENER',
    allowedCertOrigins: [fx.sandbox.origin],
    trustedCaPems: [fx.config.paypal.caPem],
  },
  'docusign-connect': { keys: ['k1'] },
  'gmail-pubsub': {
    serviceAccount: 'push@p.iam.gserviceaccount.com',
    audience: 'https://tether.example/webhooks/g',
    endpoints: { jwksUrl: fx.config.gmailPubsub.jwksUrl },
  },
});

const validationError = (source: string, settings: unknown) => {
  try {
    makeWebhookVerifierRegistry().build(source, settings);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_failed');
    return (error as AppError).message;
  }
  throw new Error('expected a validation error');
};

describe('webhook verifier registry', () => {
  it('builds a verifier for every source from valid settings', () => {
    const registry = makeWebhookVerifierRegistry();
    const settings = validSettings();
    for (const source of WEBHOOK_SOURCES) {
      expect(registry.build(source, settings[source]).source).toBe(source);
    }
  });

  it('builds a Stripe verifier that accepts either configured secret', async () => {
    const verifier = makeWebhookVerifierRegistry().build('stripe', validSettings().stripe);
    const payload = '{"id":"evt_9","type":"charge.refunded"}';
    const header = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
      payload,
      secret: 'whsec_two',
    });
    const result = await verifier.verify({
      rawBody: Buffer.from(payload),
      headers: { 'stripe-signature': header },
    });
    expect(result).toMatchObject({ ok: true, eventId: 'evt_9' });
  });

  it('shares one certificate cache between the PayPal verifiers it builds', async () => {
    const registry = makeWebhookVerifierRegistry();
    const a = registry.build('paypal', validSettings().paypal);
    const b = registry.build('paypal', validSettings().paypal);
    const [got] = await fx.capture('paypal', {
      webhookId: 'WH-LISTENER',
      events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
    });
    const before = await fx.control.callCount('paypal.cert');
    expect((await Promise.all([a.verify(got!), b.verify(got!)])).map((r) => r.ok)).toEqual([true, true]);
    expect(await fx.control.callCount('paypal.cert')).toBe(before + 1);
  });

  it.each([
    ['stripe', { secrets: [] }, /"secrets"/],
    ['stripe', { secret: 'whsec_x' }, /secret/],
    ['stripe', { secrets: ['whsec_x'], toleranceSeconds: -1 }, /"toleranceSeconds"/],
    ['paypal', {}, /"webhookId"/],
    [
      'paypal',
      { webhookId: 'W', allowedCertOrigins: ['http://127.0.0.1:1/path'] },
      /"allowedCertOrigins.0" must be an origin/,
    ],
    [
      'paypal',
      { webhookId: 'W', trustedCaPems: ['not a certificate'] },
      /"trustedCaPems.0" must be a PEM certificate/,
    ],
    ['paypal', { webhookId: 'W', online: { apiBaseUrl: 'https://api-m.paypal.com' } }, /"online.clientId"/],
    ['docusign-connect', { keys: 'k1' }, /"keys"/],
    ['gmail-pubsub', { serviceAccount: 'not-an-email' }, /"serviceAccount"/],
    [
      'gmail-pubsub',
      { serviceAccount: 'a@b.co', endpoints: { jwksUrl: 'ftp://x/certs' } },
      /"endpoints.jwksUrl"/,
    ],
    ['mailchimp', {}, /No webhook source "mailchimp"/],
  ])('refuses %s settings %j with a validation error naming the field', (source, settings, message) => {
    expect(validationError(source, settings)).toMatch(message);
  });

  it('never repeats a secret value in a validation message', () => {
    const message = validationError('stripe', { secrets: ['whsec_has a space'] });
    expect(message).toMatch(/"secrets.0"/);
    expect(message).not.toContain('whsec_has');
  });

  it('parses settings without throwing, for checking an integration when it is saved', () => {
    expect(parseWebhookSettings('docusign-connect', { keys: ['k'] })).toEqual({
      ok: true,
      source: 'docusign-connect',
      settings: { keys: ['k'] },
    });
    expect(parseWebhookSettings('docusign-connect', null)).toMatchObject({ ok: false });
  });
});
