import type { Db } from '../db/client.ts';
import { jobsIn, type PgBoss } from '../jobs/boss.ts';
import type { FollowUp } from './effects/types.ts';

/**
 * Sends an effect's follow-up jobs inside `tx`, the transaction that applied the effect: the jobs
 * exist exactly when the effect committed.
 */
export async function sendFollowUps(boss: PgBoss, tx: Db, followUps: readonly FollowUp[]): Promise<void> {
  for (const job of followUps) {
    await boss.send(job.queue, job.data, {
      singletonKey: job.singletonKey,
      ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
      db: jobsIn(tx),
    });
  }
}
