import { findNul } from '../../db/postgres-text.ts';
import { type Rejection, reject, type WebhookRequest } from './types.ts';

// Reading one delivery's headers and body the same way in every verifier.

type Headers = WebhookRequest['headers'];

/** All values of a header, whatever the case of its name (Node lowercases; others may not). */
function headerValues(headers: Headers, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
  }
  return values;
}

/**
 * The one value of a header that must appear once. Absent or blank: missing_header. Repeated
 * with different values: malformed_header (which one the sender meant is not ours to guess).
 */
export function singleHeader(headers: Headers, name: string): { ok: true; value: string } | Rejection {
  const values = [...new Set(headerValues(headers, name).map((v) => v.trim()))].filter((v) => v !== '');
  if (values.length === 0) return reject('missing_header', `The ${name} header is missing.`);
  if (values.length > 1) return reject('malformed_header', `The ${name} header appears more than once.`);
  return { ok: true, value: values[0]! };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as UTF-8 text, or undefined when the bytes are not valid UTF-8. */
function bodyText(rawBody: Uint8Array): string | undefined {
  try {
    return utf8.decode(rawBody);
  } catch {
    return undefined;
  }
}

/**
 * The body as a JSON object (not an array or a scalar), or undefined. Also undefined when a
 * string in it holds U+0000: PostgreSQL's jsonb cannot store that character, so such an event
 * could never be written to the inbox (it is refused as malformed rather than answered 503
 * forever).
 */
export function jsonObject(
  rawBody: Uint8Array,
  reviver?: (key: string, value: unknown, context?: { source?: string }) => unknown,
): Record<string, unknown> | undefined {
  const text = bodyText(rawBody);
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text, reviver);
    if (!isRecord(parsed)) return undefined;
    // The escape is the only way JSON text can carry U+0000; most bodies skip the walk.
    if (text.includes('\\u0000') && findNul(parsed) !== undefined) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string property, or undefined. */
export function stringField(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
