import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import { type PaymentStatus, refundStatus } from './payment-status.ts';
import { type PaymentEvidence, paymentAmount, recordPayment } from './payment-store.ts';
import { type EffectResult, ignored, parsePayload, type WebhookEffectInput } from './types.ts';

// PayPal (Orders v2 / Payments v2) events onto the payment ladder. Captures are keyed by the
// capture id; refunds and reversals find their capture through the `up` link
// (…/v2/payments/captures/{id}), else supplementary_data.related_ids.capture_id. Orders are keyed
// by the order id, so a checkout shows as an order record (approved → completed) beside its
// capture record (pending → completed → refunded).

const Money = z.looseObject({
  currency_code: z.string().length(3),
  value: z.string().regex(/^\d{1,15}(\.\d{1,6})?$/, 'must be a decimal amount like "10.00"'),
});
const Link = z.looseObject({ href: z.string(), rel: z.string() });
const Capture = z.looseObject({ id: z.string().min(1), amount: Money.optional() });
const Refund = z.looseObject({
  id: z.string().min(1),
  amount: Money.optional(),
  links: z.array(Link).optional(),
  supplementary_data: z
    .looseObject({ related_ids: z.looseObject({ capture_id: z.string().optional() }).optional() })
    .optional(),
  seller_payable_breakdown: z.looseObject({ total_refunded_amount: Money.optional() }).optional(),
});
const Order = z.looseObject({
  id: z.string().min(1),
  purchase_units: z.array(z.looseObject({ amount: Money.optional() })).optional(),
  payer: z.looseObject({ payer_id: z.string().optional() }).optional(),
});
const eventOf = <S extends z.ZodType>(resource: S) =>
  z.looseObject({ id: z.string(), event_type: z.string(), resource });
// Built once: a zod schema compiles itself on first use, which costs far more than a parse.
const CaptureEvent = eventOf(Capture);
const OrderEvent = eventOf(Order);
const RefundEvent = eventOf(Refund);

/** PayPal's currencies without a minor unit; every other PayPal currency has two decimals. */
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

/** "10.00" USD → 1000; exact (no floating point). Throws on more precision than the currency has. */
export function toMinorUnits(money: z.infer<typeof Money>): number {
  const exponent = ZERO_DECIMAL.has(money.currency_code.toUpperCase()) ? 0 : 2;
  const [whole, fraction = ''] = money.value.split('.');
  if (/[1-9]/.test(fraction.slice(exponent))) {
    throw new AppError(
      'malformed_payload',
      `PayPal amount ${money.value} ${money.currency_code} has more than ${exponent} decimals`,
    );
  }
  return Number(BigInt(whole! + fraction.slice(0, exponent).padEnd(exponent, '0')));
}

type Evidence = Omit<PaymentEvidence, 'provider' | 'integrationKey' | 'eventId'>;

const capture =
  (status: PaymentStatus) =>
  (event: WebhookEffectInput): Evidence => {
    const c = parsePayload(CaptureEvent, event).resource;
    return {
      objectId: c.id,
      status,
      amount: c.amount && toMinorUnits(c.amount),
      currency: c.amount?.currency_code,
    };
  };

const order =
  (status: PaymentStatus) =>
  (event: WebhookEffectInput): Evidence => {
    const o = parsePayload(OrderEvent, event).resource;
    const amounts = (o.purchase_units ?? []).flatMap((u) => (u.amount ? [u.amount] : []));
    const currencies = new Set(amounts.map((a) => a.currency_code));
    const total = currencies.size === 1 ? amounts.reduce((sum, a) => sum + toMinorUnits(a), 0) : undefined;
    return {
      objectId: o.id,
      status,
      amount: total,
      currency: total === undefined ? undefined : [...currencies][0],
      customer: o.payer?.payer_id,
    };
  };

/** The capture a refund (or reversal) belongs to. */
function captureIdOf(refund: z.infer<typeof Refund>): string | undefined {
  for (const link of refund.links ?? []) {
    const match = link.rel === 'up' ? /\/v2\/payments\/captures\/([^/?#]+)/.exec(link.href) : null;
    if (match) return decodeURIComponent(match[1]!);
  }
  return refund.supplementary_data?.related_ids?.capture_id;
}

/**
 * A refund says how much came back, not always of how much: the total comes from
 * seller_payable_breakdown.total_refunded_amount when present (else this refund's amount) and is
 * compared with the capture's amount when the capture is already recorded. When it is not, the
 * refund is recorded as partially_refunded: the lower rank, which a later refund can still raise.
 */
async function refund(tx: Db, event: WebhookEffectInput, status?: 'reversed'): Promise<Evidence> {
  const r = parsePayload(RefundEvent, event).resource;
  const captureId = captureIdOf(r) ?? (status === 'reversed' ? r.id : undefined);
  if (!captureId) {
    throw new AppError(
      'malformed_payload',
      `Malformed paypal ${event.type} payload (event ${event.eventId}): no capture id in the "up" link or supplementary_data.related_ids.capture_id`,
    );
  }
  const total = r.seller_payable_breakdown?.total_refunded_amount ?? r.amount;
  const refunded = total && toMinorUnits(total);
  const captured = await paymentAmount(tx, 'paypal', captureId);
  const inferred =
    refunded !== undefined && captured !== undefined
      ? refundStatus(captured, refunded)
      : 'partially_refunded';
  return {
    objectId: captureId,
    status: status ?? inferred,
    refundedAmount: refunded,
    currency: total?.currency_code,
  };
}

const HANDLERS: Record<string, (tx: Db, event: WebhookEffectInput) => Evidence | Promise<Evidence>> = {
  'PAYMENT.CAPTURE.PENDING': (_, e) => capture('processing')(e),
  'PAYMENT.CAPTURE.COMPLETED': (_, e) => capture('succeeded')(e),
  'PAYMENT.CAPTURE.DENIED': (_, e) => capture('failed')(e),
  'PAYMENT.CAPTURE.DECLINED': (_, e) => capture('failed')(e),
  'PAYMENT.CAPTURE.REFUNDED': (tx, e) => refund(tx, e),
  'PAYMENT.CAPTURE.REVERSED': (tx, e) => refund(tx, e, 'reversed'),
  'CHECKOUT.ORDER.APPROVED': (_, e) => order('authorized')(e),
  'CHECKOUT.ORDER.COMPLETED': (_, e) => order('succeeded')(e),
};

export const PAYPAL_EFFECT_TYPES = Object.keys(HANDLERS);

export async function applyPaypalEvent(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  const handler = Object.hasOwn(HANDLERS, event.type) ? HANDLERS[event.type] : undefined;
  if (!handler) return ignored(event);
  const evidence = await handler(tx, event);
  return recordPayment(tx, {
    ...evidence,
    provider: 'paypal',
    integrationKey: event.integrationKey,
    eventId: event.eventId,
  });
}
