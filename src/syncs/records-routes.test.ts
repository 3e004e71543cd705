import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/harness/database.ts';
import { runStatement, statement } from '../db/client.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { encodeRecordsCursor } from './records-cursor.ts';
import { recordsRoutes } from './records-routes.ts';
import { type RecordChange, writeRecords } from './records-store.ts';
import { insertConnection, makeSyncTestDatabase } from './testing.ts';

interface Item {
  id: string;
  data: { v: number };
  lastAction: string;
  deletedAt: string | null;
}

describe('records API', () => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let n = 0;
  beforeAll(async () => {
    t = await makeSyncTestDatabase();
    app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandling(app);
    await app.register(recordsRoutes, { prefix: '/v1', db: t.database.db });
  });
  afterAll(async () => {
    await app.close();
    await t.dispose();
  });

  const connection = () => insertConnection(t, `conn_r${++n}`);
  const write = (connectionId: string, changes: RecordChange[]) =>
    t.database.db.transaction((tx) => writeRecords(tx, { connectionId, model: 'messages' }, changes));
  const read = async (connectionId: string, query = '') => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/records/messages?${query}`,
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('pages newest first with order=newest, ending with no cursor, and refuses a cursor of the other order', async () => {
    const id = await connection();
    await write(id, [
      { id: 'a', data: { v: 1 } },
      { id: 'b', data: { v: 1 } },
      { id: 'c', data: { v: 1 } },
    ]);
    await write(id, [{ id: 'a', data: { v: 2 } }]);
    const first = await read(id, 'order=newest&limit=2');
    expect(first.body.items.map((i: Item) => i.id)).toEqual(['a', 'c']);
    expect(first.body.hasMore).toBe(true);
    const second = await read(id, `order=newest&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i: Item) => i.id)).toEqual(['b']);
    expect(second.body).toMatchObject({ nextCursor: null, hasMore: false });
    const changeCursor = (await read(id, 'limit=1')).body.nextCursor;
    expect((await read(id, `order=newest&cursor=${changeCursor}`)).body.error.code).toBe('invalid_cursor');
    expect((await read(id, `cursor=${first.body.nextCursor}`)).body.error.code).toBe('invalid_cursor');
    expect((await read(id, 'order=oldest')).status).toBe(400);
  });

  it('pages through records in change order with an opaque cursor, tombstones included', async () => {
    const id = await connection();
    await write(id, [
      { id: 'a', data: { v: 1 } },
      { id: 'b', data: { v: 1 } },
      { id: 'c', data: { v: 1 } },
    ]);
    await write(id, [
      { id: 'a', data: { v: 2 } },
      { id: 'b', deleted: true },
    ]);
    const first = await read(id, 'limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: Item) => i.id)).toEqual(['c', 'a']);
    expect(first.body.hasMore).toBe(true);
    const second = await read(id, `limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toMatchObject([{ id: 'b', lastAction: 'deleted', data: { v: 1 } }]);
    expect(second.body.items[0].deletedAt).toEqual(expect.any(String));
    expect(second.body.hasMore).toBe(false);
    // The cursor stays valid: later changes come after it.
    const empty = await read(id, `cursor=${second.body.nextCursor}`);
    expect(empty.body).toMatchObject({ items: [], nextCursor: second.body.nextCursor });
    await write(id, [{ id: 'd', data: { v: 1 } }]);
    expect((await read(id, `cursor=${second.body.nextCursor}`)).body.items.map((i: Item) => i.id)).toEqual([
      'd',
    ]);
  });

  it('filters by last action and by modifiedAfter', async () => {
    const id = await connection();
    await write(id, [
      { id: 'a', data: { v: 1 } },
      { id: 'b', data: { v: 1 } },
    ]);
    await write(id, [
      { id: 'a', data: { v: 2 } },
      { id: 'b', deleted: true },
    ]);
    expect((await read(id, 'filter=deleted')).body.items.map((i: Item) => i.id)).toEqual(['b']);
    expect((await read(id, 'filter=added,updated')).body.items.map((i: Item) => i.id)).toEqual(['a']);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await read(id, `modifiedAfter=${encodeURIComponent(future)}`)).body.items).toEqual([]);
  });

  it('answers 400 invalid_cursor for a cursor it did not hand out, and other bad input with a 4xx', async () => {
    const id = await connection();
    const bad = [
      'nope!',
      Buffer.from('{"v":1,"p":"-1"}').toString('base64url'),
      Buffer.from('not json').toString('base64url'),
      Buffer.from('{"v":2,"p":"1"}').toString('base64url'),
      encodeRecordsCursor('99999999999999999999'),
      encodeRecordsCursor('9223372036854775808'),
    ];
    for (const cursor of bad) {
      const res = await read(id, `cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error.code).toBe('invalid_cursor');
    }
    expect((await read(id, 'limit=1001')).body.error.code).toBe('validation_failed');
    expect((await read(id, 'filter=created')).body.error.code).toBe('validation_failed');
    expect((await read(id, 'modifiedAfter=yesterday')).body.error.code).toBe('validation_failed');
    expect((await read('conn_missing')).status).toBe(404);
  });

  it('lets a reader paging while writers commit see every change exactly once, in order', async () => {
    const id = await connection();
    const writers = 3;
    const transactions = 15;
    let writing = true;
    // Each writer commits pages of new records and updates of its own, pausing inside each
    // transaction so that commits interleave with the positions taken.
    const write = async (w: number) => {
      for (let i = 0; i < transactions; i++) {
        await t.database.db.transaction(async (tx) => {
          const changes: RecordChange[] = [
            { id: `w${w}-${i}`, data: { v: 1 } },
            ...(i > 0 ? [{ id: `w${w}-${i - 1}`, data: { v: 2 } }] : []),
          ];
          await writeRecords(tx, { connectionId: id, model: 'messages' }, changes);
          await runStatement(tx, statement('select pg_sleep($1)'), [Math.random() * 0.02]);
        });
      }
    };
    const seen = new Map<string, number>();
    const pairs = new Set<string>();
    let cursor: string | undefined;
    const readPage = async () => {
      const page = await read(id, `limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      for (const item of page.body.items as Item[]) {
        const pair = `${item.id}@${item.data.v}`;
        expect(pairs.has(pair), `${pair} seen twice`).toBe(false);
        pairs.add(pair);
        seen.set(item.id, item.data.v);
      }
      cursor = page.body.nextCursor ?? cursor;
      return page.body.hasMore as boolean;
    };
    const reader = (async () => {
      while (writing) await readPage();
      while (await readPage()) {}
    })();
    await Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
    writing = false;
    await reader;

    const table = await runStatement<{ external_id: string; v: number }>(
      t.database.db,
      statement(`select external_id, (data->>'v')::int as v from sync_records where connection_id = $1`),
      [id],
    );
    expect(table).toHaveLength(writers * transactions);
    expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(table.map((r) => [r.external_id, r.v])));
  });
});
