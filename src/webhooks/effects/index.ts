import type { Db } from '../../db/client.ts';
import type { WebhookSource } from '../verifiers/types.ts';
import { applyDocusignEvent, DOCUSIGN_EFFECT_TYPES } from './docusign-envelopes.ts';
import {
  applyGmailNotification,
  GMAIL_EFFECT_TYPES,
  GMAIL_MAILBOX_SYNC_QUEUE,
  GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS,
} from './gmail-history.ts';
import { applyPaypalEvent, PAYPAL_EFFECT_TYPES } from './paypal-payments.ts';
import { applyStripeEvent, STRIPE_EFFECT_TYPES } from './stripe-payments.ts';
import type { EffectHandler, EffectResult, WebhookEffectInput } from './types.ts';

/**
 * The domain effects of verified webhook events: payments (Stripe, PayPal), signature requests
 * (DocuSign Connect) and Gmail mailbox history (Pub/Sub).
 *
 * Contract with the worker, which calls applyWebhookEvent inside the transaction that marks the
 * inbox row processed:
 * - Every write goes through `tx`, so the effect and the `processed` mark commit together or not
 *   at all; follow-up jobs are enqueued by the worker in that same transaction.
 * - Idempotent and forward-only: each effect is one compare-and-set upsert on a status rank (or a
 *   history id); applying an event again, or an older one, changes nothing and answers `stale`.
 *   Concurrent workers applying different events to one record cannot regress it either: the
 *   upsert's WHERE is evaluated against the row's latest committed version, under its row lock.
 * - An event type with no effect answers `ignored` (not an error).
 * - A known type whose payload lacks what its effect reads throws an Error naming the field, so
 *   the worker marks the event failed, retries it and finally dead-letters it.
 */
const HANDLERS: Record<WebhookSource, EffectHandler> = {
  stripe: applyStripeEvent,
  paypal: applyPaypalEvent,
  'docusign-connect': applyDocusignEvent,
  'gmail-pubsub': applyGmailNotification,
};

/** The event types each source has an effect for (the rest are stored and `ignored`). */
export const EFFECT_TYPES: Readonly<Record<WebhookSource, readonly string[]>> = {
  stripe: STRIPE_EFFECT_TYPES,
  paypal: PAYPAL_EFFECT_TYPES,
  'docusign-connect': DOCUSIGN_EFFECT_TYPES,
  'gmail-pubsub': GMAIL_EFFECT_TYPES,
};

/**
 * Every queue a follow-up may name, with the options it must be created with. pg-boss refuses a
 * send to a queue that does not exist, which would fail the event: create these at start, before
 * the webhook worker runs (`for (const q of FOLLOW_UP_QUEUES) await boss.createQueue(q.name, q.options)`).
 */
export const FOLLOW_UP_QUEUES: readonly { name: string; options: { policy: 'stately' } }[] = [
  { name: GMAIL_MAILBOX_SYNC_QUEUE, options: GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS },
];

export async function applyWebhookEvent(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  const handler = Object.hasOwn(HANDLERS, event.source) ? HANDLERS[event.source] : undefined;
  if (!handler) return { effect: 'ignored', detail: `no effects for source ${event.source}` };
  return handler(tx, event);
}

export { ENVELOPE_STATUS_RANK, ENVELOPE_STATUSES, type EnvelopeStatus } from './docusign-envelopes.ts';
export {
  GMAIL_MAILBOX_SYNC_QUEUE,
  GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS,
  GMAIL_SYNC_DEBOUNCE_SECONDS,
  type GmailMailboxSyncFollowUp,
  type GmailMailboxSyncJob,
} from './gmail-history.ts';
export { PAYMENT_STATUS_RANK, PAYMENT_STATUSES, type PaymentStatus } from './payment-status.ts';
export type { EffectOutcome, EffectResult, FollowUp, WebhookEffectInput } from './types.ts';
