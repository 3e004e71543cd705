import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestJobs, type TestJobs } from '../../test/harness/jobs.ts';
import { runStatement, statement } from '../db/client.ts';
import { captureJobInsert, type PgBoss } from './boss.ts';

describe('captureJobInsert', () => {
  let t: TestJobs;
  let boss: PgBoss;
  beforeAll(async () => {
    t = await makeTestJobs();
    boss = t.boss;
    await boss.createQueue('capture.test', { retryLimit: 4 });
  });
  afterAll(() => t.dispose());

  it("captures pg-boss's insert, which then inserts jobs pg-boss fetches with the queue's settings", async () => {
    const captured = await captureJobInsert(boss, 'capture.test');
    expect(captured).not.toBeNull();
    expect(captured!.job).not.toHaveProperty('id');
    const payload = JSON.stringify([{ ...captured!.job, data: { n: 1 } }]);
    await runStatement(t.database.db, statement(captured!.text), [payload]);
    const [fetched, ...others] = await boss.fetch('capture.test', { batchSize: 10 });
    expect(others).toEqual([]);
    expect(fetched!.data).toEqual({ n: 1 });
    const [row] = await t.database.withSession((s) =>
      s.query<{ retry_limit: number }>('select retry_limit from pgboss.job where id = $1', [fetched!.id]),
    );
    expect(row!.retry_limit).toBe(4);
  });

  // What another pg-boss version might do: each answer is null, and the caller uses boss.insert.
  const bossRunning = (...calls: [string, unknown[]][]) =>
    ({
      insert: async (
        _queue: string,
        _jobs: unknown[],
        options: { db: { executeSql: (text: string, values: unknown[]) => Promise<unknown> } },
      ) => {
        for (const [text, values] of calls) await options.db.executeSql(text, values);
        return null;
      },
    }) as unknown as PgBoss;

  it.each([
    [
      'two statements',
      bossRunning(['insert into j select 1 from json_to_recordset($1)', ['[{}]']], ['select 1', []]),
    ],
    ['not an insert', bossRunning(['with x as (select 1) insert into j select $1', ['[{}]']])],
    ['a second parameter', bossRunning(['insert into j select $1, $2', ['[{}]', 'x']])],
    [
      'a fixed job id',
      bossRunning(['insert into j select $1', ['[{"id":"0b6f7a6c-0000-4000-8000-000000000000"}]']]),
    ],
    ['no statement', bossRunning()],
  ])('answers null when pg-boss runs %s', async (_case, fake) => {
    expect(await captureJobInsert(fake, 'any')).toBeNull();
  });
});
