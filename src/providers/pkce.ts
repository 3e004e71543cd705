import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';

/**
 * The connect flow's one-time values: an RFC 7636 verifier and its S256 challenge, and the
 * `state` that ties the callback to the request. Both come from oauth4webapi (32 random bytes,
 * base64url).
 */

export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

export async function makePkcePair(): Promise<PkcePair> {
  const codeVerifier = generateRandomCodeVerifier();
  return {
    codeVerifier,
    codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
    codeChallengeMethod: 'S256',
  };
}

export function makeOAuthState(): string {
  return generateRandomState();
}
