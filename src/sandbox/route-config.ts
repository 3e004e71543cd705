// Every sandbox route names its endpoint key ('xero.token', 'google.userinfo', ...) in its route
// config. The one onRequest hook in sandboxPlugin reads it to count the call and to apply faults
// and rate limits, so a route is covered by declaring `config: { endpoint }` and nothing else.

import type { FastifyRequest } from 'fastify';
import type { KeyedLimit } from './keyed-limits.ts';

export interface SandboxRouteConfig {
  /** '<provider>.<name>': the key faults, rate limits and call counts refer to. */
  endpoint?: string;
  /** The provider's own per-tenant or per-token limit this call counts against (keyed-limits.ts). */
  limit?: (request: FastifyRequest) => KeyedLimit | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig extends SandboxRouteConfig {}
}

/** Shorthand for route options: `app.post('/token', endpoint('xero.token'), handler)`. */
export function endpoint(
  key: string,
  limit?: (request: FastifyRequest) => KeyedLimit | undefined,
): { config: SandboxRouteConfig } {
  return { config: limit ? { endpoint: key, limit } : { endpoint: key } };
}

/** Does an endpoint pattern ('xero.token', 'xero.*', '*') cover this endpoint key? */
export function endpointMatches(pattern: string, key: string): boolean {
  if (pattern === '*' || pattern === key) return true;
  return pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1));
}
