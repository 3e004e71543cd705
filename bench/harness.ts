import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { makeLogger } from '../src/logger.ts';
import { startTether, type Tether } from '../src/runtime.ts';
import { createPostgresDatabase, dropPostgresDatabase, makePglite } from '../test/harness/database.ts';

/** Shared by the benchmarks: a machine line, a tether per backend, and the output format. */
export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

export type Backend = 'pglite' | 'postgres';

/** The backends to run: PGlite always, PostgreSQL when DATABASE_URL names a server (run last). */
export function backends(): Backend[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export async function withBenchTether<T>(
  backend: Backend,
  env: Record<string, string>,
  fn: (tether: Tether) => Promise<T>,
): Promise<T> {
  const serverUrl = process.env.DATABASE_URL;
  const url = backend === 'postgres' && serverUrl ? await createPostgresDatabase(serverUrl) : undefined;
  const database = url
    ? await openDatabase({ url, poolSize: 20 })
    : await openDatabase({ pglite: await makePglite() });
  const config = loadConfig({
    TETHER_API_KEY: `tk_bench_${randomBytes(12).toString('hex')}`,
    TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    TETHER_SANDBOX: '0',
    PORT: '0',
    ...env,
  });
  // With TETHER_LOG_LEVEL given, tether's own logger at that level, writing nowhere: what logging
  // costs in production is part of the figure.
  const logger = env.TETHER_LOG_LEVEL
    ? makeLogger({ level: config.logLevel, destination: { write: () => true } })
    : pino({ level: 'warn' });
  const tether = await startTether(config, { database, logger });
  try {
    return await fn(tether);
  } finally {
    await tether.stop();
    await database.close();
    if (url && serverUrl) await dropPostgresDatabase(serverUrl, url);
  }
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
