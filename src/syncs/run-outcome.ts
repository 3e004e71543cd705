import type { Db } from '../db/client.ts';
import { emitSyncFinished } from '../events/state-events.ts';
import type { Logger } from '../logger.ts';
import { type FinalStatus, finishRun, type RunError, type SyncRunRow } from './run-store.ts';

/**
 * Where a run's outcome is committed: the one place a run leaves `running`. The outbound events
 * (`sync.completed`, `sync.failed`, with the counts and the records cursor) hook in here, inside
 * the same transaction, so an event is announced exactly when the outcome is stored.
 */
export async function commitRunOutcome(
  db: Db,
  logger: Logger,
  run: { id: string; owner: string },
  outcome: { status: FinalStatus; error: RunError | null },
): Promise<SyncRunRow | undefined> {
  const finished = await db.transaction(async (tx) => {
    const row = await finishRun(tx, run.id, run.owner, outcome);
    if (row) await emitSyncFinished(tx, row);
    return row;
  });
  if (!finished) {
    logger.warn({ runId: run.id }, 'sync run was taken over before it finished; outcome not recorded');
    return undefined;
  }
  logger.info(
    {
      runId: finished.id,
      connectionId: finished.connection_id,
      sync: finished.sync_name,
      status: finished.status,
      imported: finished.imported,
      updated: finished.updated,
      deleted: finished.deleted,
      failed: finished.failed,
      error: finished.error?.code,
    },
    'sync run finished',
  );
  return finished;
}
