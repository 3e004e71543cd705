import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/harness/database.ts';
import { runStatement, statement } from '../db/client.ts';
import { type RecordChange, writeRecords } from './records-store.ts';
import { insertConnection, makeSyncTestDatabase } from './testing.ts';

interface Stored {
  external_id: string;
  data: Record<string, unknown>;
  last_action: string;
  deleted_at: Date | null;
  change_position: string;
  provider_version: string | null;
}

describe('records store', () => {
  let t: TestDatabase;
  let n = 0;
  beforeAll(async () => {
    t = await makeSyncTestDatabase();
  });
  afterAll(() => t.dispose());

  const target = async () => ({ connectionId: await insertConnection(t, `conn_${++n}`), model: 'messages' });
  const write = (to: { connectionId: string; model: string }, changes: RecordChange[]) =>
    t.database.db.transaction((tx) => writeRecords(tx, to, changes));
  const stored = async (to: { connectionId: string }) =>
    runStatement<Stored>(
      t.database.db,
      statement(`select external_id, data, last_action, deleted_at, change_position::text as change_position,
        provider_version::text as provider_version from sync_records where connection_id = $1 order by external_id`),
      [to.connectionId],
    );

  it('adds new records, leaves unchanged ones alone by content hash and updates changed ones', async () => {
    const to = await target();
    expect(
      await write(to, [
        { id: 'a', data: { x: 1, y: 2 } },
        { id: 'b', data: { x: 1 } },
      ]),
    ).toMatchObject({
      imported: 2,
      updated: 0,
      unchanged: 0,
    });
    const before = await stored(to);
    // Same data in another key order: unchanged, no write.
    expect(
      await write(to, [
        { id: 'a', data: { y: 2, x: 1 } },
        { id: 'b', data: { x: 2 } },
      ]),
    ).toMatchObject({
      imported: 0,
      updated: 1,
      unchanged: 1,
    });
    const after = await stored(to);
    expect(after[0]!.change_position).toBe(before[0]!.change_position);
    expect(after[1]).toMatchObject({ last_action: 'updated', data: { x: 2 } });
    expect(BigInt(after[1]!.change_position)).toBeGreaterThan(BigInt(before[1]!.change_position));
  });

  it('never lets an older provider version overwrite a newer one', async () => {
    const to = await target();
    await write(to, [{ id: 'm', data: { v: 'new' }, version: '18446744073709551000' }]);
    expect(await write(to, [{ id: 'm', data: { v: 'old' }, version: '18446744073709550999' }])).toMatchObject(
      {
        skipped: 1,
        updated: 0,
      },
    );
    expect((await stored(to))[0]).toMatchObject({
      data: { v: 'new' },
      provider_version: '18446744073709551000',
    });
    expect(await write(to, [{ id: 'm', deleted: true, version: 5 }])).toMatchObject({
      skipped: 1,
      deleted: 0,
    });
    expect(
      await write(to, [{ id: 'm', data: { v: 'newer' }, version: '18446744073709551001' }]),
    ).toMatchObject({
      updated: 1,
    });
  });

  it('leaves a tombstone with the last data for a delete and ignores deletes of records it never had', async () => {
    const to = await target();
    await write(to, [{ id: 'a', data: { keep: true } }]);
    expect(
      await write(to, [
        { id: 'a', deleted: true },
        { id: 'ghost', deleted: true },
      ]),
    ).toMatchObject({
      deleted: 1,
      unchanged: 1,
    });
    const rows = await stored(to);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ last_action: 'deleted', data: { keep: true } });
    expect(rows[0]!.deleted_at).not.toBeNull();
    expect(await write(to, [{ id: 'a', deleted: true }])).toMatchObject({ deleted: 0, unchanged: 1 });
    // Seen again after its deletion: present again, as added.
    expect(await write(to, [{ id: 'a', data: { keep: true } }])).toMatchObject({ imported: 1 });
    expect((await stored(to))[0]).toMatchObject({ last_action: 'added', deleted_at: null });
  });

  it('keeps the newest change of one id within a page', async () => {
    const to = await target();
    await write(to, [
      { id: 'a', data: { v: 2 }, version: 2 },
      { id: 'a', data: { v: 1 }, version: 1 },
      { id: 'b', data: { v: 1 }, version: 1 },
      { id: 'b', deleted: true, version: 3 },
    ]);
    const rows = await stored(to);
    expect(rows.map((r) => [r.external_id, r.last_action])).toEqual([['a', 'added']]);
    expect(rows[0]!.data).toEqual({ v: 2 });
  });

  it('marks every record of a full pass as seen, new, changed, unchanged and older ones alike', async () => {
    const to = await target();
    await write(to, [
      { id: 'same', data: { v: 1 } },
      { id: 'changed', data: { v: 1 } },
      { id: 'newer', data: { v: 1 }, version: 9 },
      { id: 'gone', data: { v: 1 } },
    ]);
    await write(to, [{ id: 'gone', deleted: true }]);
    const pass = (changes: RecordChange[]) =>
      t.database.db.transaction((tx) => writeRecords(tx, to, changes, { seenPass: 'pass-1' }));
    expect(
      await pass([
        { id: 'same', data: { v: 1 } },
        { id: 'changed', data: { v: 2 } },
        { id: 'newer', data: { v: 0 }, version: 8 },
        { id: 'fresh', data: { v: 1 } },
        { id: 'gone', deleted: true },
        { id: 'ghost', deleted: true },
      ]),
    ).toMatchObject({ imported: 1, updated: 1, unchanged: 3, skipped: 1 });
    const seen = await runStatement<{ external_id: string; seen_pass: string | null }>(
      t.database.db,
      statement(
        'select external_id, seen_pass from sync_records where connection_id = $1 order by external_id',
      ),
      [to.connectionId],
    );
    expect(seen.map((r) => [r.external_id, r.seen_pass])).toEqual([
      ['changed', 'pass-1'],
      ['fresh', 'pass-1'],
      ['gone', 'pass-1'],
      ['newer', 'pass-1'],
      ['same', 'pass-1'],
    ]);
  });
});
