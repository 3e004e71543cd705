import type { Db } from '../../db/client.ts';
import { applySourceEffect } from '../sources/index.ts';
import type { EffectResult, WebhookEffectInput } from './types.ts';

/**
 * The domain effects of verified webhook events (each source's `effect`, see sources/): payments (Stripe, PayPal), signature requests
 * (DocuSign Connect) and Gmail mailbox history (Pub/Sub).
 *
 * Contract with the worker, which calls applyWebhookEvent inside the transaction that marks the
 * inbox row processed:
 * - Every write goes through `tx`, so the effect and the `processed` mark commit together or not
 *   at all; follow-up jobs and events to the host app (`followUps`, `events`) are written by the
 *   worker in that same transaction.
 * - Idempotent and forward-only: each effect is one compare-and-set upsert on a status rank (or a
 *   history id); applying an event again, or an older one, changes nothing and answers `stale`.
 *   Concurrent workers applying different events to one record cannot regress it either: the
 *   upsert's WHERE is evaluated against the row's latest committed version, under its row lock.
 * - An event type with no effect answers `ignored` (not an error).
 * - A known type whose payload lacks what its effect reads throws AppError `malformed_payload`
 *   naming the field, so the worker marks the event failed, retries it and finally dead-letters it.
 */
export async function applyWebhookEvent(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  return (
    applySourceEffect(tx, event) ?? { effect: 'ignored', detail: `no effects for source ${event.source}` }
  );
}

export { ENVELOPE_STATUS_RANK, ENVELOPE_STATUSES, type EnvelopeStatus } from './docusign-envelopes.ts';
export { GMAIL_SYNC_DEBOUNCE_SECONDS, type GmailMailboxSyncFollowUp } from './gmail-history.ts';
export { PAYMENT_STATUS_RANK, PAYMENT_STATUSES, type PaymentStatus } from './payment-status.ts';
export type { EffectOutcome, EffectResult, FollowUp, WebhookEffectInput } from './types.ts';
