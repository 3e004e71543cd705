import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import type { SealedColumn } from '../db/sealed-columns.ts';
import { rotateKeys } from './rotate-keys.ts';
import { makeSealer } from './seal.ts';

const column: SealedColumn = {
  table: 'rotation_fixture',
  idColumn: 'id',
  column: 'secret',
  context: (id) => `rotation_fixture.secret:${id}`,
};

describe('rotateKeys', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await makeTestDatabase();
    await t.database.withSession((s) =>
      s.query('create table rotation_fixture (id int primary key, secret text)'),
    );
  });
  afterEach(() => t.dispose());

  async function insert(count: number, sealer: ReturnType<typeof makeSealer>) {
    await t.database.withSession(async (s) => {
      for (let id = 1; id <= count; id++) {
        await s.query('insert into rotation_fixture values ($1, $2)', [
          id,
          sealer.seal(`secret-${id}`, column.context(String(id))),
        ]);
      }
      await s.query('insert into rotation_fixture values (9999, null)');
    });
  }

  async function stored(): Promise<{ id: number; secret: string | null }[]> {
    return t.database.withSession((s) => s.query('select id, secret from rotation_fixture order by id'));
  }

  it('re-seals every stored secret with the new first key, in batches', async () => {
    const oldKey = randomBytes(32);
    await insert(23, makeSealer([oldKey]));
    const rotated = makeSealer([randomBytes(32), oldKey]);
    const report = await rotateKeys(t.database, rotated, { batchSize: 5, columns: [column] });
    expect(report.resealed).toBe(23);
    const rows = (await stored()).filter((row) => row.secret !== null);
    for (const row of rows) {
      expect(rotated.isCurrent(row.secret!)).toBe(true);
      expect(rotated.open(row.secret!, column.context(String(row.id)))).toBe(`secret-${row.id}`);
    }
    // Once rotated, the old key can be dropped.
    const onlyNew = makeSealer([randomBytes(32)]);
    expect(() => onlyNew.open(rows[0]!.secret!, 'x')).toThrow();
  });

  it('resumes where it stopped: a second run finds nothing left to do', async () => {
    const oldKey = randomBytes(32);
    await insert(7, makeSealer([oldKey]));
    const rotated = makeSealer([randomBytes(32), oldKey]);
    expect((await rotateKeys(t.database, rotated, { batchSize: 3, columns: [column] })).resealed).toBe(7);
    expect((await rotateKeys(t.database, rotated, { batchSize: 3, columns: [column] })).resealed).toBe(0);
  });

  it('fails loudly on a value it cannot open instead of skipping it', async () => {
    await insert(2, makeSealer([randomBytes(32)]));
    await expect(
      rotateKeys(t.database, makeSealer([randomBytes(32)]), { columns: [column] }),
    ).rejects.toThrow(/not configured/);
  });
});
