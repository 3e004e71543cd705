import autocannon from 'autocannon';
import { eq } from 'drizzle-orm';
import { connections } from '../src/db/schema.ts';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../test/harness/sandbox-connect.ts';
import { type Backend, backends, machine, percentile, printTable, withBenchTether } from './harness.ts';

/**
 * Token access benchmark: fresh-token throughput and latency over HTTP, and
 * the single-flight burst (1,000 callers the moment a token expires). Run:
 * `npm run bench` (add DATABASE_URL=postgres://… for the PostgreSQL row).
 */
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BURST = 1000;

async function run(backend: Backend) {
  const sandbox = await startSandbox();
  try {
    return await withBenchTether(backend, {}, async (tether) => {
      // Reuse the test harness's helpers: they speak inject(), which needs only app and auth.
      const t = { ...tether, auth: { authorization: `Bearer ${tether.apiKey}` } } as never;
      await createSandboxIntegration(t, sandbox.server.url, {
        key: 'xero',
        provider: 'xero',
        scopes: ['offline_access'],
      });
      const { connectionId } = await connectThroughSandbox(t, sandbox.control, {
        integration: 'xero',
        endUserId: 'bench',
      });
      const url = `${tether.url}/v1/connections/${connectionId}/access-token`;
      const headers = { authorization: `Bearer ${tether.apiKey}` };

      // A worker thread, so the load generator does not take the server's CPU in this process.
      const load = await autocannon({
        url,
        headers,
        connections: 32,
        duration: DURATION_SECONDS,
        workers: 1,
      });
      const errors = load.errors + load.non2xx;

      await tether.database.db
        .update(connections)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(connections.id, connectionId!));
      await sandbox.control.resetCalls();
      const started = performance.now();
      const times = await Promise.all(
        Array.from({ length: BURST }, async () => {
          const t0 = performance.now();
          const res = await fetch(url, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`burst caller got ${res.status}`);
          return performance.now() - t0;
        }),
      );
      const singleFlightMs = performance.now() - started;
      times.sort((a, b) => a - b);
      return {
        bench: 'tokens',
        backend,
        tokensPerSecond: Math.round(load.requests.average),
        p50Ms: load.latency.p50,
        p99Ms: load.latency.p99,
        errors,
        singleFlightRefreshCalls: await sandbox.control.callCount('xero.token#refresh_token'),
        singleFlightMs: Math.round(singleFlightMs),
        singleFlightP99Ms: Math.round(percentile(times, 99)),
      };
    });
  } finally {
    await sandbox.close();
  }
}

console.log(`tokens benchmark on ${machine()}; ${DURATION_SECONDS}s at 32 connections; burst of ${BURST}`);
const results = [];
for (const backend of backends()) results.push(await run(backend));
if (!process.env.DATABASE_URL) console.log('(PostgreSQL skipped: set DATABASE_URL to a server to add it)');
printTable('access-token', results);
for (const result of results) console.log(JSON.stringify(result));
