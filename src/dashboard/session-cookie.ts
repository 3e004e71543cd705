import { readCookie } from '../http/cookies.ts';

/**
 * The dashboard's cookies: the session (after sign-in) and the sign-in form's own CSRF token
 * (before it: a forged sign-in into the attacker's session is refused too). Both HttpOnly,
 * SameSite=Strict, limited to /dashboard, Secure when tether is served over https.
 */
export const SESSION_COOKIE = 'tether_dashboard';
export const SIGN_IN_COOKIE = 'tether_dashboard_sign_in';

export function cookieHeader(publicUrl: string, name: string, value: string, maxAgeSeconds: number): string {
  const url = new URL(publicUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}/dashboard`;
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  return `${name}=${value}; Path=${path}; Max-Age=${Math.max(0, Math.ceil(maxAgeSeconds))}; HttpOnly; SameSite=Strict${secure}`;
}

export function readDashboardCookie(header: string | undefined, name: string): string | undefined {
  return readCookie(header, name);
}
