import { randomBytes } from 'node:crypto';

/**
 * Resource ids that sort by creation time: prefix, milliseconds in base 36
 * (fixed width), then 64 random bits. Lists page on the id alone, newest
 * first, with no duplicates or gaps while rows are being inserted.
 */
export function makeId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
