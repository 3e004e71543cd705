import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { DEAD_QUEUE, type ProcessJob, processJobEventIds } from '../jobs/queues.ts';
import { EVENT_MOVES, type SeenEvent } from './event-status.ts';
import type { ProcessFailures } from './process-failures.ts';

/**
 * pg-boss gave up on these process jobs (their worker died or timed out on every attempt): what
 * they still hold open is dead, where an operator sees it and can replay it.
 */
export async function workDeadLetters(
  boss: PgBoss,
  deps: { db: Db; failures: Pick<ProcessFailures, 'markDead'> },
): Promise<void> {
  await boss.work<ProcessJob>(DEAD_QUEUE, { batchSize: 8 }, async (jobs) => {
    const ids = jobs.flatMap((job) => processJobEventIds(job.data));
    const open = rowsOf<SeenEvent>(
      await deps.db.execute(sql`
        select id, source, type, attempts from webhook_events
        where id = any(${sql.param(ids)}::text[]) and status = any(${sql.param(EVENT_MOVES.dead)}::text[])`),
    );
    if (open.length > 0) {
      await deps.failures.markDead(
        open,
        'Processing did not finish on any attempt (the worker stopped or timed out).',
      );
    }
  });
}
