import type { FastifyReply, FastifyRequest } from 'fastify';

// Small helpers every simulated provider uses to read requests and write answers.

/** What a provider answers: status, headers, body (an object is sent as JSON). */
export interface ProviderReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export function send(reply: FastifyReply, answer: ProviderReply): FastifyReply {
  reply.code(answer.status);
  if (answer.headers) reply.headers(answer.headers);
  if (typeof answer.body === 'string') {
    if (!reply.hasHeader('content-type')) reply.type('text/plain; charset=utf-8');
    return reply.send(answer.body);
  }
  return reply.send(answer.body);
}

/**
 * A flat string map of form, JSON or query parameters. Repeated keys keep the first value;
 * non-string values (JSON numbers, objects) are left out: providers read strings.
 */
export function readParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object' || Array.isArray(source)) return out;
  for (const [key, value] of Object.entries(source)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

/** The sandbox's own origin as the caller reached it (for URLs it hands out: base_uri, webhooks). */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The mount prefix of the sandbox ('/sandbox' when tether registers it with that prefix). */
export function sandboxPrefix(request: FastifyRequest, provider: string): string {
  const path = request.routeOptions.url ?? request.url;
  const at = path.indexOf(`/${provider}/`);
  return at >= 0 ? path.slice(0, at) : '';
}

export function isJsonRequest(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return bearerOf(request.headers.authorization);
}

/** The token of an `Authorization` header's value, if it is `Bearer <token>`. */
export function bearerOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
