import { count, min, sql } from 'drizzle-orm';
import { Gauge, type Registry } from 'prom-client';
import type { Db } from './db/client.ts';
import { connections, webhookEvents } from './db/schema.ts';
import type { PgBoss } from './jobs/boss.ts';

/**
 * Gauges read from the database when /metrics is scraped: they describe shared state, so every
 * tether process reports the same numbers, and nothing has to keep them up to date in memory.
 */
export function registerStateMetrics(registry: Registry, deps: { db: Db; boss: PgBoss }): void {
  new Gauge({
    name: 'tether_connections',
    help: 'Connections by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const status of ['connected', 'degraded', 'reauthorization_required', 'disconnected'] as const)
        this.set({ status }, 0);
      const rows = await deps.db
        .select({ status: connections.status, n: count() })
        .from(connections)
        .groupBy(connections.status);
      for (const row of rows) this.set({ status: row.status }, Number(row.n));
    },
  });
  new Gauge({
    name: 'tether_webhook_inbox_lag_seconds',
    help: 'Age of the oldest inbound event not yet processed (0 when none waits)',
    registers: [registry],
    async collect() {
      const [row] = await deps.db
        .select({ oldest: min(webhookEvents.receivedAt) })
        .from(webhookEvents)
        .where(sql`${webhookEvents.status} in ('pending', 'processing', 'failed')`);
      const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined;
      this.set(oldest ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'tether_job_queue_depth',
    help: 'Background jobs by queue and state (queued includes deferred retries)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of await deps.boss.getQueues()) {
        this.set({ queue: queue.name, state: 'queued' }, queue.queuedCount);
        this.set({ queue: queue.name, state: 'active' }, queue.activeCount);
      }
    },
  });
}
