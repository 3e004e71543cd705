import { randomBytes } from 'node:crypto';

/**
 * Resource ids that sort by creation time: prefix, milliseconds in base 36
 * (fixed width), then 64 random bits. Lists page on the id alone, newest
 * first, with no duplicates or gaps while rows are being inserted.
 *
 * The random bits come from a pool refilled 4 KiB at a time (as node's
 * randomUUID does): ids are made on the webhook hot path, and a call into
 * the system's random source per id costs more than the rest of the id.
 * They are identifiers, never secrets: secrets take randomBytes directly.
 */
const POOL_BYTES = 4096;
const ID_RANDOM_BYTES = 8;
let pool = Buffer.alloc(0);
let offset = 0;

export function makeId(prefix: string): string {
  if (offset + ID_RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + ID_RANDOM_BYTES);
  offset += ID_RANDOM_BYTES;
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${random}`;
}
