import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Db, rowsOf } from '../db/client.ts';

/** Events to the host app, in the running tether's registry (GET /metrics). */
export type EventMetrics = ReturnType<typeof makeEventMetrics>;

export function makeEventMetrics(registry: Registry, db: Db) {
  const deliveries = new Counter({
    name: 'tether_event_deliveries_total',
    help: 'Event delivery attempts by outcome (succeeded, retrying: failed with attempts left, failed: gave up, deferred: held by the circuit breaker)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const attemptSeconds = new Histogram({
    name: 'tether_event_delivery_attempt_seconds',
    help: 'Time from sending an event delivery attempt to its answer (or timeout)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  new Gauge({
    name: 'tether_event_delivery_backlog',
    help: 'Pending event deliveries per subscription (read from the database at scrape time)',
    labelNames: ['subscription'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = rowsOf<{ subscription_id: string; n: number }>(
        await db.execute(sql`
          select subscription_id, count(*)::int as n from event_deliveries
          where status = 'pending' group by subscription_id`),
      );
      for (const row of rows) this.set({ subscription: row.subscription_id }, row.n);
    },
  });
  return { deliveries, attemptSeconds };
}
