import { and, eq, inArray, sql } from 'drizzle-orm';
import { fromDrizzle } from 'pg-boss';
import { recordAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { type WebhookEventRow, webhookEvents } from '../db/schema.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { applyWebhookEvent, FOLLOW_UP_QUEUES } from './effects/index.ts';
import { PROCESS_QUEUE } from './inbox-writer.ts';

/**
 * Processing the inbox, exactly once in effect.
 *
 * Row states: pending → processing → processed, or → failed (retried with
 * exponential backoff by pg-boss) → dead after `maxAttempts`. The domain
 * effect and the move to `processed` commit in ONE transaction that first
 * locks the row and skips it when already processed; so a duplicate job, a
 * replay or a worker that died mid-way (its transaction rolls back, pg-boss
 * hands the job out again after the heartbeat lapses) never applies an event
 * twice, and a handler that throws never loses one.
 */
export const DEAD_QUEUE = 'webhooks.dead';

export interface ProcessOptions {
  maxAttempts?: number;
  concurrency?: number;
  pollingIntervalSeconds?: number;
}

export async function startWebhookProcessing(
  boss: PgBoss,
  deps: { db: Db; logger: Logger; metrics: Metrics },
  options: ProcessOptions = {},
): Promise<{ processEvent: (id: string) => Promise<'processed' | 'failed' | 'dead' | 'skipped'> }> {
  const maxAttempts = options.maxAttempts ?? 8;
  await boss.createQueue(DEAD_QUEUE);
  for (const queue of FOLLOW_UP_QUEUES) await boss.createQueue(queue.name, queue.options);
  await boss.createQueue(PROCESS_QUEUE, {
    retryLimit: maxAttempts - 1,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 600,
    heartbeatSeconds: 10,
    notify: true,
    deadLetter: DEAD_QUEUE,
  });

  async function processEvent(id: string) {
    const [claimed] = await deps.db
      .update(webhookEvents)
      .set({ status: 'processing', attempts: sql`${webhookEvents.attempts} + 1`, updatedAt: new Date() })
      .where(
        and(eq(webhookEvents.id, id), inArray(webhookEvents.status, ['pending', 'failed', 'processing'])),
      )
      .returning();
    if (!claimed) return 'skipped' as const;
    try {
      const applied = await deps.db.transaction(async (tx) => {
        const [row] = await tx.select().from(webhookEvents).where(eq(webhookEvents.id, id)).for('update');
        if (!row || row.status === 'processed') return false;
        const result = await applyWebhookEvent(tx, {
          rowId: row.id,
          integrationKey: row.integrationKey,
          source: row.source as never,
          eventId: row.eventId,
          type: row.type,
          payload: row.payload,
        });
        for (const job of result.followUps ?? []) {
          await boss.send(job.queue, job.data, {
            singletonKey: job.singletonKey,
            ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
            db: fromDrizzle(tx as never, sql),
          });
        }
        await tx
          .update(webhookEvents)
          .set({ status: 'processed', processedAt: new Date(), lastError: null, updatedAt: new Date() })
          .where(eq(webhookEvents.id, id));
        return true;
      });
      if (applied) deps.metrics.webhooks.inc({ source: claimed.source, outcome: 'processed', reason: '' });
      return 'processed' as const;
    } catch (error) {
      return recordFailure(claimed, error);
    }
  }

  async function recordFailure(row: WebhookEventRow, error: unknown) {
    const dead = row.attempts >= maxAttempts;
    // Drizzle wraps database errors as "Failed query: <sql> params: <values>": keep only the
    // database's own words, so event data never lands in lastError or the log.
    const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = root instanceof Error ? root.message.slice(0, 500) : 'handler failed';
    await deps.db.transaction(async (tx) => {
      await tx
        .update(webhookEvents)
        .set({ status: dead ? 'dead' : 'failed', lastError: message, updatedAt: new Date() })
        .where(eq(webhookEvents.id, row.id));
      if (dead) {
        await recordAudit(tx, {
          actor: 'tether',
          action: 'webhook.dead',
          subjectType: 'webhook_event',
          subjectId: row.id,
          metadata: { source: row.source, type: row.type, attempts: row.attempts },
        });
      }
    });
    deps.metrics.webhooks.inc({ source: row.source, outcome: dead ? 'dead' : 'failed', reason: '' });
    deps.logger.warn(
      { eventRowId: row.id, source: row.source, type: row.type, attempts: row.attempts, dead },
      'webhook processing failed',
    );
    if (!dead) throw error; // pg-boss retries with backoff
    return 'dead' as const;
  }

  // Batches, fetched back to back while they come full, each job settled on its own: one event
  // failing retries that event alone.
  await boss.work<{ eventRowId: string }>(
    PROCESS_QUEUE,
    {
      batchSize: 16,
      perJobResults: true,
      burstWhenBatchFull: true,
      localConcurrency: options.concurrency ?? 2,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
    },
    async (jobs) => {
      const results = [];
      for (const job of jobs) {
        const outcome = await processEvent(job.data.eventRowId).catch(() => 'failed' as const);
        results.push({
          id: job.id,
          status: outcome === 'failed' ? ('failed' as const) : ('completed' as const),
        });
      }
      return results;
    },
  );
  return { processEvent };
}
