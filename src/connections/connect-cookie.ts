import { randomBytes } from 'node:crypto';
import { readCookie } from '../http/cookies.ts';

/**
 * The cookie that binds a connect session's OAuth state to the browser that opened the connect
 * link. GET /connect/:token sets a fresh random value (the session keeps only its hash) and
 * /oauth/callback requires it, so an authorize URL finished in another browser links nothing.
 * One cookie per session, so two connect flows in one browser do not overwrite each other's;
 * scoped to the callback path, HttpOnly, SameSite=Lax (sent on the provider's top-level redirect
 * back, not on cross-site subrequests), Secure when tether is served over https, and no longer
 * lived than the session.
 */
const PREFIX = 'tether_connect_';

export interface BrowserBindingCookie {
  value: string;
  /** The Set-Cookie header that gives the browser this value. */
  header: string;
}

export function newBrowserBinding(
  publicUrl: string,
  sessionId: string,
  maxAgeSeconds: number,
): BrowserBindingCookie {
  const value = randomBytes(32).toString('base64url');
  return { value, header: cookieHeader(publicUrl, sessionId, value, maxAgeSeconds) };
}

/** The Set-Cookie header that deletes a session's binding once its callback has been answered. */
export function clearBrowserBinding(publicUrl: string, sessionId: string): string {
  return cookieHeader(publicUrl, sessionId, '', 0);
}

/** The binding value this browser sent for a session, if any. */
export function readBrowserBinding(
  cookieHeaderValue: string | undefined,
  sessionId: string,
): string | undefined {
  return readCookie(cookieHeaderValue, PREFIX + sessionId);
}

function cookieHeader(publicUrl: string, sessionId: string, value: string, maxAgeSeconds: number): string {
  const url = new URL(publicUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}/oauth/callback`;
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  return `${PREFIX}${sessionId}=${value}; Path=${path}; Max-Age=${Math.max(0, Math.ceil(maxAgeSeconds))}; HttpOnly; SameSite=Lax${secure}`;
}
