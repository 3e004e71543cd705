/**
 * The one place that decides what counts as a secret in logs, audit metadata
 * and error details. Field names are compared case- and separator-blind, so
 * `access_token`, `accessToken` and `Access-Token` are all secrets.
 */
const SECRET_NAME =
  /(token|secret|password|passwd|apikey|privatekey|authorization|cookie|credential|signature|codeverifier|encryptionkey|^keys?$|^code$|^assertion$)/;

const REDACTED = '[redacted]';

/** Field names seen and their verdict: the same few names come on every log line. */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 4096;

function isSecretName(name: string): boolean {
  let secret = verdicts.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name.toLowerCase().replace(/[-_\s]/g, ''));
    // Bounded: names from payloads could be endless; past the bound they are judged each time.
    if (verdicts.size < MAX_VERDICTS) verdicts.set(name, secret);
  }
  return secret;
}

/**
 * `value` with every secret-named field replaced by [redacted]: a copy of each object or array
 * that changes, and the value itself where nothing does (every log line passes through here, and
 * most have nothing to redact). Never modifies `value`.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return REDACTED;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) copy ??= value.slice(0, i);
      copy?.push(redacted);
    }
    return copy ?? value;
  }
  // Class instances (requests, errors) are left to their serializers.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = record[key];
    const redacted = isSecretName(key) ? REDACTED : redactSecrets(item, depth + 1);
    if (redacted !== item && !copy) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j]!] = record[keys[j]!];
    }
    if (copy) copy[key] = redacted;
  }
  return copy ?? value;
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
