import { type Db, runStatement, statement } from '../db/client.ts';

// One checkpoint per (connection, sync): what the sync needs to carry on where it stopped (a page
// token, a history id). Saved in the same transaction as the page it follows.

const LOAD = statement('select checkpoint from sync_checkpoints where connection_id = $1 and sync_name = $2');
const SAVE =
  statement(`insert into sync_checkpoints (connection_id, sync_name, checkpoint) values ($1, $2, $3::jsonb)
  on conflict (connection_id, sync_name) do update set checkpoint = excluded.checkpoint, updated_at = now()`);
const FORGET = statement('delete from sync_checkpoints where connection_id = $1 and sync_name = $2');

export async function loadCheckpoint(db: Db, connectionId: string, syncName: string): Promise<unknown> {
  const [row] = await runStatement<{ checkpoint: unknown }>(db, LOAD, [connectionId, syncName]);
  return row?.checkpoint ?? null;
}

export async function saveCheckpoint(
  tx: Db,
  connectionId: string,
  syncName: string,
  checkpoint: unknown,
): Promise<void> {
  await runStatement(tx, SAVE, [connectionId, syncName, JSON.stringify(checkpoint)]);
}

export async function forgetCheckpoint(db: Db, connectionId: string, syncName: string): Promise<void> {
  await runStatement(db, FORGET, [connectionId, syncName]);
}
