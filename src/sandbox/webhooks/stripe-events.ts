import { makeRandom, type Random } from './random.ts';

// Realistic Stripe event JSON for the events tether handles. Objects carry the fields a
// receiver reads (ids, amounts, status, links between objects), not the full API surface.

export const STRIPE_EVENT_TYPES = [
  'payment_intent.succeeded',
  'payment_intent.processing',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
  'checkout.session.completed',
  'invoice.paid',
  'invoice.payment_failed',
] as const;
export type StripeEventType = (typeof STRIPE_EVENT_TYPES)[number];

export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface StripeEventOptions {
  /** Same seed → same ids. */
  seed?: string | number;
  /** Unix seconds; defaults to now. */
  created?: number;
  amount?: number;
  currency?: string;
  customer?: string;
  apiVersion?: string;
  /** Merged over the generated data.object. */
  object?: Record<string, unknown>;
}

export function makeStripeEvent(type: StripeEventType, options: StripeEventOptions = {}): StripeEvent {
  const rnd = makeRandom(options.seed);
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const ctx: Ctx = {
    rnd,
    id: (prefix) => `${prefix}_${rnd.chars(24)}`,
    created,
    amount: options.amount ?? 2000,
    currency: options.currency ?? 'usd',
    customer: options.customer ?? `cus_${rnd.chars(14)}`,
  };
  const eventId = ctx.id('evt');
  const built = OBJECTS[type](ctx);
  return {
    id: eventId,
    object: 'event',
    api_version: options.apiVersion ?? STRIPE_API_VERSION,
    created,
    data: { object: { ...built.object, ...options.object }, ...built.extra },
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${rnd.chars(14)}`, idempotency_key: rnd.uuid() },
    type,
  };
}

interface Ctx {
  rnd: Random;
  id(prefix: string): string;
  created: number;
  amount: number;
  currency: string;
  customer: string;
}
type Built = { object: Record<string, unknown>; extra?: { previous_attributes: Record<string, unknown> } };

const paymentIntent = (c: Ctx, status: string, more: Record<string, unknown> = {}) => ({
  id: c.id('pi'),
  object: 'payment_intent',
  amount: c.amount,
  amount_received: status === 'succeeded' ? c.amount : 0,
  capture_method: 'automatic_async',
  client_secret: `pi_secret_${c.rnd.chars(24)}`,
  created: c.created - 5,
  currency: c.currency,
  customer: c.customer,
  latest_charge: status === 'succeeded' || status === 'processing' ? c.id('ch') : null,
  livemode: false,
  metadata: {},
  payment_method: c.id('pm'),
  payment_method_types: ['card'],
  status,
  ...more,
});

const charge = (c: Ctx, more: Record<string, unknown>) => ({
  id: c.id('ch'),
  object: 'charge',
  amount: c.amount,
  amount_captured: c.amount,
  amount_refunded: 0,
  captured: true,
  created: c.created - 60,
  currency: c.currency,
  customer: c.customer,
  livemode: false,
  paid: true,
  payment_intent: c.id('pi'),
  refunded: false,
  status: 'succeeded',
  ...more,
});

const dispute = (c: Ctx, status: string) => ({
  id: c.id('du'),
  object: 'dispute',
  amount: c.amount,
  charge: c.id('ch'),
  created: c.created - 10,
  currency: c.currency,
  livemode: false,
  payment_intent: c.id('pi'),
  reason: 'fraudulent',
  status,
});

const invoice = (c: Ctx, paid: boolean) => ({
  id: c.id('in'),
  object: 'invoice',
  amount_due: c.amount,
  amount_paid: paid ? c.amount : 0,
  amount_remaining: paid ? 0 : c.amount,
  attempt_count: 1,
  attempted: true,
  billing_reason: 'subscription_cycle',
  created: c.created - 3600,
  currency: c.currency,
  customer: c.customer,
  hosted_invoice_url: `https://invoice.stripe.com/i/acct_${c.rnd.chars(16)}/test_${c.rnd.chars(40)}`,
  livemode: false,
  next_payment_attempt: paid ? null : c.created + 3 * 86400,
  number: `${c.rnd.chars(8, '0123456789ABCDEF')}-0001`,
  status: paid ? 'paid' : 'open',
});

const OBJECTS: Record<StripeEventType, (c: Ctx) => Built> = {
  'payment_intent.succeeded': (c) => ({ object: paymentIntent(c, 'succeeded') }),
  'payment_intent.processing': (c) => ({ object: paymentIntent(c, 'processing') }),
  'payment_intent.payment_failed': (c) => ({
    object: paymentIntent(c, 'requires_payment_method', {
      last_payment_error: {
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        type: 'card_error',
      },
    }),
  }),
  'payment_intent.canceled': (c) => ({
    object: paymentIntent(c, 'canceled', {
      canceled_at: c.created,
      cancellation_reason: 'requested_by_customer',
    }),
  }),
  'charge.refunded': (c) => ({
    object: charge(c, { amount_refunded: c.amount, refunded: true }),
    extra: { previous_attributes: { amount_refunded: 0, refunded: false } },
  }),
  'charge.dispute.created': (c) => ({ object: dispute(c, 'needs_response') }),
  'charge.dispute.closed': (c) => ({ object: dispute(c, 'lost') }),
  'checkout.session.completed': (c) => ({
    object: {
      id: `cs_test_${c.rnd.chars(58)}`,
      object: 'checkout.session',
      amount_subtotal: c.amount,
      amount_total: c.amount,
      client_reference_id: null,
      created: c.created - 120,
      currency: c.currency,
      customer: c.customer,
      customer_details: { email: 'customer@example.com', name: 'Sandbox Customer' },
      livemode: false,
      metadata: {},
      mode: 'payment',
      payment_intent: c.id('pi'),
      payment_status: 'paid',
      status: 'complete',
    },
  }),
  'invoice.paid': (c) => ({ object: invoice(c, true) }),
  'invoice.payment_failed': (c) => ({ object: invoice(c, false) }),
};
