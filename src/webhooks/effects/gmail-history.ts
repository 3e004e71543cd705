import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { gmailMailboxes } from '../../db/schema.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE, type GmailMailboxSyncJob } from '../../jobs/queues.ts';
import { type EffectResult, type FollowUp, ignored, parsePayload, type WebhookEffectInput } from './types.ts';

/**
 * Gmail push notifications (Pub/Sub, verified upstream) move the mailbox's stored historyId
 * forward only, by compare-and-set in one statement:
 *
 *   INSERT … ON CONFLICT (email_address) DO UPDATE … WHERE gmail_mailboxes.history_id < excluded.history_id
 *
 * history_id is numeric(20,0) and compared as a number in SQL: ids above 2^53 (which JavaScript
 * numbers cannot hold) and ids of different lengths ("999" < "1000") compare right. Pub/Sub
 * redelivers and reorders, so an older or equal historyId is `stale` and starts nothing; a newer
 * one (or a first sighting) is `applied` and asks for one mailbox sync.
 */

/** How long a sync waits after the first notification of a burst. */
export const GMAIL_SYNC_DEBOUNCE_SECONDS = 10;

export type GmailMailboxSyncFollowUp = FollowUp<typeof GMAIL_MAILBOX_SYNC_QUEUE, GmailMailboxSyncJob>;

export const GMAIL_EFFECT_TYPES = ['gmail.notification'];

const Notification = z.looseObject({
  emailAddress: z.string().min(3).max(320),
  historyId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a decimal string of at most 20 digits')
    .transform((id) => id.replace(/^0+(?=\d)/, '')),
  messageId: z.string().optional(),
});

export async function applyGmailNotification(tx: Db, event: WebhookEffectInput): Promise<EffectResult> {
  if (!GMAIL_EFFECT_TYPES.includes(event.type)) return ignored(event);
  const { emailAddress, historyId, messageId } = parsePayload(Notification, event);

  const [moved] = await tx
    .insert(gmailMailboxes)
    .values({
      emailAddress,
      integrationKey: event.integrationKey,
      historyId,
      lastMessageId: messageId ?? event.eventId,
    })
    .onConflictDoUpdate({
      target: gmailMailboxes.emailAddress,
      set: {
        historyId: sql`excluded.history_id`,
        lastMessageId: sql`excluded.last_message_id`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${gmailMailboxes.historyId} < excluded.history_id`,
    })
    .returning({ emailAddress: gmailMailboxes.emailAddress });

  if (!moved) {
    const [current] = await tx
      .select({ historyId: gmailMailboxes.historyId })
      .from(gmailMailboxes)
      .where(eq(gmailMailboxes.emailAddress, emailAddress));
    return {
      effect: 'stale',
      detail: `mailbox ${emailAddress} is at history ${current?.historyId ?? '?'}; ${historyId} is not newer`,
    };
  }
  const followUp: GmailMailboxSyncFollowUp = {
    queue: GMAIL_MAILBOX_SYNC_QUEUE,
    data: { integrationKey: event.integrationKey, emailAddress, historyId },
    singletonKey: emailAddress,
    startAfterSeconds: GMAIL_SYNC_DEBOUNCE_SECONDS,
  };
  return {
    effect: 'applied',
    detail: `mailbox ${emailAddress} moved to history ${historyId}`,
    followUps: [followUp],
  };
}
