import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recordAudit } from '../audit/audit-log.ts';
import { safeEqual } from '../crypto/constant-time.ts';
import type { Db } from '../db/client.ts';
import type { AuthFailureGuard } from '../http/auth.ts';
import { html } from '../http/html.ts';
import { csrfField, page } from './layout.ts';
import { cookieHeader, readDashboardCookie, SESSION_COOKIE, SIGN_IN_COOKIE } from './session-cookie.ts';
import { SESSION_LIFETIME_MS, type SessionStore } from './session-store.ts';

export interface SignInDeps {
  db: Db;
  sessions: SessionStore;
  apiKey: string;
  adminPassword: string | undefined;
  publicUrl: string;
  authGuard: AuthFailureGuard;
}

const SIGN_IN_FORM_SECONDS = 30 * 60;

/** Which secret the person typed, if any: the API key or TETHER_ADMIN_PASSWORD. */
function secretKind(given: string, deps: SignInDeps): 'api_key' | 'admin_password' | undefined {
  // Both comparisons always run, so timing does not tell which secret exists.
  const isKey = safeEqual(given, deps.apiKey);
  const isPassword = deps.adminPassword !== undefined && safeEqual(given, deps.adminPassword);
  return isKey ? 'api_key' : isPassword ? 'admin_password' : undefined;
}

function signInPage(deps: SignInDeps, reply: FastifyReply, status: number, problem?: string): FastifyReply {
  const formToken = randomBytes(24).toString('base64url');
  reply.header('set-cookie', cookieHeader(deps.publicUrl, SIGN_IN_COOKIE, formToken, SIGN_IN_FORM_SECONDS));
  const secretLabel = deps.adminPassword ? 'API key or admin password' : 'API key';
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      page({
        title: 'Sign in',
        notice: problem ? { kind: 'error', text: problem } : undefined,
        body: html`<form class="stack" method="post" action="/dashboard/sign-in">
${csrfField(formToken)}
<label>${secretLabel}<input type="password" name="secret" autocomplete="current-password" required autofocus></label>
<button>Sign in</button>
</form>
<p class="muted">The API key is TETHER_API_KEY; on the embedded default tether printed it at start.</p>`,
      }),
    );
}

export function signInRoutes(app: FastifyInstance, deps: SignInDeps): void {
  app.get('/dashboard/sign-in', { schema: { hide: true } }, async (_request, reply) =>
    signInPage(deps, reply, 200),
  );

  app.post('/dashboard/sign-in', { schema: { hide: true } }, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const expected = readDashboardCookie(request.headers.cookie, SIGN_IN_COOKIE);
    if (!expected || typeof form._csrf !== 'string' || !safeEqual(form._csrf, expected)) {
      return signInPage(
        deps,
        reply,
        403,
        'The sign-in form expired or did not come from this page. Try again.',
      );
    }
    const retryAfterSeconds = deps.authGuard.limiter.retryAfterSeconds(request.ip);
    if (retryAfterSeconds > 0) {
      deps.authGuard.onFailure?.('rate_limited');
      reply.header('retry-after', String(retryAfterSeconds));
      return signInPage(
        deps,
        reply,
        429,
        `Too many failed sign-ins. Wait ${retryAfterSeconds} seconds and try again.`,
      );
    }
    const kind = typeof form.secret === 'string' ? secretKind(form.secret, deps) : undefined;
    if (!kind) {
      deps.authGuard.limiter.recordFailure(request.ip);
      deps.authGuard.onFailure?.('unauthorized');
      return signInPage(deps, reply, 401, 'That is not the API key or the admin password.');
    }
    const { id } = await deps.sessions.create(kind);
    await recordAudit(deps.db, {
      actor: 'dashboard',
      action: 'dashboard.signed_in',
      metadata: { with: kind },
    });
    reply.header('set-cookie', [
      cookieHeader(deps.publicUrl, SESSION_COOKIE, id, SESSION_LIFETIME_MS / 1000),
      cookieHeader(deps.publicUrl, SIGN_IN_COOKIE, '', 0),
    ]);
    return reply.redirect('/dashboard', 303);
  });
}

/** Ends the session everywhere (its row is deleted) and forgets the cookie. */
export async function signOut(deps: SignInDeps, request: FastifyRequest, reply: FastifyReply) {
  await deps.sessions.remove(readDashboardCookie(request.headers.cookie, SESSION_COOKIE));
  reply.header('set-cookie', cookieHeader(deps.publicUrl, SESSION_COOKIE, '', 0));
  return reply.redirect('/dashboard/sign-in', 303);
}
