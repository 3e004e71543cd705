import { and, eq } from 'drizzle-orm';
import { type Db, runStatement, statement } from '../../db/client.ts';
import { payments } from '../../db/schema.ts';
import { paymentUpdatedEvent } from '../../events/state-events.ts';
import { makeId } from '../../ids.ts';
import { DISPUTE_STATUS_RANK, type PaymentStatus, paymentStatusRank } from './payment-status.ts';
import type { EffectResult } from './types.ts';

/** What one event says about one payment. Amounts are in minor units (cents). */
export interface PaymentEvidence {
  provider: 'stripe' | 'paypal';
  integrationKey: string;
  /** The provider object the record is keyed by (Stripe PaymentIntent, PayPal capture or order). */
  objectId: string;
  status: PaymentStatus;
  amount?: number | undefined;
  /** ISO 4217; stored upper-case whatever case the provider sends. */
  currency?: string | undefined;
  customer?: string | undefined;
  /** The total refunded so far (not this refund alone). */
  refundedAmount?: number | undefined;
  disputeStatus?: string | undefined;
  eventId: string;
}

/** The dispute ladder as a SQL CASE over a dispute_status expression; unknown or null → 0. */
function disputeRankSql(column: string): string {
  const whens = Object.entries(DISPUTE_STATUS_RANK).map(([name, rank]) => `when '${name}' then ${rank}`);
  return `(case ${column} ${whens.join(' ')} else 0 end)`;
}

// Written once, as text, and run as a named statement: it runs once per payment event, and
// building it with the query builder (and PostgreSQL parsing it) on every call cost more CPU
// than running it.
const ADVANCES = 'payments.status_rank < excluded.status_rank';
const fill = (column: string) =>
  `case when ${ADVANCES} then coalesce(excluded.${column}, payments.${column}) else coalesce(payments.${column}, excluded.${column}) end`;
const blank = (column: string) => `(payments.${column} is null and excluded.${column} is not null)`;
const CURRENT_DISPUTE = disputeRankSql('payments.dispute_status');
const INCOMING_DISPUTE = disputeRankSql('excluded.dispute_status');
const UPSERT = statement(`
  insert into payments (id, provider, integration_key, provider_object_id, status, status_rank,
    amount, currency, customer, refunded_amount, dispute_status, last_event_id)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  on conflict (provider, provider_object_id) do update set
    status = case when ${ADVANCES} then excluded.status else payments.status end,
    status_rank = greatest(payments.status_rank, excluded.status_rank),
    amount = ${fill('amount')},
    currency = ${fill('currency')},
    customer = ${fill('customer')},
    refunded_amount = greatest(payments.refunded_amount, excluded.refunded_amount),
    dispute_status = case when ${INCOMING_DISPUTE} > ${CURRENT_DISPUTE} then excluded.dispute_status else payments.dispute_status end,
    last_event_id = excluded.last_event_id,
    updated_at = now()
  where ${ADVANCES}
    or excluded.refunded_amount > payments.refunded_amount
    or ${INCOMING_DISPUTE} > ${CURRENT_DISPUTE}
    or ${blank('amount')} or ${blank('currency')} or ${blank('customer')}
  returning status, status_rank, dispute_status, refunded_amount`);

/**
 * Records evidence about a payment in ONE statement, so it stays forward-only with any number of
 * concurrent writers: `INSERT … ON CONFLICT (provider, provider_object_id) DO UPDATE … WHERE`
 * locks the existing row and evaluates the WHERE against its latest committed version.
 *
 * The row changes only when the evidence adds something: a higher status rank, a larger refunded
 * total, a further dispute status, or an amount/currency/customer not known yet. Anything else
 * (a duplicate, an older status) changes nothing, not even updated_at, and answers `stale`.
 * With a status move the event's amount/currency/customer win when present (a PaymentIntent's
 * amount can change before it is paid); without one they only fill blanks.
 */
export async function recordPayment(tx: Db, evidence: PaymentEvidence): Promise<EffectResult> {
  const rows = await runStatement<{
    status: string;
    status_rank: number;
    dispute_status: string | null;
    refunded_amount: string | number | null;
  }>(tx, UPSERT, [
    makeId('pay'),
    evidence.provider,
    evidence.integrationKey,
    evidence.objectId,
    evidence.status,
    paymentStatusRank(evidence.status),
    evidence.amount ?? null,
    evidence.currency?.toUpperCase() ?? null,
    evidence.customer ?? null,
    evidence.refundedAmount ?? 0,
    evidence.disputeStatus ?? null,
    evidence.eventId,
  ]);

  const name = `${evidence.provider} payment ${evidence.objectId}`;
  const [row] = rows;
  if (row) {
    const updated = paymentUpdatedEvent({
      provider: evidence.provider,
      integrationKey: evidence.integrationKey,
      objectId: evidence.objectId,
      status: row.status,
      statusRank: row.status_rank,
      disputeStatus: row.dispute_status,
      refundedAmount: row.refunded_amount,
      sourceEventId: evidence.eventId,
    });
    const dispute = row.dispute_status ? ` (dispute ${row.dispute_status})` : '';
    return { effect: 'applied', detail: `${name} is ${row.status}${dispute}`, events: [updated] };
  }
  const [current] = await tx
    .select({ status: payments.status })
    .from(payments)
    .where(and(eq(payments.provider, evidence.provider), eq(payments.providerObjectId, evidence.objectId)));
  return {
    effect: 'stale',
    detail: `${name} is already ${current?.status ?? 'recorded'}; ${evidence.status} adds nothing`,
  };
}

/** The known amount of a payment record (PayPal refunds need the capture's amount). */
export async function paymentAmount(
  tx: Db,
  provider: PaymentEvidence['provider'],
  objectId: string,
): Promise<number | undefined> {
  const [row] = await tx
    .select({ amount: payments.amount })
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.providerObjectId, objectId)));
  return row?.amount ?? undefined;
}
