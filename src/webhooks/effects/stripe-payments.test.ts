import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EffectsDatabase,
  makeEffectsDatabase,
  stripeInbox,
} from '../../../test/harness/webhook-effects.ts';
import { payments } from '../../db/schema.ts';
import { makeStripeEvent, type StripeEventType } from '../../sandbox/webhooks/stripe-events.ts';

describe('Stripe events on payment records', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  const newIntent = () => `pi_${randomBytes(12).toString('hex')}`;
  const event = (type: StripeEventType, object: Record<string, unknown>, amount = 2000) =>
    stripeInbox(makeStripeEvent(type, { object, amount }));
  const onIntent = (type: StripeEventType, pi: string, amount = 2000) =>
    event(type, type.startsWith('payment_intent.') ? { id: pi } : { payment_intent: pi }, amount);
  const record = async (objectId: string) => {
    const rows = await t.database.db.select().from(payments).where(eq(payments.providerObjectId, objectId));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  it('keeps succeeded when a late processing event arrives', async () => {
    const pi = newIntent();
    expect((await t.apply(onIntent('payment_intent.succeeded', pi))).effect).toBe('applied');
    const late = await t.apply(onIntent('payment_intent.processing', pi));
    expect(late.effect).toBe('stale');
    expect(late.detail).toContain('already succeeded');
    const row = await record(pi);
    expect(row).toMatchObject({ provider: 'stripe', status: 'succeeded', amount: 2000, currency: 'USD' });
  });

  it('moves processing to succeeded when the events arrive in order', async () => {
    const pi = newIntent();
    await t.apply(onIntent('payment_intent.processing', pi));
    expect((await record(pi)).status).toBe('processing');
    await t.apply(onIntent('payment_intent.succeeded', pi));
    expect((await record(pi)).status).toBe('succeeded');
  });

  it('does not regress a succeeded payment on a late payment_failed', async () => {
    const pi = newIntent();
    await t.apply(onIntent('payment_intent.succeeded', pi));
    expect((await t.apply(onIntent('payment_intent.payment_failed', pi))).effect).toBe('stale');
    expect((await record(pi)).status).toBe('succeeded');
  });

  it('applies a full refund after success', async () => {
    const pi = newIntent();
    await t.apply(onIntent('payment_intent.succeeded', pi));
    await t.apply(onIntent('charge.refunded', pi));
    expect(await record(pi)).toMatchObject({ status: 'refunded', refundedAmount: 2000 });
  });

  it('records a partial refund, then the rest of it', async () => {
    const pi = newIntent();
    await t.apply(onIntent('payment_intent.succeeded', pi));
    const partial = (refunded: number) =>
      event('charge.refunded', { payment_intent: pi, amount_refunded: refunded, refunded: false });
    await t.apply(partial(500));
    expect(await record(pi)).toMatchObject({ status: 'partially_refunded', refundedAmount: 500 });
    // A second partial refund keeps the rank but raises the refunded total.
    expect((await t.apply(partial(800))).effect).toBe('applied');
    expect(await record(pi)).toMatchObject({ status: 'partially_refunded', refundedAmount: 800 });
    // An older, smaller total arriving late lowers nothing.
    expect((await t.apply(partial(500))).effect).toBe('stale');
    await t.apply(event('charge.refunded', { payment_intent: pi, amount_refunded: 2000, refunded: true }));
    expect(await record(pi)).toMatchObject({ status: 'refunded', refundedAmount: 2000 });
  });

  it('records a dispute beside the status without regressing it, and never reopens a closed one', async () => {
    const pi = newIntent();
    await t.apply(onIntent('payment_intent.succeeded', pi));
    await t.apply(onIntent('charge.refunded', pi));
    await t.apply(onIntent('charge.dispute.created', pi));
    expect(await record(pi)).toMatchObject({ status: 'refunded', disputeStatus: 'needs_response' });
    await t.apply(onIntent('charge.dispute.closed', pi));
    expect((await record(pi)).disputeStatus).toBe('lost');
    expect((await t.apply(onIntent('charge.dispute.created', pi))).effect).toBe('stale');
    expect(await record(pi)).toMatchObject({ status: 'refunded', disputeStatus: 'lost' });
  });

  it('maps a Checkout Session and an invoice onto their PaymentIntent’s record', async () => {
    const pi = newIntent();
    await t.apply(onIntent('checkout.session.completed', pi));
    await t.apply(onIntent('payment_intent.processing', pi));
    await t.apply(onIntent('invoice.paid', pi));
    await t.apply(onIntent('charge.refunded', pi));
    expect(await record(pi)).toMatchObject({ status: 'refunded', amount: 2000 });
  });

  it('keys an invoice without a PaymentIntent by the invoice, and a failed one stays failed', async () => {
    const failed = makeStripeEvent('invoice.payment_failed');
    await t.apply(stripeInbox(failed));
    const id = failed.data.object.id as string;
    expect(await record(id)).toMatchObject({ status: 'failed', amount: 2000 });
  });

  it('changes nothing when the same event is applied twice', async () => {
    const pi = newIntent();
    const succeeded = onIntent('payment_intent.succeeded', pi);
    expect((await t.apply(succeeded)).effect).toBe('applied');
    const before = await record(pi);
    expect((await t.apply(succeeded)).effect).toBe('stale');
    expect(await record(pi)).toEqual(before);
    const dispute = onIntent('charge.dispute.created', pi);
    await t.apply(dispute);
    const withDispute = await record(pi);
    expect((await t.apply(dispute)).effect).toBe('stale');
    expect(await record(pi)).toEqual(withDispute);
  });

  it('ignores event types it has no effect for', async () => {
    const result = await t.apply({
      source: 'stripe',
      eventId: 'evt_x',
      type: 'customer.created',
      payload: {},
    });
    expect(result.effect).toBe('ignored');
  });

  it('throws a clear error for a known type with a malformed payload', async () => {
    const broken = makeStripeEvent('charge.refunded', { object: { amount_refunded: 'all' } });
    await expect(t.apply(stripeInbox(broken))).rejects.toMatchObject({
      code: 'malformed_payload',
      message: expect.stringContaining('"data.object.amount_refunded"'),
    });
  });
});
