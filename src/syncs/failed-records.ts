import { type Db, runStatement, statement } from '../db/client.ts';
import type { RunError } from './run-store.ts';

// Records a run could not map or store, with their error. The next run of the sync fetches them
// again by id; one that then stores (or turns out deleted) leaves the list.

export interface FailedRecord {
  model: string;
  externalId: string;
  error: RunError;
  attempts: number;
  lastRunId: string | null;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

interface Row {
  model: string;
  external_id: string;
  error: RunError;
  attempts: number;
  last_run_id: string | null;
  first_failed_at: Date;
  last_failed_at: Date;
}

const RECORD =
  statement(`insert into sync_failed_records (connection_id, sync_name, model, external_id, error, last_run_id)
  select $1, $2, x.model, x.external_id, x.error, $3
  from jsonb_to_recordset($4::jsonb) as x(model text, external_id text, error jsonb)
  on conflict (connection_id, sync_name, model, external_id) do update set error = excluded.error,
    attempts = sync_failed_records.attempts + 1, last_run_id = excluded.last_run_id, last_failed_at = now()`);
const CLEAR = statement(`delete from sync_failed_records
  where connection_id = $1 and sync_name = $2 and model = $3 and external_id = any($4::text[])`);
const LIST =
  statement(`select model, external_id, error, attempts, last_run_id, first_failed_at, last_failed_at
  from sync_failed_records where connection_id = $1 and sync_name = $2 and (model, external_id) > ($3, $4)
  order by model, external_id limit $5`);

export async function recordFailures(
  tx: Db,
  target: { connectionId: string; syncName: string; runId: string },
  failures: readonly { model: string; externalId: string; error: RunError }[],
): Promise<void> {
  if (failures.length === 0) return;
  const rows = failures.map((f) => ({ model: f.model, external_id: f.externalId, error: f.error }));
  await runStatement(tx, RECORD, [target.connectionId, target.syncName, target.runId, JSON.stringify(rows)]);
}

export async function clearFailures(
  tx: Db,
  target: { connectionId: string; syncName: string },
  model: string,
  externalIds: readonly string[],
): Promise<void> {
  if (externalIds.length === 0) return;
  await runStatement(tx, CLEAR, [target.connectionId, target.syncName, model, externalIds]);
}

/** Failed records in (model, id) order, after the given position. */
export async function listFailures(
  db: Db,
  target: { connectionId: string; syncName: string },
  page: { after?: { model: string; externalId: string }; limit: number },
): Promise<FailedRecord[]> {
  const rows = await runStatement<Row>(db, LIST, [
    target.connectionId,
    target.syncName,
    page.after?.model ?? '',
    page.after?.externalId ?? '',
    page.limit,
  ]);
  return rows.map((r) => ({
    model: r.model,
    externalId: r.external_id,
    error: r.error,
    attempts: r.attempts,
    lastRunId: r.last_run_id,
    firstFailedAt: new Date(r.first_failed_at),
    lastFailedAt: new Date(r.last_failed_at),
  }));
}
