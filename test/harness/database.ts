import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/client.ts';

/**
 * Test databases. By default each one is a fresh in-memory PGlite. When
 * TETHER_TEST_DATABASE_URL names a PostgreSQL server (CI's second pass), each
 * one is a new database created on that server and dropped afterwards.
 */
export const testPostgresUrl = process.env.TETHER_TEST_DATABASE_URL || undefined;
export const needsPostgres = 'needs a PostgreSQL server: set TETHER_TEST_DATABASE_URL (CI does)';

export interface TestDatabase {
  database: Database;
  /** The URL of this database on PostgreSQL (for child processes); undefined on PGlite. */
  url: string | undefined;
  dispose(): Promise<void>;
}

export async function makeTestDatabase(): Promise<TestDatabase> {
  if (testPostgresUrl) {
    const url = await createPostgresDatabase(testPostgresUrl);
    const database = await openDatabase({ url });
    return {
      database,
      url,
      async dispose() {
        await database.close();
        await dropPostgresDatabase(testPostgresUrl, url);
      },
    };
  }
  const database = await openDatabase({ pglite: await makePglite() });
  return { database, url: undefined, dispose: () => database.close() };
}

export async function makePglite(): Promise<PGlite> {
  const template = process.env.TETHER_TEST_PGLITE_TEMPLATE;
  const client = template ? new PGlite({ loadDataDir: new Blob([readFileSync(template)]) }) : new PGlite();
  await client.waitReady;
  return client;
}

/** A new empty database on the server of `serverUrl`; returns its URL. */
export async function createPostgresDatabase(serverUrl: string): Promise<string> {
  const name = `tether_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(serverUrl: string, databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
