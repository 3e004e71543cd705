import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { type PaymentStatus, refundStatus } from './payment-status.ts';
import { type PaymentEvidence, recordPayment } from './payment-store.ts';
import { type EffectResult, ignored, parsePayload, type WebhookEffectInput } from './types.ts';

// Stripe events onto payment records. One record per payment: keyed by the PaymentIntent when the
// object names one (charges, disputes, Checkout Sessions and older-API invoices all carry
// `payment_intent`), else by the invoice for a subscription's Checkout Session, else by the
// object's own id. So a checkout.session.completed, its payment_intent.succeeded and a later
// charge.refunded all land on one row, in whatever order they arrive.

const amount = z.number().int().nonnegative();
/** An id field, or the object when the API version (or an `expand`) inlined it. */
const ref = z
  .union([z.string(), z.looseObject({ id: z.string() }).transform((o) => o.id)])
  .nullish()
  .transform((v) => v ?? undefined);
const base = {
  id: z.string().min(1),
  currency: z.string().length(3).optional(),
  customer: ref,
};

const PaymentIntent = z.looseObject({ ...base, amount: amount.optional(), status: z.string().optional() });
const Charge = z.looseObject({
  ...base,
  payment_intent: ref,
  amount,
  amount_refunded: amount,
  refunded: z.boolean().optional(),
});
const Dispute = z.looseObject({ ...base, payment_intent: ref, charge: ref, status: z.string().min(1) });
const Session = z.looseObject({
  ...base,
  payment_intent: ref,
  invoice: ref,
  mode: z.string().optional(),
  payment_status: z.enum(['paid', 'unpaid', 'no_payment_required']),
  amount_total: amount.nullish(),
});
const Invoice = z.looseObject({
  ...base,
  payment_intent: ref,
  /** API versions from 2025-03-31 move the PaymentIntent here (when the list is included). */
  payments: z
    .looseObject({
      data: z.array(z.looseObject({ payment: z.looseObject({ payment_intent: ref }).optional() })),
    })
    .optional(),
  amount_paid: amount.optional(),
  amount_due: amount.optional(),
});

const eventOf = <S extends z.ZodType>(object: S) =>
  z.looseObject({ id: z.string(), type: z.string(), data: z.looseObject({ object }) });
// Built once: a zod schema compiles itself on first use, which costs far more than a parse.
const PaymentIntentEvent = eventOf(PaymentIntent);
const ChargeEvent = eventOf(Charge);
const DisputeEvent = eventOf(Dispute);
const SessionEvent = eventOf(Session);
const InvoiceEvent = eventOf(Invoice);

type Evidence = Omit<PaymentEvidence, 'provider' | 'integrationKey' | 'eventId'>;
type Handler = (event: WebhookEffectInput) => Evidence | EffectResult;

const fromIntent =
  (status: PaymentStatus | ((piStatus: string | undefined) => PaymentStatus)): Handler =>
  (event) => {
    const pi = parsePayload(PaymentIntentEvent, event).data.object;
    const evidence = typeof status === 'function' ? status(pi.status) : status;
    return {
      objectId: pi.id,
      status: evidence,
      amount: pi.amount,
      currency: pi.currency,
      customer: pi.customer,
    };
  };

/** A PaymentIntent's own status, for payment_intent.created (it may be created already confirmed). */
const INTENT_STATUS: Record<string, PaymentStatus> = {
  requires_action: 'requires_action',
  requires_capture: 'authorized',
  processing: 'processing',
  succeeded: 'succeeded',
  canceled: 'canceled',
};

const fromSession =
  (paid: PaymentStatus, unpaid: PaymentStatus): Handler =>
  (event) => {
    const s = parsePayload(SessionEvent, event).data.object;
    if (s.mode === 'setup' || s.payment_status === 'no_payment_required') {
      return { effect: 'ignored', detail: `Checkout Session ${s.id} takes no payment` };
    }
    return {
      objectId: s.payment_intent ?? s.invoice ?? s.id,
      status: s.payment_status === 'paid' ? paid : unpaid,
      amount: s.amount_total ?? undefined,
      currency: s.currency,
      customer: s.customer,
    };
  };

const fromInvoice =
  (status: PaymentStatus): Handler =>
  (event) => {
    const inv = parsePayload(InvoiceEvent, event).data.object;
    const viaPayments = inv.payments?.data.find((p) => p.payment?.payment_intent)?.payment?.payment_intent;
    return {
      objectId: inv.payment_intent ?? viaPayments ?? inv.id,
      status,
      amount: status === 'succeeded' ? inv.amount_paid : inv.amount_due,
      currency: inv.currency,
      customer: inv.customer,
    };
  };

/** A dispute only exists on a paid charge: it is evidence of `succeeded`, and of its own status. */
const fromDispute: Handler = (event) => {
  const d = parsePayload(DisputeEvent, event).data.object;
  return {
    objectId: d.payment_intent ?? d.charge ?? d.id,
    status: 'succeeded',
    currency: d.currency,
    disputeStatus: d.status,
  };
};

const HANDLERS: Record<string, Handler> = {
  'payment_intent.created': fromIntent((s) =>
    s !== undefined && Object.hasOwn(INTENT_STATUS, s) ? INTENT_STATUS[s]! : 'pending',
  ),
  'payment_intent.requires_action': fromIntent('requires_action'),
  'payment_intent.amount_capturable_updated': fromIntent('authorized'),
  'payment_intent.processing': fromIntent('processing'),
  'payment_intent.payment_failed': fromIntent('failed'),
  'payment_intent.canceled': fromIntent('canceled'),
  'payment_intent.succeeded': fromIntent('succeeded'),
  'charge.refunded': (event) => {
    const c = parsePayload(ChargeEvent, event).data.object;
    return {
      objectId: c.payment_intent ?? c.id,
      status: c.refunded ? 'refunded' : refundStatus(c.amount, c.amount_refunded),
      amount: c.amount,
      refundedAmount: c.amount_refunded,
      currency: c.currency,
      customer: c.customer,
    };
  },
  'charge.dispute.created': fromDispute,
  'charge.dispute.updated': fromDispute,
  'charge.dispute.closed': fromDispute,
  'checkout.session.completed': fromSession('succeeded', 'processing'),
  'checkout.session.async_payment_succeeded': fromSession('succeeded', 'processing'),
  'checkout.session.async_payment_failed': fromSession('failed', 'failed'),
  'invoice.paid': fromInvoice('succeeded'),
  'invoice.payment_failed': fromInvoice('failed'),
};

export const STRIPE_EFFECT_TYPES = Object.keys(HANDLERS);

export async function applyStripeEvent(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  const handler = Object.hasOwn(HANDLERS, event.type) ? HANDLERS[event.type] : undefined;
  if (!handler) return ignored(event);
  const outcome = handler(event);
  if ('effect' in outcome) return outcome;
  return recordPayment(tx, {
    ...outcome,
    provider: 'stripe',
    integrationKey: event.integrationKey,
    eventId: event.eventId,
  });
}
