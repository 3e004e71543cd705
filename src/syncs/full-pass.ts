import { type Db, runStatement, statement } from '../db/client.ts';

// Delete detection by a complete full pass: every record a pass sees is marked with the pass's
// id; when the pass completes, the live records it did not see become tombstones (each with a new
// change position, under the same lock as any other write: see records-store.ts).

const MARK = statement(`update sync_records set seen_pass = $3
  where connection_id = $1 and model = $2 and external_id = any($4::text[]) and seen_pass is distinct from $3`);
const LOCK = statement('select pg_advisory_xact_lock(hashtextextended($1, 0))');
const SWEEP =
  statement(`update sync_records set last_action = 'deleted', deleted_at = now(), last_modified_at = now(),
    change_position = nextval('sync_record_positions')
  where connection_id = $1 and model = $2 and deleted_at is null and seen_pass is distinct from $3
  returning external_id`);

export async function markSeen(
  tx: Db,
  target: { connectionId: string; model: string },
  passId: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await runStatement(tx, MARK, [target.connectionId, target.model, passId, ids]);
}

/** Tombstones the live records the completed pass did not see; answers how many. */
export async function sweepUnseen(
  tx: Db,
  target: { connectionId: string; model: string },
  passId: string,
): Promise<number> {
  await runStatement(tx, LOCK, [`${target.connectionId}/${target.model}`]);
  return (await runStatement(tx, SWEEP, [target.connectionId, target.model, passId])).length;
}
