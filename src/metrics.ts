import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics, one registry per running tether (tests run several in
 * one process). Served at GET /metrics.
 */
export type Metrics = ReturnType<typeof makeMetrics>;

export function makeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tether_process_' });
  const webhooks = new Counter({
    name: 'tether_webhooks_total',
    help: 'Inbound webhook deliveries by source and outcome (received, duplicate, rejected, processed, failed, dead)',
    labelNames: ['source', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const inboxBatch = new Histogram({
    name: 'tether_webhook_inbox_batch_size',
    help: 'Deliveries written per inbox transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'tether_auth_failures_total',
    help: 'Requests with a missing or wrong API key, by outcome (unauthorized, rate_limited)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const httpRejected = new Counter({
    name: 'tether_http_rejected_total',
    help: 'Connections and requests refused before any route ran, by reason (connection_limit, request_timeout, header_fields_too_large, bad_request)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'tether_http_request_duration_seconds',
    help: 'HTTP requests by method, route (its template, e.g. /v1/connections/:id) and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return { registry, webhooks, inboxBatch, authFailures, httpRejected, httpDuration };
}
