import { AppError } from '../errors.ts';

// The records API's cursor: the change position read up to, as opaque base64url JSON. Anything
// that does not decode to one is a 400 invalid_cursor, never a 500.

const VERSION = 1;

/** `change`: oldest change first, the default; `newest`: newest first, for people browsing. */
export type RecordsOrder = 'change' | 'newest';

export function encodeRecordsCursor(position: string, order: RecordsOrder = 'change'): string {
  const body = order === 'change' ? { v: VERSION, p: position } : { v: VERSION, p: position, o: order };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The position a cursor stands at; a cursor of the other order is refused too. */
export function decodeRecordsCursor(cursor: string, order: RecordsOrder = 'change'): string {
  const invalid = () => new AppError('invalid_cursor', 'The "cursor" is not one this list handed out.');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { v, p, o } = (parsed ?? {}) as { v?: unknown; p?: unknown; o?: unknown };
  if (v !== VERSION || typeof p !== 'string' || !/^\d{1,19}$/.test(p) || BigInt(p) > 2n ** 63n - 1n)
    throw invalid();
  if ((o ?? 'change') !== order) throw invalid();
  return p;
}
