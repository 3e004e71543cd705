import pino from 'pino';
import { migrate } from '../../src/db/migrate.ts';
import { type PgBoss, startBoss, stopBoss } from '../../src/jobs/boss.ts';
import { makeTestDatabase, type TestDatabase } from './database.ts';

export interface TestJobs extends TestDatabase {
  boss: PgBoss;
}

/** A migrated test database with pg-boss started on it; `dispose` stops pg-boss, then drops the database. */
export async function makeTestJobs(): Promise<TestJobs> {
  const t = await makeTestDatabase();
  await migrate(t.database);
  const boss = await startBoss(t.database, pino({ level: 'silent' }));
  return {
    ...t,
    boss,
    async dispose() {
      await stopBoss(boss, 1000);
      await t.dispose();
    },
  };
}
