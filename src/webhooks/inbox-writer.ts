import { type Database, runStatement, type Statement, statement } from '../db/client.ts';
import { makeId } from '../ids.ts';
import { captureJobInsert, type JobInsert, jobsIn, type PgBoss } from '../jobs/boss.ts';
import { PROCESS_QUEUE, type ProcessJob } from '../jobs/queues.ts';
import type { Metrics } from '../metrics.ts';

/**
 * The inbox write, with group commit.
 *
 * Each verified delivery becomes one row keyed uniquely by (integration,
 * event id), inserted with ON CONFLICT DO NOTHING RETURNING, and the job that
 * processes the rows a transaction stored is inserted in that same
 * transaction, by pg-boss's own statement held inside ours (one statement is
 * one transaction): an event is never stored without being scheduled, nor
 * scheduled without being stored.
 *
 * Batching: at most `maxInFlight` transactions are open at once; deliveries
 * that arrive meanwhile wait and go together (up to `maxBatch`) in the next
 * one, as one multi-row statement and one commit. So an idle tether writes a
 * delivery at once, and a busy one writes bigger batches, each bounded in
 * time by one commit. Every request still waits for its own row's commit
 * before it is answered. A failed transaction stores none of its rows: when
 * the database refused a row, the rows are written again one by one, so only
 * that delivery fails; otherwise every request in it fails (a 503, so the
 * sender delivers again).
 */
export interface InboxEntry {
  integrationKey: string;
  source: string;
  eventId: string;
  type: string;
  payload: unknown;
}

export interface InboxResult {
  /** tether's id of the inbox row (the existing one for a duplicate is not looked up). */
  id: string | null;
  duplicate: boolean;
}

interface Pending {
  entry: InboxEntry;
  id: string;
  resolve: (result: InboxResult) => void;
  reject: (error: unknown) => void;
}

export interface InboxWriter {
  write(entry: InboxEntry): Promise<InboxResult>;
  /** True while deliveries are coming in (one was written in the last 100 ms). */
  receiving(): boolean;
}

export interface InboxWriterOptions {
  /** Rows per transaction at most (default 256). */
  maxBatch?: number;
  /** Transactions open at once (default 2 on PostgreSQL; PGlite runs one at a time anyway). */
  maxInFlight?: number;
  /**
   * Store the events and their job in one statement, pg-boss's insert held inside ours (default);
   * false: in a transaction of separate statements, as when pg-boss's insert cannot be captured.
   */
  singleStatement?: boolean;
  /** Called after each commit that stored new events: wakes this process's workers. */
  onStored?: () => void;
  /** The clock `receiving()` reads (tests drive it). */
  now?: () => number;
}

/** How long after the last delivery the writer still counts as receiving. */
const RECEIVING_WINDOW_MS = 100;

const INSERT_EVENTS_TEXT = `
  insert into webhook_events (id, integration_key, source, event_id, type, payload, status)
  select id, integration_key, source, event_id, type, payload, 'pending'
  from json_to_recordset($1::json)
    as e(id text, integration_key text, source text, event_id text, type text, payload jsonb)
  on conflict (integration_key, event_id) do nothing
  returning id`;
const INSERT_EVENTS = statement(INSERT_EVENTS_TEXT);

/**
 * The events and their job in one statement, so one round trip instead of four (begin, events,
 * job, commit): under load each round trip waits its turn on a busy event loop, and the batch's
 * requests wait for all of them. The job (a ProcessJob) names the rows the statement stored,
 * built from their ids in SQL; when every delivery was a duplicate, the job list is empty and no
 * job is inserted. `$2` is pg-boss's payload for one job, into which the data goes.
 */
function storeAndSchedule(jobInsert: JobInsert): Statement {
  const jobs = `(select case when count(*) = 0 then '[]'::jsonb
    else jsonb_build_array(jsonb_set($2::jsonb, '{data}', jsonb_build_object('eventRowIds', jsonb_agg(id)))) end
    from stored)`;
  return statement(`
  with stored as (${INSERT_EVENTS_TEXT}),
  scheduled as (${jobInsert.text.replace('$1', () => jobs)})
  select id from stored`);
}

