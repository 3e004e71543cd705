import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { signatureRequests } from '../../db/schema.ts';
import { signatureRequestUpdatedEvent } from '../../events/state-events.ts';
import { type EffectResult, ignored, parsePayload, type WebhookEffectInput } from './types.ts';

/**
 * DocuSign envelope status, forward-only:
 *
 *   created(0) → sent(1) → delivered(2) → signed(3) → completed | declined | voided | deleted | timedout (4)
 *
 * Every end state shares the top rank, and a status is written only when its rank is strictly
 * higher than the stored one, so nothing moves after an end state: a late `envelope-sent` leaves
 * `completed` alone, and a `voided` cannot overwrite `declined` (or the reverse). A delivery that
 * arrives before an earlier one (delivered, then sent) keeps the later status.
 *
 * The status comes from data.envelopeSummary.status when the Connect configuration includes the
 * summary, else from the event name. For recipient-completed without a summary that is
 * `delivered`: one recipient finishing proves the envelope reached them, not that every
 * recipient has signed (a later event still raises it).
 */
export const ENVELOPE_STATUS_RANK = {
  created: 0,
  sent: 1,
  delivered: 2,
  signed: 3,
  completed: 4,
  declined: 4,
  voided: 4,
  deleted: 4,
  timedout: 4,
} as const;
export type EnvelopeStatus = keyof typeof ENVELOPE_STATUS_RANK;
export const ENVELOPE_STATUSES = Object.keys(ENVELOPE_STATUS_RANK) as [EnvelopeStatus, ...EnvelopeStatus[]];

/** The Connect events with an effect, and the status each proves when there is no summary. */
const EVENT_STATUS: Readonly<Record<string, EnvelopeStatus>> = {
  'envelope-created': 'created',
  'envelope-sent': 'sent',
  'envelope-resent': 'sent',
  'envelope-corrected': 'sent',
  'envelope-delivered': 'delivered',
  'envelope-completed': 'completed',
  'envelope-declined': 'declined',
  'envelope-voided': 'voided',
  'envelope-deleted': 'deleted',
  'recipient-sent': 'sent',
  'recipient-delivered': 'delivered',
  'recipient-completed': 'delivered',
  'recipient-declined': 'declined',
};
export const DOCUSIGN_EFFECT_TYPES = Object.keys(EVENT_STATUS);

const Timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time');
const ConnectMessage = z.looseObject({
  event: z.string(),
  generatedDateTime: Timestamp,
  data: z.looseObject({
    envelopeId: z.string().min(1),
    accountId: z.string().optional(),
    envelopeSummary: z
      .looseObject({ status: z.string().optional(), statusChangedDateTime: Timestamp.optional() })
      .optional(),
  }),
});

function isEnvelopeStatus(value: string | undefined): value is EnvelopeStatus {
  return value !== undefined && Object.hasOwn(ENVELOPE_STATUS_RANK, value);
}

export async function applyDocusignEvent(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  const fallback = Object.hasOwn(EVENT_STATUS, event.type) ? EVENT_STATUS[event.type] : undefined;
  if (!fallback) return ignored(event);
  const message = parsePayload(ConnectMessage, event);
  const { envelopeId, accountId, envelopeSummary: summary } = message.data;
  const reported = summary?.status?.toLowerCase();
  const status = isEnvelopeStatus(reported) ? reported : fallback;
  const changedAt = new Date(summary?.statusChangedDateTime ?? message.generatedDateTime);

  const [row] = await tx
    .insert(signatureRequests)
    .values({
      envelopeId,
      integrationKey: event.integrationKey,
      accountId: accountId ?? null,
      status,
      statusRank: ENVELOPE_STATUS_RANK[status],
      lastEventId: event.eventId,
      statusChangedAt: changedAt,
    })
    .onConflictDoUpdate({
      target: signatureRequests.envelopeId,
      set: {
        status: sql`excluded.status`,
        statusRank: sql`excluded.status_rank`,
        accountId: sql`coalesce(excluded.account_id, ${signatureRequests.accountId})`,
        lastEventId: sql`excluded.last_event_id`,
        statusChangedAt: sql`excluded.status_changed_at`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${signatureRequests.statusRank} < excluded.status_rank`,
    })
    .returning({ status: signatureRequests.status });

  if (row) {
    const updated = signatureRequestUpdatedEvent({
      envelopeId,
      integrationKey: event.integrationKey,
      accountId: accountId ?? null,
      status: row.status,
      statusRank: ENVELOPE_STATUS_RANK[status],
      statusChangedAt: changedAt,
    });
    return { effect: 'applied', detail: `envelope ${envelopeId} is ${row.status}`, events: [updated] };
  }
  const [current] = await tx
    .select({ status: signatureRequests.status })
    .from(signatureRequests)
    .where(eq(signatureRequests.envelopeId, envelopeId));
  return {
    effect: 'stale',
    detail: `envelope ${envelopeId} is already ${current?.status ?? 'recorded'}; ${status} does not move it`,
  };
}
