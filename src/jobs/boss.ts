import { fromPglite, PgBoss } from 'pg-boss';
import { type Database, type Db, runStatement, statement } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export type { PgBoss };

/**
 * pg-boss on whichever database tether runs on: on PostgreSQL it keeps its
 * own small pool (LISTEN/NOTIFY wakes workers at once); on the embedded
 * default it shares the one PGlite client. Queues are named
 * `<capability>.<verb>` (connections.refresh, webhooks.process, syncs.run).
 */
export async function startBoss(database: Database, logger: Logger): Promise<PgBoss> {
  const boss = database.pglite
    ? new PgBoss({ db: fromPglite(database.pglite), backend: 'pglite' })
    : new PgBoss({
        connectionString: database.url,
        max: 4,
        useListenNotify: true,
        application_name: 'tether-jobs',
      });
  boss.on('error', (error: unknown) => logger.error({ err: error }, 'job queue error'));
  await boss.start();
  return boss;
}

/** Stops fetching new jobs, waits (bounded) for running ones, then lets go of the database. */
export async function stopBoss(boss: PgBoss, timeoutMs: number): Promise<void> {
  await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
}

/**
 * pg-boss inside one of our drizzle transactions, so a job is inserted atomically with the rows it
 * is about (what `fromDrizzle` does), its statements named: pg-boss's insert is a large statement
 * that PostgreSQL would otherwise parse and plan on every call.
 */
export function jobsIn(tx: Db): {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
} {
  return {
    executeSql: async (text, values = []) => ({ rows: await runStatement(tx, statement(text), values) }),
  };
}

/** pg-boss's statement inserting jobs into one queue, as text a larger statement can hold. */
export interface JobInsert {
  /** One INSERT, reading its JSON array of jobs from `$1`, which occurs once. */
  text: string;
  /** pg-boss's payload for one job with no data, to set the data into. */
  job: Record<string, unknown>;
}

/**
 * Asks pg-boss to insert one job into `queue` through a connection that only records what it is
 * asked to run, and returns that statement: so a caller can run it inside one of its own (webhook
 * ingest stores its events and their job in one round trip) while pg-boss still writes its job
 * rows its own way and reads the queue's settings itself. Null when pg-boss's insert is not the one
 * statement this expects (another pg-boss version may differ): the caller then uses `boss.insert`.
 */
export async function captureJobInsert(boss: PgBoss, queue: string): Promise<JobInsert | null> {
  const calls: { text: string; values: unknown[] }[] = [];
  const recorder = {
    executeSql: async (text: string, values: unknown[] = []) => {
      calls.push({ text, values });
      return { rows: [] };
    },
  };
  await boss.insert(queue, [{ data: {} }], { db: recorder });
  const [call] = calls;
  if (calls.length !== 1 || !call || call.values.length !== 1 || typeof call.values[0] !== 'string')
    return null;
  const { text } = call;
  const placeholders = text.match(/\$\d+/g) ?? [];
  if (!/^\s*insert\s/i.test(text) || placeholders.length !== 1 || placeholders[0] !== '$1') return null;
  const jobs: unknown = JSON.parse(call.values[0]);
  if (!Array.isArray(jobs) || jobs.length !== 1) return null;
  const [job] = jobs as unknown[];
  // A job id fixed in the payload would make every later insert conflict and vanish.
  if (typeof job !== 'object' || job === null || (job as { id?: unknown }).id != null) return null;
  return { text, job: job as Record<string, unknown> };
}
