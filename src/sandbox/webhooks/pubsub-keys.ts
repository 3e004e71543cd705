import { createHash } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

// The sandbox's stand-in for Google's OIDC signing keys (https://www.googleapis.com/oauth2/v3/certs):
// an RS256 key published in a JWKS, and a rogue key that is not published, so tests can mint
// tokens an honest verifier must reject for their signature alone.

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface PushSigningKeys {
  current: SigningKey;
  /** Never published: tokens signed with it fail signature checks even under the current kid. */
  rogue: SigningKey;
  jwks: { keys: JWK[] };
}

export async function makePushSigningKeys(): Promise<PushSigningKeys> {
  const current = await makeKey();
  const rogue = await makeKey();
  return {
    current: { kid: current.kid, privateKey: current.privateKey },
    rogue: { kid: rogue.kid, privateKey: rogue.privateKey },
    jwks: { keys: [current.jwk] },
  };
}

async function makeKey() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    modulusLength: 2048,
    extractable: true,
  });
  const pub = await exportJWK(publicKey);
  // Google's kids are 40 hex characters.
  const kid = createHash('sha1')
    .update(await calculateJwkThumbprint(pub))
    .digest('hex');
  return {
    privateKey,
    kid,
    jwk: { kty: pub.kty!, n: pub.n!, e: pub.e!, alg: 'RS256', use: 'sig', kid } as JWK,
  };
}
