import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * The one comparison every secret check goes through (API keys, webhook
 * signatures). Both sides are hashed first, so inputs of different lengths
 * compare in constant time too and never make timingSafeEqual throw.
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const digestA = createHash('sha256').update(a).digest();
  const digestB = createHash('sha256').update(b).digest();
  // The length check keeps equal-hash-different-length impossible in principle.
  return timingSafeEqual(digestA, digestB) && byteLength(a) === byteLength(b);
}

/**
 * safeEqual against one secret that every request checks (the API key): the secret's digest and
 * length are taken once, so a check hashes only the candidate, in one call (the per-request cost
 * of the bearer check was two Hash objects and two digests).
 */
export function makeSecretMatcher(secret: string): (candidate: string) => boolean {
  const digest = hash('sha256', secret, 'buffer');
  const length = Buffer.byteLength(secret);
  return (candidate) =>
    timingSafeEqual(hash('sha256', candidate, 'buffer'), digest) && Buffer.byteLength(candidate) === length;
}

function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}
