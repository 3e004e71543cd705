import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { DeliverJob } from './deliver-queue.ts';

/**
 * The repair sweep: a pending delivery must always have a job that will move it. Two ways one
 * could be left without (besides pg-boss's own expiry and retry, which cover most):
 *
 *   stranded  its attempt was claimed by a worker that died: queued again for when the claim
 *             lapses (the one place an attempt may be sent twice: it was never acknowledged);
 *   overdue   its next attempt is long past and nothing took it (a job lost to an operator's
 *             purge, or written before any delivery worker captured the job insert).
 *
 * It runs at start (so a restarted process picks up what its predecessor held) and every minute
 * on pg-boss's cron. A job it queues for a delivery that still has one is harmless: each job claims
 * only the attempt it names, so the second finds it made.
 */
export const SWEEP_QUEUE = 'events.sweep';
const OVERDUE_MS = 5 * 60_000;
const BATCH = 500;

interface Row {
  id: string;
  subscription_id: string;
  attempts: number;
  claim_token: string | null;
  claimed_until: Date | string | null;
}

export async function startRepairSweep(
  boss: PgBoss,
  deps: { db: Db; logger: Logger; now: () => Date },
  actions: {
    queueAttempt(tx: Db, job: DeliverJob & { subscriptionId: string }, startAfter?: Date): Promise<void>;
  },
): Promise<() => Promise<number>> {
  async function sweep(includeLiveClaims: boolean): Promise<number> {
    const now = deps.now();
    const overdueBefore = new Date(now.getTime() - OVERDUE_MS).toISOString();
    const rows = rowsOf<Row>(
      await deps.db.execute(sql`
        select id, subscription_id, attempts, claim_token, claimed_until from event_deliveries
        where status = 'pending' and (
          (claim_token is not null and (${includeLiveClaims} or claimed_until < ${now.toISOString()}::timestamptz))
          or (claim_token is null and next_attempt_at < ${overdueBefore}::timestamptz))
        order by next_attempt_at nulls first
        limit ${BATCH}`),
    );
    if (rows.length === 0) return 0;
    await deps.db.transaction(async (tx) => {
      for (const row of rows) {
        const claimed = row.claim_token !== null;
        const lapses = claimed && row.claimed_until ? new Date(row.claimed_until) : null;
        await actions.queueAttempt(
          tx,
          {
            deliveryId: row.id,
            attempt: claimed ? row.attempts : row.attempts + 1,
            subscriptionId: row.subscription_id,
          },
          lapses && lapses > now
            ? new Date(Date.now() + (lapses.getTime() - now.getTime()) + 500)
            : undefined,
        );
      }
    });
    deps.logger.info({ deliveries: rows.length }, 'event deliveries queued again by the repair sweep');
    return rows.length;
  }

  await boss.createQueue(SWEEP_QUEUE, { policy: 'singleton' });
  await boss.work(SWEEP_QUEUE, async () => {
    await sweep(false);
  });
  await boss.schedule(SWEEP_QUEUE, '* * * * *');
  await sweep(true).catch((error: unknown) =>
    deps.logger.error({ err: error }, 'event delivery repair sweep failed at start'),
  );
  return () => sweep(false);
}
