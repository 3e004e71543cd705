import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createPostgresDatabase, dropPostgresDatabase } from '../test/harness/database.ts';
import { spawnListening, spawnTether, type TetherProcess } from '../test/harness/process.ts';
import { type Backend, backends, machine, printTable } from './harness.ts';

/**
 * Webhook ingest benchmark: autocannon at 64 connections posting unique
 * Stripe-signed events to tether, to a bare Fastify route (the ceiling) and
 * to the seed's design (Express + findFirst/create audit rows), each server
 * in its own process on the same database. Then waits for tether's backlog
 * to drain and checks that no event was lost or processed twice.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = 64;
const SECRET = 'whsec_bench_secret';

/** A unique Stripe event, signed as Stripe signs it. */
function signedEvent(): { id: string; body: string; signature: string } {
  const id = `evt_${randomBytes(12).toString('hex')}`;
  const t = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: t,
    data: {
      object: {
        id: `pi_${id}`,
        object: 'payment_intent',
        amount: 1000,
        currency: 'usd',
        status: 'succeeded',
      },
    },
  });
  const signature = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
  return { id, body, signature };
}

/**
 * Events are made and signed before the load starts (enough for 20,000 a second), so the load
 * generator, which shares the machine with the servers, spends its CPU on requests; past the
 * pool it signs as it goes. Signatures stay well inside Stripe's 300 s tolerance.
 */
function stripeRequest(path: string) {
  const pool = Array.from({ length: SECONDS * 20_000 }, signedEvent);
  return {
    method: 'POST' as const,
    path,
    setupRequest: (
      request: { body?: string; headers?: Record<string, string> },
      context: { eventId?: string },
    ) => {
      const event = pool.pop() ?? signedEvent();
      context.eventId = event.id;
      request.body = event.body;
      request.headers = { 'content-type': 'application/json', 'stripe-signature': event.signature };
      return request;
    },
  };
}

async function load(url: string, path: string) {
  const acknowledged = new Set<string>();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        ...stripeRequest(path),
        onResponse: (status: number, body: string, context: { eventId?: string }) => {
          if (status === 200 && String(body ?? '').includes('"duplicate":false') && context.eventId) {
            acknowledged.add(context.eventId);
          }
        },
      },
    ],
  } as autocannon.Options);
  return {
    eventsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx + result.errors,
    acknowledged,
  };
}

/** How many times tether has processed an event, from its metrics. */
async function processedCount(url: string, headers: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('tether_webhooks_total{') && line.includes('outcome="processed"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** The events processed in tether's inbox, and the acknowledged ones (200, not duplicate) not among them. */
async function checkInbox(
  url: string,
  headers: Record<string, string>,
  acknowledged: Set<string>,
): Promise<{ processed: number; lost: number }> {
  const processed = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = (await (
      await fetch(`${url}/v1/events?status=processed&limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
        headers,
      })
    ).json()) as { items: { eventId: string }[]; nextCursor: string | null };
    for (const item of page.items) processed.add(item.eventId);
    cursor = page.nextCursor;
  } while (cursor);
  return { processed: processed.size, lost: [...acknowledged].filter((id) => !processed.has(id)).length };
}

async function withDatabase<T>(
  backend: Backend,
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (backend === 'postgres') {
    const url = await createPostgresDatabase(process.env.DATABASE_URL!);
    try {
      return await fn({ DATABASE_URL: url });
    } finally {
      await dropPostgresDatabase(process.env.DATABASE_URL!, url);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-'));
  try {
    return await fn({ TETHER_DATA_DIR: dir, BENCH_DATA_DIR: join(dir, 'seed') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(server: Promise<TetherProcess>, path: string) {
  const started = await server;
  try {
    return await load(started.url, path);
  } finally {
    await started.stop();
  }
}

async function run(backend: Backend) {
  const ceiling = await measure(spawnListening(['bench/servers/ceiling.ts'], {}), '/webhooks/x');
  const seed = await withDatabase(backend, (env) =>
    measure(
      spawnListening(['bench/servers/seed-design.ts'], { ...env, BENCH_STRIPE_SECRET: SECRET }),
      '/webhooks/stripe',
    ),
  );
  return withDatabase(backend, async (env) => {
    const apiKey = `tk_${randomBytes(16).toString('hex')}`;
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const tether = await spawnTether({
      ...env,
      TETHER_API_KEY: apiKey,
      TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      TETHER_LOG_LEVEL: 'error',
    });
    try {
      const created = await fetch(`${tether.url}/v1/integrations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ key: 'stripe', provider: 'stripe', webhookSecrets: [SECRET] }),
      });
      if (created.status !== 201) throw new Error(`integration: ${created.status} ${await created.text()}`);
      const result = await load(tether.url, '/webhooks/stripe');
      const loadEnded = Date.now();
      // Processing gives way to ingest while tether is saturated: this shows how much it still did.
      const processedDuringLoad = await processedCount(tether.url, headers);
      // Drained when every acknowledged event is processed (the counter counts each time an event
      // is processed, so it also shows an event processed twice).
      let processed = processedDuringLoad;
      while (processed < result.acknowledged.size && Date.now() - loadEnded < 600_000) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        processed = await processedCount(tether.url, headers);
      }
      const drainSeconds = Math.round((Date.now() - loadEnded) / 100) / 10;
      // Deliveries cut off when the load stopped may be stored without having been acknowledged:
      // let those finish too before comparing counts.
      type Summary = { byStatus: Record<string, number>; retried: number; duplicateRows: number };
      let summary: Summary;
      for (;;) {
        summary = (await (await fetch(`${tether.url}/v1/events/summary`, { headers })).json()) as Summary;
        const open = ['pending', 'processing', 'failed'].reduce((n, s) => n + (summary.byStatus[s] ?? 0), 0);
        if (open === 0 || Date.now() - loadEnded > 600_000) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const inbox = await checkInbox(tether.url, headers, result.acknowledged);
      processed = await processedCount(tether.url, headers);
      return {
        bench: 'webhooks',
        backend,
        eventsPerSecond: result.eventsPerSecond,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        drainSeconds,
        processedDuringLoad,
        ceilingRatio: Math.round((result.eventsPerSecond / ceiling.eventsPerSecond) * 100) / 100,
        seedDesignRatio: Math.round((result.eventsPerSecond / seed.eventsPerSecond) * 100) / 100,
        seedDesignEventsPerSecond: seed.eventsPerSecond,
        ceilingEventsPerSecond: ceiling.eventsPerSecond,
        errors: result.non2xx,
        acknowledged: result.acknowledged.size,
        lost: inbox.lost,
        // Times an event was processed beyond once, and inbox rows beyond one per event.
        duplicatesProcessed: processed - inbox.processed + summary.duplicateRows,
        retried: summary.retried,
      };
    } finally {
      await tether.stop();
    }
  });
}

console.log(`webhooks benchmark on ${machine()}; ${SECONDS}s at ${CONNECTIONS} connections per server`);
const results = [];
for (const backend of backends()) results.push(await run(backend));
if (!process.env.DATABASE_URL) console.log('(PostgreSQL skipped: set DATABASE_URL to a server to add it)');
printTable('webhook ingest', results);
for (const result of results) console.log(JSON.stringify(result));