/**
 * A refusal that one row can cause (SQLSTATE class 22, data exception, or 23, integrity
 * violation), as opposed to the database being unreachable or the transaction failing as a whole.
 */
function isRowFault(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}

export function makeInboxWriter(
  deps: { database: Database; boss: PgBoss; metrics: Metrics },
  options: InboxWriterOptions = {},
): InboxWriter {
  const maxBatch = options.maxBatch ?? 256;
  const maxInFlight = options.maxInFlight ?? (deps.database.kind === 'pglite' ? 1 : 2);
  let waiting: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  const now = options.now ?? Date.now;

  // Deferred to the end of this turn of the event loop, so deliveries parsed together go together.
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  function pump(): void {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.length <= maxBatch ? waiting : waiting.slice(0, maxBatch);
      waiting = batch === waiting ? [] : waiting.slice(maxBatch);
      inFlight += 1;
      deps.metrics.inboxBatch.observe(batch.length);
      write(batch).finally(() => {
        inFlight -= 1;
        if (waiting.length > 0) schedule();
      });
    }
  }

  /** Commits a batch and settles its requests; never rejects. */
  async function write(batch: Pending[]): Promise<void> {
    let inserted: Set<string>;
    try {
      inserted = await commit(batch);
    } catch (error) {
      if (batch.length === 1 || !isRowFault(error)) {
        for (const item of batch) item.reject(error);
        return;
      }
      // The database refused one of the rows: each alone, so only that delivery fails.
      for (const item of batch) await write([item]);
      return;
    }
    for (const item of batch) {
      const stored = inserted.has(item.id);
      item.resolve({ id: stored ? item.id : null, duplicate: !stored });
    }
    if (inserted.size > 0) options.onStored?.();
  }

  // pg-boss's job insert, captured at the first write; null when it cannot be held in one statement.
  let oneStatement: Promise<{ statement: Statement; job: string } | null> | undefined;
  function storeAndScheduleStatement() {
    if (options.singleStatement === false) return null;
    oneStatement ??= captureJobInsert(deps.boss, PROCESS_QUEUE).then(
      (jobInsert) =>
        jobInsert && { statement: storeAndSchedule(jobInsert), job: JSON.stringify(jobInsert.job) },
      (error: unknown) => {
        oneStatement = undefined; // asked again at the next write
        throw error;
      },
    );
    return oneStatement;
  }

  async function commit(batch: Pending[]): Promise<Set<string>> {
    const rows = JSON.stringify(
      batch.map(({ entry, id }) => ({
        id,
        integration_key: entry.integrationKey,
        source: entry.source,
        event_id: entry.eventId,
        type: entry.type,
        payload: entry.payload,
      })),
    );
    const single = await storeAndScheduleStatement();
    if (single) {
      const inserted = await runStatement<{ id: string }>(deps.database.db, single.statement, [
        rows,
        single.job,
      ]);
      return new Set(inserted.map((row) => row.id));
    }
    return deps.database.db.transaction(async (tx) => {
      const inserted = await runStatement<{ id: string }>(tx, INSERT_EVENTS, [rows]);
      if (inserted.length > 0) {
        const job: ProcessJob = { eventRowIds: inserted.map((row) => row.id) };
        await deps.boss.insert(PROCESS_QUEUE, [{ data: job }], { db: jobsIn(tx) });
      }
      return new Set(inserted.map((row) => row.id));
    });
  }

  return {
    receiving: () => now() - lastWriteAt < RECEIVING_WINDOW_MS,
    write(entry) {
      return new Promise<InboxResult>((resolve, reject) => {
        waiting.push({ entry, id: makeId('wev'), resolve, reject });
        lastWriteAt = now();
        schedule();
      });
    },
  };
}
