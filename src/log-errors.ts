import { DrizzleQueryError } from 'drizzle-orm';
import { redactSecrets } from './redact.ts';

/**
 * How an error appears in the log: its type, message, stack and own fields (secret-named ones
 * redacted), and its causes the same way. Two kinds are cut down, because their text carries data:
 * - a failed query (drizzle's "Failed query: <sql> params: <values>", in message and stack) is
 *   logged as the database error that caused it: the values are event payloads and tokens;
 * - a database error keeps its code, message and the names of what it concerns, not its `detail`
 *   or `where` (a check violation's detail quotes the whole failing row).
 */
const DATABASE_FIELDS = ['code', 'severity', 'schema', 'table', 'column', 'constraint', 'routine'] as const;
const MAX_CAUSES = 4;

export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return redactSecrets(error);
  if (error instanceof DrizzleQueryError) {
    return error.cause === undefined
      ? { type: 'DatabaseError', message: 'A database query failed.' }
      : serializeError(error.cause, depth);
  }
  if (isDatabaseError(error)) {
    const out: Record<string, unknown> = { type: 'DatabaseError', message: error.message };
    for (const field of DATABASE_FIELDS) {
      const value = (error as unknown as Record<string, unknown>)[field];
      if (value !== undefined) out[field] = value;
    }
    return out;
  }
  const out: Record<string, unknown> = {
    type: error.constructor?.name ?? error.name,
    message: error.message,
    stack: error.stack,
  };
  const { code, ...fields } = { ...error } as Record<string, unknown>;
  // On an error, `code` is its error code (ECONNRESET, not_found), not an OAuth code.
  if (code !== undefined) out.code = code;
  const own = redactSecrets(fields) as Record<string, unknown>;
  for (const [key, value] of Object.entries(own)) if (key !== 'cause') out[key] = value;
  if (error.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

/** An error the database sent (pg's DatabaseError, PGlite's): a SQLSTATE code and a severity. */
function isDatabaseError(error: Error): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}
