import { createHash } from 'node:crypto';

// RFC 7636 PKCE: the code carries the challenge from the authorize request; the token request
// must bring the verifier it was made from.

export const PKCE_METHODS = ['S256', 'plain'] as const;
export type PkceMethod = (typeof PKCE_METHODS)[number];

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isPkceMethod(value: string): value is PkceMethod {
  return (PKCE_METHODS as readonly string[]).includes(value);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function pkceMatches(challenge: string, method: PkceMethod, verifier: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return (method === 'S256' ? s256(verifier) : verifier) === challenge;
}
