import { AppError } from '../errors.ts';

/**
 * Where a proxied call goes. The caller's path (everything after
 * `/v1/proxy/:connectionId/`, as it arrived, still percent-encoded) is
 * decoded one segment at a time and refused with 400 invalid_proxy_path when
 * any segment could climb out of the API base: `..`, also spelled
 * `%2e%2e`, hidden inside an encoded slash or backslash (`..%2f`, `..%5c`),
 * or encoded twice (`%252e%252e`). Empty and `.` segments are dropped. Each
 * segment is then re-encoded on its own, so an encoded slash stays data
 * (`o/folder%2Ffile`), and the URL is checked once more: same origin as the
 * API base and under its path. Only then may it carry the connection's token.
 */

/** The caller's path, decoded and checked: segments, and whether it ended with a slash. */
export interface ProxyPath {
  segments: string[];
  trailingSlash: boolean;
  /** The raw query string with its `?`, or ''. */
  query: string;
}

export function parseProxyPath(rawPath: string, query = ''): ProxyPath {
  const segments: string[] = [];
  // A raw backslash is a slash to WHATWG URL parsers (and to many servers), so it splits too.
  for (const raw of rawPath.split(/[/\\]/)) {
    const segment = decodeSegment(raw);
    if (climbs(segment)) throw invalidPath('a ".." segment (plain or encoded) leaves the provider’s API');
    if (segment !== '' && segment !== '.') segments.push(segment);
  }
  const trailingSlash = segments.length > 0 && /[/\\]$/.test(rawPath);
  return { segments, trailingSlash, query };
}

/** The URL of a proxied call: the checked path under the API base, or 400 if it would leave it. */
export function proxyTarget(apiBaseUrl: string, path: ProxyPath): URL {
  const base = new URL(apiBaseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const tail = path.segments.map(encodeSegment).join('/') + (path.trailingSlash ? '/' : '');
  const target = new URL(`${base.origin}${prefix}/${tail}${path.query}`);
  if (!isUnder(target, base.origin, prefix))
    throw invalidPath('the path resolves outside the provider’s API');
  return target;
}

/** Same origin, no userinfo, and the path is the prefix itself or below it. */
export function isUnder(url: URL, origin: string, prefix: string): boolean {
  if (url.origin !== origin || url.username !== '' || url.password !== '') return false;
  return prefix === '' || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
}

/** Whether a decoded segment, read as a path by a server that decodes once more, contains `..`. */
function climbs(segment: string): boolean {
  const hasDotDot = (text: string) => text.split(/[/\\]/).some((piece) => piece === '..');
  return hasDotDot(segment) || hasDotDot(decodeLeniently(segment));
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidPath('the path has a malformed percent-encoding');
  }
}

/** A second decode only to look for hidden dots: text that does not decode is taken as it is. */
function decodeLeniently(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** encodeURIComponent, keeping what a path segment may hold as is (RFC 3986 pchar: `:@$&+,;=`). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(3A|40|24|26|2B|2C|3B|3D)/g, (escaped) =>
    decodeURIComponent(escaped),
  );
}

function invalidPath(why: string): AppError {
  return new AppError('invalid_proxy_path', `The proxied path is refused: ${why}.`);
}
