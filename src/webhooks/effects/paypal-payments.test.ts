import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EffectsDatabase,
  makeEffectsDatabase,
  paypalInbox,
} from '../../../test/harness/webhook-effects.ts';
import { payments } from '../../db/schema.ts';
import { makePaypalEvent, type PaypalEventType } from '../../sandbox/webhooks/paypal-events.ts';
import { toMinorUnits } from './paypal-payments.ts';

describe('PayPal events on payment records', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  let seed = 0;
  /** Events of one checkout share the seed, so their order and capture ids match. */
  const checkout = () => {
    const s = `paypal-${++seed}-${Date.now()}`;
    return (type: PaypalEventType, resource?: Record<string, unknown>) =>
      makePaypalEvent(type, { seed: s, value: '10.00', ...(resource ? { resource } : {}) });
  };
  const record = async (objectId: string) => {
    const [row] = await t.database.db
      .select()
      .from(payments)
      .where(and(eq(payments.provider, 'paypal'), eq(payments.providerObjectId, objectId)));
    return row;
  };

  it('keeps a completed capture completed when a late pending event arrives', async () => {
    const of = checkout();
    const completed = of('PAYMENT.CAPTURE.COMPLETED');
    const captureId = completed.resource.id as string;
    expect((await t.apply(paypalInbox(completed))).effect).toBe('applied');
    expect((await t.apply(paypalInbox(of('PAYMENT.CAPTURE.PENDING')))).effect).toBe('stale');
    expect(await record(captureId)).toMatchObject({ status: 'succeeded', amount: 1000, currency: 'USD' });
  });

  it('finds the refunded capture through the refund’s up link', async () => {
    const of = checkout();
    const completed = of('PAYMENT.CAPTURE.COMPLETED');
    await t.apply(paypalInbox(completed));
    const refund = of('PAYMENT.CAPTURE.REFUNDED');
    expect(refund.resource.id).not.toBe(completed.resource.id);
    expect((await t.apply(paypalInbox(refund))).effect).toBe('applied');
    expect(await record(completed.resource.id as string)).toMatchObject({
      status: 'refunded',
      refundedAmount: 1000,
    });
    expect(await record(refund.resource.id as string)).toBeUndefined();
  });

  it('records a partial refund from the refunded total, and uses related_ids without a link', async () => {
    const of = checkout();
    const completed = of('PAYMENT.CAPTURE.COMPLETED');
    const captureId = completed.resource.id as string;
    await t.apply(paypalInbox(completed));
    const refund = of('PAYMENT.CAPTURE.REFUNDED', {
      amount: { currency_code: 'USD', value: '2.50' },
      links: [],
      supplementary_data: { related_ids: { capture_id: captureId } },
      seller_payable_breakdown: { total_refunded_amount: { currency_code: 'USD', value: '4.00' } },
    });
    await t.apply(paypalInbox(refund));
    expect(await record(captureId)).toMatchObject({ status: 'partially_refunded', refundedAmount: 400 });
  });

  it('moves an order from approved to completed and not back', async () => {
    const of = checkout();
    const approved = of('CHECKOUT.ORDER.APPROVED');
    const orderId = approved.resource.id as string;
    await t.apply(paypalInbox(of('CHECKOUT.ORDER.COMPLETED')));
    expect((await t.apply(paypalInbox(approved))).effect).toBe('stale');
    expect(await record(orderId)).toMatchObject({ status: 'succeeded', amount: 1000 });
  });

  it('does not let a denied capture regress a completed one, but records a reversal', async () => {
    const of = checkout();
    const completed = of('PAYMENT.CAPTURE.COMPLETED');
    await t.apply(paypalInbox(completed));
    expect((await t.apply(paypalInbox(of('PAYMENT.CAPTURE.DENIED')))).effect).toBe('stale');
    const reversed = { ...of('PAYMENT.CAPTURE.REFUNDED'), event_type: 'PAYMENT.CAPTURE.REVERSED' };
    await t.apply(paypalInbox(reversed));
    expect((await record(completed.resource.id as string))?.status).toBe('reversed');
  });

  it('throws for a refund that names no capture', async () => {
    const refund = checkout()('PAYMENT.CAPTURE.REFUNDED', { links: [] });
    await expect(t.apply(paypalInbox(refund))).rejects.toMatchObject({ code: 'malformed_payload' });
  });

  it('converts PayPal decimal amounts to minor units exactly', () => {
    expect(toMinorUnits({ currency_code: 'USD', value: '10.00' })).toBe(1000);
    expect(toMinorUnits({ currency_code: 'USD', value: '0.1' })).toBe(10);
    expect(toMinorUnits({ currency_code: 'JPY', value: '1500' })).toBe(1500);
    expect(toMinorUnits({ currency_code: 'USD', value: '19.99' })).toBe(1999);
    expect(() => toMinorUnits({ currency_code: 'USD', value: '1.005' })).toThrow(
      expect.objectContaining({ code: 'malformed_payload' }),
    );
  });
});
