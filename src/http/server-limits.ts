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
 * - connection cap: sockets above it are closed as soon as they are accepted.
 */
export interface ServerLimits {
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

const HEADERS_TIMEOUT_MS = 10_000;

export function serverTimeoutOptions(limits: ServerLimits): Pick<
  FastifyServerOptions,
  'requestTimeout' | 'keepAliveTimeout'
> & {
  http: { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number };
} {
  const headersTimeout = Math.min(limits.requestTimeoutMs, HEADERS_TIMEOUT_MS);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
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
