import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  makeTestDatabase,
  needsPostgres,
  type TestDatabase,
  testPostgresUrl,
} from '../../test/harness/database.ts';
import { loadMigrations, migrate } from './migrate.ts';

describe('migrate', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await makeTestDatabase();
  });
  afterEach(() => t.dispose());

  const versions = () =>
    t.database.withSession((s) =>
      s.query<{ version: number }>('select version from tether_migrations order by version'),
    );

  it('applies every migration once and is a no-op the second time', async () => {
    const all = loadMigrations();
    expect(all.length).toBeGreaterThan(0);
    const first = await migrate(t.database);
    expect(first.applied).toHaveLength(all.length);
    const second = await migrate(t.database);
    expect(second.applied).toEqual([]);
    expect((await versions()).map((row) => Number(row.version))).toEqual(all.map((m) => m.version));
  });

  it('applies only the migrations added since the last run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-migrations-'));
    writeFileSync(join(dir, '0001_first.sql'), 'create table first_table (id int);');
    await migrate(t.database, loadMigrations(dir));
    writeFileSync(
      join(dir, '0002_second.sql'),
      'create table second_table (id int); insert into second_table values (1);',
    );
    expect((await migrate(t.database, loadMigrations(dir))).applied).toEqual(['0002_second']);
  });

  it('refuses a migration that was edited after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-migrations-'));
    writeFileSync(join(dir, '0001_first.sql'), 'create table first_table (id int);');
    await migrate(t.database, loadMigrations(dir));
    writeFileSync(join(dir, '0001_first.sql'), 'create table first_table (id bigint);');
    await expect(migrate(t.database, loadMigrations(dir))).rejects.toThrow(/changed after it was applied/);
  });

  it('rolls back a failing migration whole, recording nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-migrations-'));
    writeFileSync(
      join(dir, '0001_broken.sql'),
      'create table half_done (id int); select * from no_such_table;',
    );
    await expect(migrate(t.database, loadMigrations(dir))).rejects.toThrow();
    const tables = await t.database.withSession((s) =>
      s.query("select 1 from pg_tables where tablename = 'half_done'"),
    );
    expect(tables).toEqual([]);
    expect(await versions()).toEqual([]);
  });
});

describe.skipIf(!testPostgresUrl)(
  `two processes migrating one PostgreSQL database (${needsPostgres})`,
  () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await makeTestDatabase();
    });
    afterEach(() => t.dispose());

    it('both succeed and the schema is applied once', async () => {
      const env = {
        PATH: process.env.PATH,
        DATABASE_URL: t.url!,
        TETHER_API_KEY: 'k'.repeat(32),
        TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      };
      const run = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, ['src/main.ts', 'migrate'], { env });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (out += d));
          child.on('close', (code) => resolve({ code, out }));
        });
      const results = await Promise.all([run(), run(), run()]);
      for (const result of results) expect(result.code, result.out).toBe(0);
      expect(results.filter((r) => r.out.includes('applied 0001')).length).toBe(1);
      const rows = await t.database.withSession((s) => s.query('select version from tether_migrations'));
      expect(rows).toHaveLength(loadMigrations().length);
    });
  },
);
