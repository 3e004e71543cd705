import { createHash, timingSafeEqual } from 'node:crypto';

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

function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}
