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
