import type { PgBoss } from '../jobs/boss.ts';
import { DEAD_QUEUE, PROCESS_QUEUE } from '../jobs/queues.ts';
import { FOLLOW_UP_QUEUES } from './sources/index.ts';

/**
 * Creates the queues webhook processing needs before its workers run: `webhooks.process` with
 * its retry policy, the dead-letter queue behind it, and every queue an effect's follow-up may
 * name (pg-boss refuses a send to a queue that does not exist, which would fail the event).
 */
export async function createProcessQueues(boss: PgBoss, maxAttempts: number): Promise<void> {
  await boss.createQueue(DEAD_QUEUE);
  for (const queue of FOLLOW_UP_QUEUES) await boss.createQueue(queue.name, queue.options);
  // No NOTIFY: a transaction that notifies takes a database-wide lock through its commit, which
  // would serialise every inbox write. The process that stores events wakes its own workers
  // (wake()); other processes find jobs at their next poll.
  const queueOptions = {
    retryLimit: maxAttempts - 1,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 600,
    heartbeatSeconds: 10,
    notify: false,
    deadLetter: DEAD_QUEUE,
  };
  await boss.createQueue(PROCESS_QUEUE, queueOptions);
  // A queue made by an earlier start keeps its options until told otherwise.
  await boss.updateQueue(PROCESS_QUEUE, queueOptions);
}
