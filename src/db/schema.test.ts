import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { migrate } from './migrate.ts';
import * as schema from './schema.ts';

describe('schema.ts and the SQL migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await makeTestDatabase();
    await migrate(t.database);
  });
  afterAll(() => t.dispose());

  const tables = (Object.values(schema) as unknown[]).filter((value): value is PgTable => is(value, PgTable));

  it.each(tables.map((table) => [getTableName(table), table] as const))(
    'agree on every column of %s',
    async (name, table) => {
      const rows = await t.database.withSession((s) =>
        s.query<{ column_name: string }>(
          'select column_name from information_schema.columns where table_name = $1',
          [name],
        ),
      );
      const inDatabase = new Set(rows.map((row) => row.column_name));
      for (const column of Object.values(getTableColumns(table))) expect(inDatabase).toContain(column.name);
    },
  );
});
