import type { Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

/**
 * How long a client may take, and how many sockets it may hold. Without
 * these a client sending a byte every few seconds keeps its socket (and
 * the body buffered so far) forever.
 *
 * - request timeout: the whole request, headers and body, must arrive within it
 *   (408 request_timeout, then the socket is closed);
 * - headers timeout: the headers must arrive within the shorter of it and
 *   HEADERS_TIMEOUT_MS; a socket that sends nothing is closed by it too;
 * - keep-alive timeout: an idle socket between two requests is closed after it;
 * - idle socket timeout: a socket on which no byte moves either way for this
 *   long is destroyed (a client that stops reading its response); it outlasts
 *   any wait of a handler on providers, so no answer is cut short;
 * - connection cap: sockets above it are closed as soon as they are accepted.
 */
export interface ServerLimits {
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleSocketTimeoutMs: number;
  maxConnections: number;
}

const HEADERS_TIMEOUT_MS = 10_000;

/**
 * The longest a handler may sit silent, with margin: waiting out another
 * process's refresh lease, then a few provider calls (call, refresh, retry,
 * Slack's backoff); or twice the request timeout, whichever is longer.
 */
export function idleSocketTimeoutMs(limits: {
  requestTimeoutMs: number;
  providerTimeoutMs: number;
  refreshLeaseMs: number;
}): number {
  return Math.max(2 * limits.requestTimeoutMs, limits.refreshLeaseMs + 4 * limits.providerTimeoutMs);
}

type TimeoutOptions = Pick<
  FastifyServerOptions,
  'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout'
> & {
  http: { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number };
};

export function serverTimeoutOptions(limits: ServerLimits): TimeoutOptions {
  const headersTimeout = Math.min(limits.requestTimeoutMs, HEADERS_TIMEOUT_MS);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleSocketTimeoutMs,
    http: {
      // Node checks the two timeouts every connectionsCheckingInterval (30 s by
      // default), so a timeout would otherwise be enforced up to 30 s late.
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 4)),
    },
  };
}

/** Refuses sockets above the cap at accept; onRefused counts them. */
export function capConnections(server: Server, maxConnections: number, onRefused: () => void): void {
  server.maxConnections = maxConnections;
  server.on('drop', onRefused);
}
