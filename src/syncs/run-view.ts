import { and, desc, eq, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { type Keyset, type PageRequest, tablePage } from '../db/keyset.ts';
import { type SyncRunDbRow, syncFailedRecords, syncRuns } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { SyncRunRow } from './run-store.ts';

// Sync runs as the API shows them, and the queries behind /v1/sync-runs.

const STATUSES = ['running', 'succeeded', 'partial', 'failed'] as const;
export const SyncRunStatus = z.enum(STATUSES);

const ErrorView = z.object({ code: z.string(), message: z.string() });

export const SyncRunView = z.object({
  id: z.string(),
  connectionId: z.string(),
  sync: z.string(),
  status: SyncRunStatus,
  trigger: z.string().describe('What asked for the run: api, schedule, push, reset'),
  counts: z.object({
    imported: z.number().describe('Records new to the store'),
    updated: z.number().describe('Stored records whose content changed'),
    unchanged: z.number().describe('Records fetched again with the same content'),
    deleted: z.number().describe('Records turned into tombstones'),
    skipped: z.number().describe('Changes older than the stored version, not applied'),
    failed: z.number().describe('Records that could not be mapped or stored (see failed records)'),
  }),
  pages: z.number().describe('Provider pages committed so far (a progress measure while running)'),
  error: ErrorView.nullable().describe('Why the run failed (status failed)'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type SyncRunView = z.infer<typeof SyncRunView>;

export const FailedRecordView = z.object({
  model: z.string(),
  id: z.string().describe("The record's id at the provider"),
  error: ErrorView,
  attempts: z.number().describe('Runs that failed to store it'),
  lastRunId: z.string().nullable(),
  firstFailedAt: z.string(),
  lastFailedAt: z.string(),
});
export type FailedRecordView = z.infer<typeof FailedRecordView>;

const iso = (at: Date | string | null) => (at === null ? null : new Date(at).toISOString());

/** Either form of a run row: the runner's (snake_case SQL) or Drizzle's. */
export function toRunView(run: SyncRunRow | SyncRunDbRow): SyncRunView {
  const r = 'sync_name' in run ? fromSql(run) : run;
  return {
    id: r.id,
    connectionId: r.connectionId,
    sync: r.syncName,
    status: r.status,
    trigger: r.trigger,
    counts: {
      imported: r.imported,
      updated: r.updated,
      unchanged: r.unchanged,
      deleted: r.deleted,
      skipped: r.skipped,
      failed: r.failed,
    },
    pages: r.pages,
    error: r.error ?? null,
    createdAt: iso(r.createdAt)!,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
  };
}

function fromSql(run: SyncRunRow) {
  return {
    ...run,
    connectionId: run.connection_id,
    syncName: run.sync_name,
    createdAt: run.created_at,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
  };
}

// Run ids sort by creation time (src/ids.ts), so the id alone orders the list.
const runsNewestFirst: Keyset = {
  list: 'sync-runs',
  direction: 'desc',
  keys: [{ column: syncRuns.id, kind: 'text' }],
};

export async function listRuns(
  db: Db,
  query: PageRequest & { connectionId?: string; sync?: string; status?: SyncRunView['status'] },
): Promise<{ items: SyncRunView[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (query.connectionId) where.push(eq(syncRuns.connectionId, query.connectionId));
  if (query.sync) where.push(eq(syncRuns.syncName, query.sync));
  if (query.status) where.push(eq(syncRuns.status, query.status));
  const { rows, nextCursor } = await tablePage(db, syncRuns, runsNewestFirst, query, where);
  return { items: rows.map(toRunView), nextCursor };
}

export async function getRunView(db: Db, id: string): Promise<SyncRunView> {
  const [row] = await db.select().from(syncRuns).where(eq(syncRuns.id, id));
  if (!row) throw new AppError('not_found', `No sync run with id "${id}".`);
  return toRunView(row);
}

/** The latest run of each of the connection's syncs, by sync name. */
export async function latestRuns(
  db: Db,
  connectionId: string,
  syncNames: readonly string[],
): Promise<Map<string, SyncRunView>> {
  const latest = new Map<string, SyncRunView>();
  for (const name of syncNames) {
    const [row] = await db
      .select()
      .from(syncRuns)
      .where(and(eq(syncRuns.connectionId, connectionId), eq(syncRuns.syncName, name)))
      .orderBy(desc(syncRuns.id))
      .limit(1);
    if (row) latest.set(name, toRunView(row));
  }
  return latest;
}

type FailedRow = typeof syncFailedRecords.$inferSelect;

export function toFailedRecordView(row: FailedRow): FailedRecordView {
  return {
    model: row.model,
    id: row.externalId,
    error: row.error,
    attempts: row.attempts,
    lastRunId: row.lastRunId,
    firstFailedAt: row.firstFailedAt.toISOString(),
    lastFailedAt: row.lastFailedAt.toISOString(),
  };
}

/** Records still failing whose latest failure was in this run, a few of them. */
export async function failedSample(db: Db, runId: string, limit: number): Promise<FailedRecordView[]> {
  const rows = await db
    .select()
    .from(syncFailedRecords)
    .where(eq(syncFailedRecords.lastRunId, runId))
    .orderBy(syncFailedRecords.model, syncFailedRecords.externalId)
    .limit(limit);
  return rows.map(toFailedRecordView);
}

const failedByRecord: Keyset = {
  list: 'failed-records',
  direction: 'asc',
  keys: [
    { column: syncFailedRecords.model, kind: 'text' },
    { column: syncFailedRecords.externalId, kind: 'text' },
  ],
};

export async function listFailedRecords(
  db: Db,
  pair: { connectionId: string; syncName: string },
  request: PageRequest,
): Promise<{ items: FailedRecordView[]; nextCursor: string | null }> {
  const { rows, nextCursor } = await tablePage(db, syncFailedRecords, failedByRecord, request, [
    eq(syncFailedRecords.connectionId, pair.connectionId),
    eq(syncFailedRecords.syncName, pair.syncName),
  ]);
  return { items: rows.map(toFailedRecordView), nextCursor };
}
