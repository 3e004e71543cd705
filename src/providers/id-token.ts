import { isRecord } from './failure.ts';

/**
 * The claims of an id_token that came straight from the token endpoint, over TLS, in answer to
 * our own client authentication. OpenID Connect Core §3.1.3.7 lets such a token's issuer be
 * trusted from the TLS connection instead of the signature; tether reads only the account id from
 * it and never uses it to log anyone in. Anything malformed reads as no claims.
 */
export function idTokenClaims(idToken: unknown): Record<string, unknown> {
  if (typeof idToken !== 'string') return {};
  const payload = idToken.split('.')[1];
  if (!payload) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isRecord(claims) ? claims : {};
  } catch {
    return {};
  }
}
