/**
 * The one place that decides what counts as a secret in logs, audit metadata
 * and error details. Field names are compared case- and separator-blind, so
 * `access_token`, `accessToken` and `Access-Token` are all secrets.
 */
const SECRET_NAME =
  /(token|secret|password|passwd|apikey|privatekey|authorization|cookie|credential|signature|codeverifier|encryptionkey|^keys?$|^code$|^assertion$)/;

const REDACTED = '[redacted]';

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(/[-_\s]/g, ''));
}

/** A deep copy of `value` with every secret-named field replaced by [redacted]. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  // Class instances (requests, errors) are left to their serializers.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretName(key) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}

/** Path segments that are bearer secrets themselves: the connect session token. */
const SECRET_PATH_SEGMENT = /^(\/connect\/)[^/?#]+/;

/**
 * A URL for logs: a connect session token in the path and the values of secret-named query
 * parameters (an OAuth callback's `code`, and its `state`) replaced.
 */
export function redactUrl(url: string): string {
  const path = url.replace(SECRET_PATH_SEGMENT, `$1${REDACTED}`);
  const q = path.indexOf('?');
  if (q === -1) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (isSecretName(key) || key === 'state') params.set(key, REDACTED);
  }
  return `${path.slice(0, q)}?${params.toString()}`;
}
