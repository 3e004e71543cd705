import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseKind = 'pglite' | 'postgres';

/**
 * SQL text with a stable name, for the hot paths (webhook ingest and processing): on PostgreSQL a
 * named statement is parsed and planned once per connection and then only bound and run, where
 * the large ones cost more to parse than to run. PGlite runs it as plain text.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const statements = new Map<string, Statement>();
/** Past this many distinct texts, statements run unnamed: every connection's cache stays bounded. */
const MAX_NAMED_STATEMENTS = 256;

/** The named statement for this text (the name is derived from the text, so two never clash). */
export function statement(text: string): Statement {
  let found = statements.get(text);
  if (!found) {
    if (statements.size >= MAX_NAMED_STATEMENTS) return { name: '', text };
    found = { name: `tether_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text };
    statements.set(text, found);
  }
  return found;
}

/** Runs a statement on `db` or inside its transaction `tx`, with `$1`… parameters. */
export async function runStatement<R = Record<string, unknown>>(
  db: Db,
  { name, text }: Statement,
  params: unknown[],
): Promise<R[]> {
  return rowsOf<R>(
    await db._.session.prepareQuery({ sql: text, params }, undefined, name || undefined, false).execute(),
  );
}

/** The rows of a query result, which both drivers answer as an object with `rows`. */
export function rowsOf<R>(result: unknown): R[] {
  return (Array.isArray(result) ? result : ((result as { rows?: R[] }).rows ?? [])) as R[];
}

/** Raw SQL on one dedicated session: what advisory locks and migrations need. */
export interface Session {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs several statements in one transaction on this session. */
  transaction<T>(fn: (query: Session['query']) => Promise<T>): Promise<T>;
}

export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Set on the embedded default; pg-boss runs on the same client. */
  readonly pglite: PGlite | undefined;
  /** Set on PostgreSQL. */
  readonly url: string | undefined;
  withSession<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseTarget = { url: string; poolSize?: number } | { pglite: PGlite } | { dataDir: string };

/** PostgreSQL when given a URL, otherwise embedded PGlite (in a data dir, or a client a test made). */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if ('url' in target) return openPostgres(target.url, target.poolSize ?? 10);
  if ('pglite' in target) return wrapPglite(target.pglite);
  const dir = join(target.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  return wrapPglite(client);
}

function openPostgres(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    db: drizzleNodePg({ client: pool, schema }) as unknown as Db,
    pglite: undefined,
    url,
    async withSession(fn) {
      const client = await pool.connect();
      const query: Session['query'] = async (text, params) => (await client.query(text, params)).rows;
      try {
        return await fn({
          query,
          async transaction(body) {
            await client.query('begin');
            try {
              const result = await body(query);
              await client.query('commit');
              return result;
            } catch (error) {
              await client.query('rollback');
              throw error;
            }
          },
        });
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

function wrapPglite(client: PGlite): Database {
  const query: Session['query'] = async (text, params) =>
    params?.length
      ? ((await client.query(text, params)).rows as never)
      : (((await client.exec(text)).at(-1)?.rows ?? []) as never);
  return {
    kind: 'pglite',
    db: drizzlePglite({ client, schema }) as unknown as Db,
    pglite: client,
    url: undefined,
    // PGlite is one session already; its transaction() keeps other queries out meanwhile.
    async withSession(fn) {
      return fn({
        query,
        transaction: (body) =>
          client.transaction((tx) =>
            body(async (text, params) =>
              params?.length
                ? ((await tx.query(text, params)).rows as never)
                : (((await tx.exec(text)).at(-1)?.rows ?? []) as never),
            ),
          ),
      });
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}
