import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/harness/database.ts';
import { runStatement, statement } from '../db/client.ts';
import { zeroCounts } from './records-store.ts';
import { claimRun, finishRun, getRun, recordPage, requestRun } from './run-store.ts';
import { insertConnection, makeSyncTestDatabase } from './testing.ts';

describe('sync runs', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await makeSyncTestDatabase();
  });
  afterAll(() => t.dispose());
  const counts = { ...zeroCounts(), imported: 3, failed: 1 };

  it('keeps one running run per connection and sync: a second request joins it', async () => {
    const connectionId = await insertConnection(t, 'conn_join');
    const first = await requestRun(t.database.db, { connectionId, syncName: 's', trigger: 'api' });
    const [second, other] = await Promise.all([
      requestRun(t.database.db, { connectionId, syncName: 's', trigger: 'schedule' }),
      requestRun(t.database.db, { connectionId, syncName: 'other', trigger: 'api' }),
    ]);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, run: { id: first.run.id } });
    expect(other.created).toBe(true);
    await claimRun(t.database.db, first.run.id, 'w1', 60_000);
    await finishRun(t.database.db, first.run.id, 'w1', { status: 'succeeded', error: null });
    const next = await requestRun(t.database.db, { connectionId, syncName: 's', trigger: 'api' });
    expect(next.created).toBe(true);
    expect(next.run.id).not.toBe(first.run.id);
  });

  it('lets only the owner record pages and finish, and hands a lapsed lease to the next claimer', async () => {
    const connectionId = await insertConnection(t, 'conn_lease');
    const { run } = await requestRun(t.database.db, { connectionId, syncName: 's', trigger: 'api' });
    expect(await claimRun(t.database.db, run.id, 'w1', 60_000)).toBeDefined();
    expect(await claimRun(t.database.db, run.id, 'w2', 60_000)).toBeUndefined();
    expect(await recordPage(t.database.db, run.id, 'w2', counts, 60_000)).toBe(false);
    expect(await recordPage(t.database.db, run.id, 'w1', counts, 60_000)).toBe(true);

    // w1 stalls past its lease: w2 takes the run over, and w1's late writes change nothing.
    await runStatement(
      t.database.db,
      statement(`update sync_runs set lease_until = now() - interval '1 second' where id = $1`),
      [run.id],
    );
    expect(await claimRun(t.database.db, run.id, 'w2', 60_000)).toMatchObject({ owner: 'w2', imported: 3 });
    expect(await recordPage(t.database.db, run.id, 'w1', counts, 60_000)).toBe(false);
    expect(await finishRun(t.database.db, run.id, 'w1', { status: 'failed', error: null })).toBeUndefined();
    const done = await finishRun(t.database.db, run.id, 'w2', { status: 'partial', error: null });
    expect(done).toMatchObject({ status: 'partial', imported: 3, failed: 1, owner: null });
    expect(
      await finishRun(t.database.db, run.id, 'w2', { status: 'succeeded', error: null }),
    ).toBeUndefined();
    expect((await getRun(t.database.db, run.id))!.status).toBe('partial');
  });
});
