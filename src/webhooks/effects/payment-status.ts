/**
 * The payment status ladder, shared by every payment provider. Providers deliver events late,
 * twice and out of order, so each event is treated as evidence that a payment reached at least
 * some status, and the stored status is the highest rank seen: it only ever moves up.
 *
 *   rank  status              means                                           e.g. Stripe / PayPal
 *    10   pending             created, waiting for a payment method           payment_intent.created
 *    20   requires_action     the payer must act (3-D Secure, redirect)       payment_intent.requires_action
 *    30   authorized          approved or authorised, not captured yet        requires_capture / ORDER.APPROVED
 *    40   processing          captured, settlement pending                    payment_intent.processing / CAPTURE.PENDING
 *    50   failed              this attempt failed                             payment_failed / CAPTURE.DENIED
 *    60   canceled            abandoned for good                              payment_intent.canceled
 *    70   succeeded           paid                                            succeeded, invoice.paid / CAPTURE.COMPLETED
 *    80   partially_refunded  paid, part of it refunded                       charge.refunded (some)
 *    90   refunded            paid, all of it refunded                        charge.refunded (all) / CAPTURE.REFUNDED
 *   100   reversed            paid, then clawed back by PayPal or the bank    CAPTURE.REVERSED
 *
 * Consequences, chosen deliberately:
 * - A late `processing` never overwrites `succeeded`; a `failed` after `succeeded` does not
 *   regress it; a refund after success is applied; a partial refund after a full one is not.
 * - `failed` is not terminal for a Stripe PaymentIntent (the payer may retry with another card).
 *   A retry's `processing` (40 < 50) is therefore not shown, but its `succeeded` (70) is: the
 *   record can lag during a retry, never end wrong.
 * - Ranks are spaced by ten so a status can be put between two without renumbering stored rows.
 *
 * Disputes (chargebacks) run beside the ladder, in `dispute_status`, with their own
 * forward-only ranks: a dispute never moves the payment status down, and a late
 * `charge.dispute.created` never reopens a closed dispute.
 */
export const PAYMENT_STATUS_RANK = {
  pending: 10,
  requires_action: 20,
  authorized: 30,
  processing: 40,
  failed: 50,
  canceled: 60,
  succeeded: 70,
  partially_refunded: 80,
  refunded: 90,
  reversed: 100,
} as const;

export type PaymentStatus = keyof typeof PAYMENT_STATUS_RANK;
export const PAYMENT_STATUSES = Object.keys(PAYMENT_STATUS_RANK) as [PaymentStatus, ...PaymentStatus[]];

/** Stripe's dispute statuses (PayPal disputes are not mapped yet); unknown ones rank 0. */
export const DISPUTE_STATUS_RANK: Readonly<Record<string, number>> = {
  warning_needs_response: 1,
  needs_response: 1,
  warning_under_review: 2,
  under_review: 2,
  won: 3,
  lost: 3,
  warning_closed: 3,
  charge_refunded: 3,
  prevented: 3,
};

export function paymentStatusRank(status: PaymentStatus): number {
  return PAYMENT_STATUS_RANK[status];
}

/** `refunded` when the whole amount came back, else `partially_refunded`; amounts in minor units. */
export function refundStatus(amount: number, refundedAmount: number): PaymentStatus {
  return refundedAmount >= amount ? 'refunded' : 'partially_refunded';
}
