import { randomBytes } from 'node:crypto';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { payments } from '../../db/schema.ts';
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
  const advances = sql`${payments.statusRank} < excluded.status_rank`;
  const fill = (column: 'amount' | 'currency' | 'customer') => {
    const current = payments[column];
    const incoming = sql.raw(`excluded.${current.name}`);
    return sql`case when ${advances} then coalesce(${incoming}, ${current}) else coalesce(${current}, ${incoming}) end`;
  };
  const blank = (column: 'amount' | 'currency' | 'customer') =>
    sql`(${payments[column]} is null and ${sql.raw(`excluded.${payments[column].name}`)} is not null)`;
  const incomingDispute = disputeRank(sql.raw('excluded.dispute_status'));
  const currentDispute = disputeRank(sql`${payments.disputeStatus}`);

  const rows = await tx
    .insert(payments)
    .values({
      id: `pay_${randomBytes(12).toString('base64url')}`,
      provider: evidence.provider,
      integrationKey: evidence.integrationKey,
      providerObjectId: evidence.objectId,
      status: evidence.status,
      statusRank: paymentStatusRank(evidence.status),
      amount: evidence.amount ?? null,
      currency: evidence.currency?.toUpperCase() ?? null,
      customer: evidence.customer ?? null,
      refundedAmount: evidence.refundedAmount ?? 0,
      disputeStatus: evidence.disputeStatus ?? null,
      lastEventId: evidence.eventId,
    })
    .onConflictDoUpdate({
      target: [payments.provider, payments.providerObjectId],
      set: {
        status: sql`case when ${advances} then excluded.status else ${payments.status} end`,
        statusRank: sql`greatest(${payments.statusRank}, excluded.status_rank)`,
        amount: fill('amount'),
        currency: fill('currency'),
        customer: fill('customer'),
        refundedAmount: sql`greatest(${payments.refundedAmount}, excluded.refunded_amount)`,
        disputeStatus: sql`case when ${incomingDispute} > ${currentDispute} then excluded.dispute_status else ${payments.disputeStatus} end`,
        lastEventId: sql`excluded.last_event_id`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${advances}
        or excluded.refunded_amount > ${payments.refundedAmount}
        or ${incomingDispute} > ${currentDispute}
        or ${blank('amount')} or ${blank('currency')} or ${blank('customer')}`,
    })
    .returning({ status: payments.status, disputeStatus: payments.disputeStatus });

  const name = `${evidence.provider} payment ${evidence.objectId}`;
  const [row] = rows;
  if (row) {
    const dispute = row.disputeStatus ? ` (dispute ${row.disputeStatus})` : '';
    return { effect: 'applied', detail: `${name} is ${row.status}${dispute}` };
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

/** The dispute ladder as a SQL CASE over a dispute_status expression; unknown or null → 0. */
function disputeRank(status: SQL): SQL {
  const whens = Object.entries(DISPUTE_STATUS_RANK).map(
    ([name, rank]) => sql`when ${sql.raw(`'${name}'`)} then ${sql.raw(String(rank))}`,
  );
  return sql`(case ${status} ${sql.join(whens, sql` `)} else 0 end)`;
}
