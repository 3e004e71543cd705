import type { FastifyRequest } from 'fastify';

// How a token request names its client: HTTP Basic (RFC 6749 §2.3.1, id and secret
// form-urlencoded before base64) and/or parameters in the body. Each provider allows its own
// subset and parameter names (TikTok says client_key, never client_id).

export interface ClientAuthRules {
  basic: boolean;
  body: boolean;
  /** The body parameter carrying the client id; default 'client_id'. */
  idParam?: string;
}

export type ClientCredentialsResult =
  | { ok: true; clientId: string; clientSecret: string; method: 'basic' | 'body' }
  | { ok: false; problem: 'missing' | 'malformed' | 'method_not_allowed' };

export function readClientCredentials(
  request: FastifyRequest,
  params: Record<string, string>,
  rules: ClientAuthRules,
): ClientCredentialsResult {
  const header = request.headers.authorization;
  if (header && /^Basic\s/i.test(header)) {
    if (!rules.basic) return { ok: false, problem: 'method_not_allowed' };
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, problem: 'malformed' };
    try {
      const clientId = decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' '));
      const clientSecret = decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' '));
      return { ok: true, clientId, clientSecret, method: 'basic' };
    } catch {
      return { ok: false, problem: 'malformed' };
    }
  }
  const clientId = params[rules.idParam ?? 'client_id'];
  const clientSecret = params.client_secret;
  if (clientId === undefined && clientSecret === undefined) return { ok: false, problem: 'missing' };
  if (!rules.body) return { ok: false, problem: 'method_not_allowed' };
  if (!clientId || !clientSecret) return { ok: false, problem: 'missing' };
  return { ok: true, clientId, clientSecret, method: 'body' };
}
