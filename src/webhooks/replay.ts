import { and, eq, inArray } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { type WebhookEventRow, webhookEvents } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { jobsIn, type PgBoss } from '../jobs/boss.ts';
import { PROCESS_QUEUE, type ProcessJob } from '../jobs/queues.ts';
import { EVENT_MOVES } from './event-status.ts';

export interface ReplayDeps {
  db: Db;
  boss: PgBoss;
  /** The clock (runtime.now()). */
  now: () => Date;
}

/**
 * Runs an inbox event through processing again: back to `pending` with its attempts reset, a
 * `webhooks.process` job naming it and a `webhook.replayed` audit entry, in one transaction, so
 * the event is never reset without being scheduled. Safe at any time: effects are forward-only,
 * and a worker still holding the old claim finds a new attempt count and changes nothing.
 */
export async function replayWebhookEvent(
  deps: ReplayDeps,
  id: string,
  actor: string,
): Promise<WebhookEventRow> {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(webhookEvents).where(eq(webhookEvents.id, id));
    if (!row) throw eventNotFound(id);
    const [next] = await tx
      .update(webhookEvents)
      .set({ status: 'pending', attempts: 0, lastError: null, updatedAt: deps.now() })
      .where(and(eq(webhookEvents.id, row.id), inArray(webhookEvents.status, [...EVENT_MOVES.pending])))
      .returning();
    // Pruned by retention between the read and the update.
    if (!next) throw eventNotFound(id);
    const job: ProcessJob = { eventRowIds: [row.id] };
    await deps.boss.send(PROCESS_QUEUE, job, { db: jobsIn(tx) });
    await recordAudit(tx, {
      actor,
      action: 'webhook.replayed',
      subjectType: 'webhook_event',
      subjectId: row.id,
      metadata: { previousStatus: row.status },
    });
    return next;
  });
}

export function eventNotFound(id: string): AppError {
  return new AppError('not_found', `No event with id "${id}".`);
}
