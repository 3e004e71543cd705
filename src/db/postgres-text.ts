/**
 * PostgreSQL's text and jsonb cannot hold U+0000: a value carrying it is a database error
 * (22021, 22P05) at whatever statement first meets it. Values from outside are checked for it
 * where they enter, so the caller hears which field, not a 500.
 */

/**
 * Where U+0000 appears in a value (a string, or objects and arrays of them at any depth): its
 * path from `path`, with `.` between steps, or undefined when it holds none.
 */
export function findNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key.includes('\0')) return at.replaceAll('\0', '\\u0000'); // a field name holds it
    const found = findNul(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}
