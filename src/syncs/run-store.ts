import { type Db, runStatement, statement } from '../db/client.ts';
import { makeId } from '../ids.ts';
import type { WriteCounts } from './records-store.ts';

/**
 * Sync runs and their one state machine:
 *
 *   running ──▶ succeeded | partial | failed        (finishRun, by the owner only)
 *
 * A run is created `running` with no owner (requestRun); a worker claims it (claimRun) with a
 * lease it renews with every committed page (recordPage). Every write after the claim is guarded
 * by `owner = me and status = 'running'`: a worker that lost its lease (it stalled past it and
 * another took over) changes nothing, and learns it from zero rows. A process that dies leaves
 * the run `running` with a lapsing lease; the next claim after the lease takes it over and
 * resumes from the checkpoint. The partial unique index keeps one running run per
 * (connection, sync) across all processes: a request while one runs gets that one (joins it).
 */

export type SyncRunStatus = 'running' | 'succeeded' | 'partial' | 'failed';
export const FINAL_STATUSES = ['succeeded', 'partial', 'failed'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export interface RunError {
  code: string;
  message: string;
}

export interface SyncRunRow {
  id: string;
  connection_id: string;
  sync_name: string;
  status: SyncRunStatus;
  trigger: string;
  imported: number;
  updated: number;
  unchanged: number;
  deleted: number;
  skipped: number;
  failed: number;
  pages: number;
  /** The record position the run's changes come after (see migration 0025); null for older runs. */
  records_from: string | number | bigint | null;
  owner: string | null;
  lease_until: Date | null;
  error: RunError | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface RunCounts extends WriteCounts {
  failed: number;
}

// records_from: the last record position handed out so far (0 before the first).
const CREATE = statement(`insert into sync_runs (id, connection_id, sync_name, status, trigger, records_from)
  values ($1, $2, $3, 'running', $4,
    (select case when is_called then last_value else 0 end from sync_record_positions))
  on conflict (connection_id, sync_name) where status = 'running' do nothing
  returning *`);
const RUNNING = statement(
  `select * from sync_runs where connection_id = $1 and sync_name = $2 and status = 'running'`,
);
const CLAIM =
  statement(`update sync_runs set owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000),
    started_at = coalesce(started_at, now()), updated_at = now()
  where id = $1 and status = 'running' and (owner is null or owner = $2 or lease_until < now())
  returning *`);
const PAGE = statement(`update sync_runs set imported = imported + $3, updated = updated + $4,
    unchanged = unchanged + $5, deleted = deleted + $6, skipped = skipped + $7, failed = failed + $8,
    pages = pages + 1, lease_until = now() + make_interval(secs => $9::float8 / 1000), updated_at = now()
  where id = $1 and owner = $2 and status = 'running'
  returning id`);
const FINISH = statement(`update sync_runs set status = $3, error = $4::jsonb, finished_at = now(),
    owner = null, lease_until = null, updated_at = now()
  where id = $1 and owner = $2 and status = 'running'
  returning *`);
const RELEASE = statement(`update sync_runs set owner = null, lease_until = null, updated_at = now()
  where id = $1 and owner = $2 and status = 'running'
  returning id`);
const BY_ID = statement('select * from sync_runs where id = $1');

/** The running run of (connection, sync): a new one, or the one already running (joined). */
export async function requestRun(
  db: Db,
  input: { connectionId: string; syncName: string; trigger: string },
): Promise<{ run: SyncRunRow; created: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [created] = await runStatement<SyncRunRow>(db, CREATE, [
      makeId('run'),
      input.connectionId,
      input.syncName,
      input.trigger,
    ]);
    if (created) return { run: created, created: true };
    const [running] = await runStatement<SyncRunRow>(db, RUNNING, [input.connectionId, input.syncName]);
    // It may have finished between the two statements: then try to create again.
    if (running) return { run: running, created: false };
  }
  throw new Error('could not create or find the running sync run');
}

/** A new running run of (connection, sync); undefined when one is running already. */
export async function createRun(
  db: Db,
  input: { connectionId: string; syncName: string; trigger: string },
): Promise<SyncRunRow | undefined> {
  return (
    await runStatement<SyncRunRow>(db, CREATE, [
      makeId('run'),
      input.connectionId,
      input.syncName,
      input.trigger,
    ])
  )[0];
}

export async function findRunningRun(
  db: Db,
  connectionId: string,
  syncName: string,
): Promise<SyncRunRow | undefined> {
  return (await runStatement<SyncRunRow>(db, RUNNING, [connectionId, syncName]))[0];
}

/** Takes the run for `owner` when nobody holds it (or the holder's lease lapsed). */
export async function claimRun(
  db: Db,
  runId: string,
  owner: string,
  leaseMs: number,
): Promise<SyncRunRow | undefined> {
  return (await runStatement<SyncRunRow>(db, CLAIM, [runId, owner, leaseMs]))[0];
}

/** Adds one committed page's counts and renews the lease; false when `owner` no longer holds the run. */
export async function recordPage(
  tx: Db,
  runId: string,
  owner: string,
  counts: RunCounts,
  leaseMs: number,
): Promise<boolean> {
  const rows = await runStatement(tx, PAGE, [
    runId,
    owner,
    counts.imported,
    counts.updated,
    counts.unchanged,
    counts.deleted,
    counts.skipped,
    counts.failed,
    leaseMs,
  ]);
  return rows.length === 1;
}

/** Moves the run to its final status; undefined when `owner` no longer holds it. */
export async function finishRun(
  tx: Db,
  runId: string,
  owner: string,
  outcome: { status: FinalStatus; error: RunError | null },
): Promise<SyncRunRow | undefined> {
  return (
    await runStatement<SyncRunRow>(tx, FINISH, [
      runId,
      owner,
      outcome.status,
      outcome.error ? JSON.stringify(outcome.error) : null,
    ])
  )[0];
}

/** Lets go of a run that stays `running` (its slice ended, or shutdown): the next claim resumes it. */
export async function releaseRun(db: Db, runId: string, owner: string): Promise<boolean> {
  return (await runStatement(db, RELEASE, [runId, owner])).length === 1;
}

export async function getRun(db: Db, runId: string): Promise<SyncRunRow | undefined> {
  return (await runStatement<SyncRunRow>(db, BY_ID, [runId]))[0];
}
