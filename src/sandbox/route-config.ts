// Every sandbox route names its endpoint key ('xero.token', 'google.userinfo', ...) in its route
// config. The one onRequest hook in sandboxPlugin reads it to count the call and to apply faults
// and rate limits, so a route is covered by declaring `config: { endpoint }` and nothing else.

export interface SandboxRouteConfig {
  /** '<provider>.<name>': the key faults, rate limits and call counts refer to. */
  endpoint?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig extends SandboxRouteConfig {}
}

/** Shorthand for route options: `app.post('/token', endpoint('xero.token'), handler)`. */
export function endpoint(key: string): { config: SandboxRouteConfig } {
  return { config: { endpoint: key } };
}

/** Does an endpoint pattern ('xero.token', 'xero.*', '*') cover this endpoint key? */
export function endpointMatches(pattern: string, key: string): boolean {
  if (pattern === '*' || pattern === key) return true;
  return pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1));
}
