import type { FastifyReply } from 'fastify';

/**
 * Every dashboard answer: no script, style only from our own stylesheet, forms post only to
 * tether, never framed (clickjacking), no MIME sniffing, no referrer leaking ids to other sites, never cached.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', DASHBOARD_CSP);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` on form posts, and the
  // CSRF check compares the Origin.
  reply.header('referrer-policy', 'same-origin');
  reply.header('cache-control', 'no-store');
}
