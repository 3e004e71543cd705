import { createHmac, timingSafeEqual } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { makeStripeOutbound, stripeSignatureHeader } from './stripe.ts';
import { makeStripeEvent, STRIPE_EVENT_TYPES } from './stripe-events.ts';

const stripe = new Stripe('sk_test_sandbox');

// Written from Stripe's published scheme, independently of stripe.ts.
function verifyByHand(raw: string, header: string, secret: string): boolean {
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  return parts
    .filter(([k]) => k === 'v1')
    .some(([, v]) => {
      const given = Buffer.from(v, 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('Stripe signer', () => {
  it('reproduces the check vector from the facts file', () => {
    const header = stripeSignatureHeader(
      '{"id":"evt_test_webhook","object":"event"}',
      'whsec_test_secret',
      1700000000,
    );
    expect(header).toBe('t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990');
  });

  it('signs exactly as the official stripe package does', () => {
    const payload = JSON.stringify(makeStripeEvent('invoice.paid', { seed: 1 }), null, 2);
    const timestamp = 1_760_000_000;
    expect(stripeSignatureHeader(payload, 'whsec_abc', timestamp)).toBe(
      stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_abc', timestamp }),
    );
  });

  it('produces a delivery that constructEvent and a hand-written verifier accept', async () => {
    const event = makeStripeEvent('payment_intent.succeeded');
    const delivery = await makeStripeOutbound(event, { secrets: 'whsec_live_one' }).build({
      attempt: 1,
      now: new Date(),
    });
    const header = delivery.headers['stripe-signature']!;
    expect(verifyByHand(delivery.body, header, 'whsec_live_one')).toBe(true);
    const parsed = stripe.webhooks.constructEvent(delivery.body, header, 'whsec_live_one', 300);
    expect(parsed.id).toBe(event.id);
    expect(parsed.type).toBe('payment_intent.succeeded');
  });

  it('signs with every secret during a roll, so either secret verifies', () => {
    const body = '{"id":"evt_roll"}';
    const header = stripeSignatureHeader(body, ['whsec_old', 'whsec_new'], 1_700_000_000);
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifyByHand(body, header, 'whsec_old')).toBe(true);
    expect(verifyByHand(body, header, 'whsec_new')).toBe(true);
    expect(verifyByHand(body, header, 'whsec_other')).toBe(false);
  });

  it('makes a stale signature that constructEvent rejects when a fixed old timestamp is asked for', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    const delivery = await makeStripeOutbound(makeStripeEvent('invoice.paid'), {
      secrets: 'whsec_x',
      timestamp: old,
    }).build({ attempt: 1, now: new Date() });
    expect(() =>
      stripe.webhooks.constructEvent(delivery.body, delivery.headers['stripe-signature']!, 'whsec_x', 300),
    ).toThrow(/tolerance/i);
  });
});

describe('Stripe event factories', () => {
  it.each(STRIPE_EVENT_TYPES)('builds a well-formed %s event', (type) => {
    const event = makeStripeEvent(type, { created: 1_700_000_000 });
    expect(event).toMatchObject({ object: 'event', type, livemode: false, created: 1_700_000_000 });
    expect(event.id).toMatch(/^evt_[A-Za-z0-9]{24}$/);
    expect(event.data.object.id).toEqual(expect.any(String));
    expect(event.pending_webhooks).toBeGreaterThan(0);
  });

  it('gives the same ids for the same seed and different ids otherwise', () => {
    const a = makeStripeEvent('charge.refunded', { seed: 'demo', created: 1 });
    expect(makeStripeEvent('charge.refunded', { seed: 'demo', created: 1 })).toEqual(a);
    expect(makeStripeEvent('charge.refunded', { seed: 'other', created: 1 }).id).not.toBe(a.id);
  });

  it('merges object overrides over the generated object', () => {
    const event = makeStripeEvent('payment_intent.succeeded', { object: { metadata: { order: '42' } } });
    expect(event.data.object).toMatchObject({ status: 'succeeded', metadata: { order: '42' } });
  });
});
