import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './client.ts';

/**
 * Versioned SQL migrations from migrations/NNNN_name.sql, applied in order.
 *
 * Every instance runs this at start. A session-level advisory lock makes the
 * starters queue: the first applies what is missing, each one after finds
 * nothing left to do. Each file runs in its own transaction together with its
 * row in tether_migrations, so a crash leaves either both or neither. A file
 * changed after it was applied is refused rather than silently skipped.
 */
const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
/** Arbitrary but fixed: "tether" in ASCII. */
const MIGRATION_LOCK_KEY = 0x746574686572;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export interface MigrationResult {
  applied: string[];
}

export async function migrate(database: Database, migrations = loadMigrations()): Promise<MigrationResult> {
  return database.withSession(async (session) => {
    await session.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await session.query(`create table if not exists tether_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`);
      const rows = await session.query<{ version: number; checksum: string }>(
        'select version, checksum from tether_migrations where version > $1',
        [0],
      );
      const done = new Map(rows.map((row) => [Number(row.version), row.checksum]));
      const applied: string[] = [];
      for (const migration of migrations) {
        const checksum = done.get(migration.version);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new Error(
              `migration ${migration.version} (${migration.name}) was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await session.transaction(async (query) => {
          await query(migration.sql);
          await query('insert into tether_migrations (version, name, checksum) values ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        });
        applied.push(`${String(migration.version).padStart(4, '0')}_${migration.name}`);
      }
      return { applied };
    } finally {
      await session.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}
