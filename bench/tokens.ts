import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { connections } from '../src/db/schema.ts';
import { requireApiKey } from '../src/http/auth.ts';
import { makeLogger } from '../src/logger.ts';
import { startTether, type Tether } from '../src/runtime.ts';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../test/harness/sandbox-connect.ts';
import { type Backend, backends, machine, percentile, printTable, withBenchTether } from './harness.ts';

/**
 * Token access benchmark: fresh-token throughput and latency over HTTP, with
 * the token cache off and on, beside the ceiling (a bare Fastify route behind
 * the same API-key check, answering static JSON, measured in the same run),
 * and the single-flight burst (1,000 callers the moment a token expires). Run:
 * `npm run bench` (add DATABASE_URL=postgres://… for the PostgreSQL rows).
 * The last line is the PostgreSQL run with the cache on, when there is one.
 */
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 32;
const BURST = 1000;

/**
 * An autocannon run (in a worker thread) and the CPU time this thread (the server's, and on
 * PGlite the database's) spent per request meanwhile: on a shared machine throughput follows the
 * neighbours' load, CPU time per request much less.
 */
async function loadWithCpu(options: autocannon.Options) {
  const before = process.threadCpuUsage();
  const load = await autocannon(options);
  const used = process.threadCpuUsage(before);
  const requests = Math.max(1, load.requests.total);
  return { load, cpuUs: Math.round((used.user + used.system) / requests) };
}

/** Requests per second of a bare authenticated route on this machine, now. */
async function ceiling(): Promise<{ perSecond: number; p99Ms: number; cpuUs: number }> {
  const apiKey = 'tk_ceiling_0123456789abcdef';
  const app = Fastify({ logger: false });
  await app.register(async (v1) => {
    requireApiKey(v1, apiKey);
    v1.get('/v1/static', async () => ({ accessToken: 'static-token', expiresAt: null }));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { load, cpuUs } = await loadWithCpu({
      url: `${url}/v1/static`,
      headers: { authorization: `Bearer ${apiKey}` },
      connections: CONNECTIONS,
      duration: DURATION_SECONDS,
      workers: 1,
    });
    return { perSecond: Math.round(load.requests.average), p99Ms: load.latency.p99, cpuUs };
  } finally {
    await app.close();
  }
}

/** Another tether on the same PostgreSQL database, listening, with the same keys. */
async function startSecondInstance(first: Tether, env: Record<string, string>) {
  const database = await openDatabase({ url: first.database.url!, poolSize: 20 });
  const config = loadConfig({ ...env, TETHER_SANDBOX: '0', PORT: '0' });
  const tether = await startTether(config, {
    database,
    logger: makeLogger({ level: 'warn', destination: { write: () => true } }),
  });
  return {
    tether,
    async stop() {
      await tether.stop();
      await database.close();
    },
  };
}

async function run(backend: Backend, cacheSize: string, bare: Awaited<ReturnType<typeof ceiling>>) {
  const ceilingPerSecond = bare.perSecond;
  const sandbox = await startSandbox();
  try {
    // Logged as in production (info: a line per request in and out), to nowhere.
    const env = {
      TETHER_TOKEN_CACHE_SIZE: cacheSize,
      TETHER_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      TETHER_API_KEY: `tk_bench_${randomBytes(12).toString('hex')}`,
      TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    };
    return await withBenchTether(backend, env, async (tether) => {
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
      const { load, cpuUs } = await loadWithCpu({
        url,
        headers,
        connections: CONNECTIONS,
        duration: DURATION_SECONDS,
        workers: 1,
      });
      const errors = load.errors + load.non2xx;

      await tether.database.db
        .update(connections)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(connections.id, connectionId!));
      await tether.connectionChanges?.fence(); // this process's cache has heard of it
      await sandbox.control.resetCalls();
      // On PostgreSQL the burst is shared by two instances: still one refresh between them.
      const second = backend === 'postgres' ? await startSecondInstance(tether, env) : undefined;
      const urls = second ? [url, url.replace(tether.url, second.tether.url)] : [url];
      const started = performance.now();
      const times = await Promise.all(
        Array.from({ length: BURST }, async (_, i) => {
          const t0 = performance.now();
          const res = await fetch(urls[i % urls.length]!, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`burst caller got ${res.status}`);
          return performance.now() - t0;
        }),
      );
      const singleFlightMs = performance.now() - started;
      await second?.stop();
      times.sort((a, b) => a - b);
      return {
        bench: 'tokens',
        backend,
        cache: cacheSize === '0' ? 'off' : 'on',
        tokensPerSecond: Math.round(load.requests.average),
        ceilingPerSecond,
        ceilingRatio: Math.round((load.requests.average / ceilingPerSecond) * 100) / 100,
        cpuUsPerToken: cpuUs,
        ceilingCpuUsPerRequest: bare.cpuUs,
        cpuCeilingRatio: Math.round((bare.cpuUs / Math.max(1, cpuUs)) * 100) / 100,
        p50Ms: load.latency.p50,
        p99Ms: load.latency.p99,
        errors,
        singleFlightInstances: urls.length,
        singleFlightRefreshCalls: await sandbox.control.callCount('xero.token#refresh_token'),
        singleFlightMs: Math.round(singleFlightMs),
        singleFlightP99Ms: Math.round(percentile(times, 99)),
      };
    });
  } finally {
    await sandbox.close();
  }
}

console.log(
  `tokens benchmark on ${machine()}; ${DURATION_SECONDS}s at ${CONNECTIONS} connections; burst of ${BURST}; load average ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
);
const results = [];
const cacheSizes = (process.env.BENCH_TOKEN_CACHE_SIZES ?? '0,10000').split(',');
for (const backend of backends()) {
  for (const cacheSize of cacheSizes) {
    // The ceiling right before each row, so each ratio compares moments of the same load.
    const bare = await ceiling();
    console.log(
      `ceiling before ${backend}, cache ${cacheSize}: ${bare.perSecond} requests/s, p99 ${bare.p99Ms} ms, ${bare.cpuUs} µs CPU each`,
    );
    results.push(await run(backend, cacheSize, bare));
  }
}
console.log(
  `load average after: ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
);
if (!process.env.DATABASE_URL) console.log('(PostgreSQL skipped: set DATABASE_URL to a server to add it)');
printTable('access-token', results);
for (const result of results) console.log(JSON.stringify(result));
