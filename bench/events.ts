import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emitEvent } from '../src/events/emit.ts';
import { type Backend, backends, machine, percentile, printTable, withBenchTether } from './harness.ts';

/**
 * Events to the host app: SUBSCRIPTIONS subscriptions (each its own path on one local receiver),
 * CHANGES state changes, each committed in its own transaction with its event. Two phases:
 *
 *   throughput  the changes written by 8 concurrent writers as fast as they commit; deliveries/s
 *               from the first commit to the last receipt;
 *   latency     changes written one at a time, paced well below capacity (no backlog): from each
 *               change's commit to its receipt, p50 and p99.
 *
 * Then checks every (event, subscription) arrived, and counts duplicates.
 */
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 20_000);
const LATENCY_CHANGES = Number(process.env.BENCH_LATENCY_CHANGES ?? 200);
const WRITERS = 8;

interface Receipt {
  sub: string;
  id: string;
  at: number;
}

async function run(backend: Backend, changes: number) {
  const receipts: Receipt[] = [];
  let onReceipt = () => {};
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receipts.push({
        sub: request.url ?? '',
        id: String(request.headers['webhook-id']),
        at: performance.now(),
      });
      response.statusCode = 204;
      response.end();
      onReceipt();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    return await withBenchTether(backend, {}, async (tether) => {
      const headers = { authorization: `Bearer ${tether.apiKey}` };
      for (let i = 0; i < SUBSCRIPTIONS; i++) {
        const res = await tether.app.inject({
          method: 'POST',
          url: '/v1/event-subscriptions',
          headers,
          payload: { url: `${base}/s${i}`, events: ['payment.updated'] },
        });
        if (res.statusCode !== 201) throw new Error(res.body);
      }
      const committed = new Map<string, number>();
      const change = async (n: number) => {
        const id = await tether.database.db.transaction((tx) =>
          emitEvent(tx, {
            type: 'payment.updated',
            data: { paymentId: `pi_bench_${n}`, status: 'succeeded' },
          }),
        );
        committed.set(id, performance.now());
      };
      const until = (count: number, timeoutMs: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          const check = () => {
            if (receipts.length >= count) {
              clearTimeout(timer);
              resolve(true);
            }
          };
          onReceipt = check;
          check();
        });

      // Throughput.
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (next < changes) await change(next++);
        }),
      );
      const writtenMs = performance.now() - started;
      await until(changes * SUBSCRIPTIONS, 30 * 60_000);
      const drainedMs = (receipts.at(-1)?.at ?? performance.now()) - started;

      // Latency, with no backlog.
      const before = receipts.length;
      for (let i = 0; i < LATENCY_CHANGES; i++) {
        await change(changes + i);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await until(before + LATENCY_CHANGES * SUBSCRIPTIONS, 120_000);
      const latencies = receipts
        .slice(before)
        .map((r) => r.at - (committed.get(r.id) ?? r.at))
        .sort((x, y) => x - y);

      const distinct = new Set(receipts.map((r) => `${r.sub} ${r.id}`)).size;
      const expected = (changes + LATENCY_CHANGES) * SUBSCRIPTIONS;
      return {
        bench: 'events',
        backend,
        subscriptions: SUBSCRIPTIONS,
        stateChanges: changes,
        changesPerSecond: Math.round(changes / (writtenMs / 1000)),
        deliveriesPerSecond: Math.round((changes * SUBSCRIPTIONS) / (drainedMs / 1000)),
        p50Ms: Math.round(percentile(latencies, 50)),
        p99Ms: Math.round(percentile(latencies, 99)),
        lost: expected - distinct,
        duplicates: receipts.length - distinct,
      };
    });
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

console.log(
  `events benchmark on ${machine()}; ${SUBSCRIPTIONS} subscriptions, ${CHANGES} state changes (PGlite: BENCH_PGLITE_CHANGES, default ${Math.min(CHANGES, 2_000)})`,
);
const results = [];
for (const backend of backends())
  results.push(
    await run(
      backend,
      backend === 'pglite' ? Number(process.env.BENCH_PGLITE_CHANGES ?? Math.min(CHANGES, 2_000)) : CHANGES,
    ),
  );
if (!process.env.DATABASE_URL) console.log('(PostgreSQL skipped: set DATABASE_URL to a server to add it)');
printTable(
  'events: deliveries from commit to receipt',
  results.map(({ bench: _bench, ...row }) => row),
);
for (const result of results) console.log(JSON.stringify(result));
