import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../crypto/constant-time.ts';
import type { Db } from '../db/client.ts';
import type { AuthFailureGuard } from '../http/auth.ts';
import { html } from '../http/html.ts';
import { type DashboardApi, errorOf, makeDashboardApi } from './api-client.ts';
import type { ConnectionView, ConnectSession } from './api-types.ts';
import { page } from './layout.ts';
import { noticeFrom } from './notices.ts';
import type { PageContext, RenderedPage } from './page-context.ts';
import { auditPage } from './pages/audit.ts';
import { connectLinkPage } from './pages/connect-link.ts';
import { connectionPage } from './pages/connection.ts';
import { connectionsPage } from './pages/connections.ts';
import { inboxEventPage, inboxPage } from './pages/inbox.ts';
import { overviewPage } from './pages/overview.ts';
import { rotatedSecretPage, subscriptionPage, subscriptionsPage } from './pages/subscriptions.ts';
import { syncRunPage, syncRunsPage } from './pages/sync-runs.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { readDashboardCookie, SESSION_COOKIE } from './session-cookie.ts';
import { type DashboardSession, makeSessionStore } from './session-store.ts';
import { signInRoutes, signOut } from './sign-in.ts';
import { STYLESHEET } from './style.ts';

export interface DashboardDeps {
  db: Db;
  apiKey: string;
  adminPassword: string | undefined;
  publicUrl: string;
  authGuard: AuthFailureGuard;
  now: () => Date;
}

type Form = Record<string, string | undefined>;
type Action = (api: DashboardApi, params: Record<string, string>, form: Form) => Promise<ActionResult>;
/** Where to go after an action, with the notice to show there; or a page to show instead. */
type ActionResult = { back: string; done?: string; failed?: string } | { page: RenderedPage };

const sessions = new WeakMap<FastifyRequest, DashboardSession>();

/** The operator dashboard at /dashboard: server-rendered pages over tether's own API. */
export async function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const store = makeSessionStore(deps.db, deps.now);
  const signIn = { ...deps, sessions: store };
  const api = makeDashboardApi(app, deps.apiKey);
  const origin = new URL(deps.publicUrl).origin;

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => setSecurityHeaders(reply));
    scope.get('/dashboard/assets/style.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLESHEET),
    );
    signInRoutes(scope, signIn);

    await scope.register(async (guarded) => {
      guarded.addHook('preHandler', async (request, reply) => {
        const session = await store.find(readDashboardCookie(request.headers.cookie, SESSION_COOKIE));
        if (!session) return reply.redirect('/dashboard/sign-in', 303);
        if (request.method === 'POST') {
          // The token proves the form came from a dashboard page; the Origin check is a second lock.
          const given = (request.body as Form | undefined)?._csrf;
          const from = request.headers.origin;
          if (
            typeof given !== 'string' ||
            !safeEqual(given, session.csrfToken) ||
            (from && from !== origin)
          ) {
            return reply
              .code(403)
              .type('text/html; charset=utf-8')
              .send(
                page({
                  title: 'Refused',
                  csrfToken: session.csrfToken,
                  notice: {
                    kind: 'error',
                    text: 'This form did not come from a dashboard page of this session (missing or wrong CSRF token). Go back, reload and try again.',
                  },
                  body: html``,
                }),
              );
          }
        }
        sessions.set(request, session);
      });

      const show = (path: string, render: (ctx: PageContext) => Promise<RenderedPage>) =>
        guarded.get(path, { schema: pageSchema(path) }, async (request, reply) => {
          const session = sessions.get(request)!;
          const query = request.query as Record<string, string | undefined>;
          const ctx = {
            api,
            csrfToken: session.csrfToken,
            query,
            params: request.params as Record<string, string>,
          };
          return sendPage(reply, session, await render(ctx), noticeFrom(query));
        });
      const act = (path: string, action: Action) =>
        guarded.post(path, { schema: { hide: true } }, async (request, reply) => {
          const session = sessions.get(request)!;
          const result = await action(
            api,
            request.params as Record<string, string>,
            (request.body ?? {}) as Form,
          );
          if ('page' in result) return sendPage(reply, session, result.page);
          const sep = result.back.includes('?') ? '&' : '?';
          const flag = result.done ? `done=${result.done}` : `failed=${result.failed ?? 'unexpected'}`;
          return reply.redirect(`${result.back}${sep}${flag}`, 303);
        });

      show('/dashboard', overviewPage);
      show('/dashboard/connections', connectionsPage);
      show('/dashboard/connections/:id', connectionPage);
      show('/dashboard/inbox', inboxPage);
      show('/dashboard/inbox/:id', inboxEventPage);
      show('/dashboard/sync-runs', syncRunsPage);
      show('/dashboard/sync-runs/:id', syncRunPage);
      show('/dashboard/subscriptions', subscriptionsPage);
      show('/dashboard/subscriptions/:id', subscriptionPage);
      show('/dashboard/audit', auditPage);

      guarded.post('/dashboard/sign-out', { schema: { hide: true } }, (request, reply) =>
        signOut(signIn, request, reply),
      );
      act('/dashboard/connect', async (api, _params, form) =>
        connectLink(api, form.integration, form.endUserId),
      );
      act('/dashboard/connections/:id/reconnect', async (api, { id }) => {
        const c = await api.get<ConnectionView>(`/v1/connections/${encodeURIComponent(id!)}`);
        if (c.status !== 200) return { back: '/dashboard/connections', failed: errorOf(c).code };
        return connectLink(api, c.body.integration, c.body.endUserId);
      });
      act('/dashboard/connections/:id/refresh', async (api, { id }) =>
        outcome(
          await api.send('POST', `/v1/connections/${encodeURIComponent(id!)}/refresh`),
          connectionPath(id!),
          'refreshed',
        ),
      );
      act('/dashboard/connections/:id/disconnect', async (api, { id }) =>
        outcome(
          await api.send('DELETE', `/v1/connections/${encodeURIComponent(id!)}`),
          connectionPath(id!),
          'disconnected',
        ),
      );
      act('/dashboard/connections/:id/syncs/:sync/run', async (api, { id, sync }) =>
        outcome(await api.send('POST', `${syncPath(id!, sync!)}/run`), connectionPath(id!), 'sync_started'),
      );
      act('/dashboard/connections/:id/syncs/:sync/reset', async (api, { id, sync }) =>
        outcome(await api.send('POST', `${syncPath(id!, sync!)}/reset`), connectionPath(id!), 'sync_reset'),
      );
      act('/dashboard/connections/:id/syncs/:sync/settings', async (api, { id, sync }, form) => {
        const body: Record<string, unknown> = {};
        if (form.enabled === 'true' || form.enabled === 'false') body.enabled = form.enabled === 'true';
        if (form.frequency)
          body.frequency = /^\d+$/.test(form.frequency) ? Number(form.frequency) : form.frequency;
        return outcome(
          await api.send('PATCH', syncPath(id!, sync!), body),
          connectionPath(id!),
          'sync_updated',
        );
      });
      const subscriptionPath = (id: string) => `/dashboard/subscriptions/${encodeURIComponent(id)}`;
      const v1Subscription = (id: string) => `/v1/event-subscriptions/${encodeURIComponent(id)}`;
      for (const [action, enabled] of [
        ['enable', true],
        ['disable', false],
      ] as const) {
        act(`/dashboard/subscriptions/:id/${action}`, async (api, { id }) =>
          outcome(
            await api.send('PATCH', v1Subscription(id!), { enabled }),
            subscriptionPath(id!),
            'subscription_updated',
          ),
        );
      }
      act('/dashboard/subscriptions/:id/rotate-secret', async (api, { id }) => {
        const answer = await api.send<{ secret: string }>('POST', `${v1Subscription(id!)}/rotate-secret`);
        if (answer.status >= 300) return { back: subscriptionPath(id!), failed: errorOf(answer).code };
        return { page: rotatedSecretPage(answer.body.secret, id!) };
      });
      act('/dashboard/subscriptions/:id/recover', async (api, { id }, form) => {
        const since = form.since ? new Date(form.since) : undefined;
        if (!since || Number.isNaN(since.getTime()))
          return { back: subscriptionPath(id!), failed: 'validation_failed' };
        const answer = await api.send('POST', `${v1Subscription(id!)}/recover`, {
          since: since.toISOString(),
        });
        return outcome(answer, subscriptionPath(id!), 'recovered');
      });
      act('/dashboard/deliveries/:id/retry', async (api, { id }, form) => {
        const back =
          form.subscription && /^[A-Za-z0-9_-]{1,100}$/.test(form.subscription)
            ? subscriptionPath(form.subscription)
            : '/dashboard/subscriptions';
        return outcome(
          await api.send('POST', `/v1/event-deliveries/${encodeURIComponent(id!)}/retry`),
          back,
          'delivery_retried',
        );
      });
      act('/dashboard/inbox/:id/replay', async (api, { id }) =>
        outcome(
          await api.send('POST', `/v1/events/${encodeURIComponent(id!)}/replay`),
          `/dashboard/inbox/${encodeURIComponent(id!)}`,
          'replayed',
        ),
      );
    });
  });
}

/** The entry page is documented (it is the public `/dashboard`); the pages under it are not API. */
function pageSchema(path: string) {
  if (path !== '/dashboard') return { hide: true };
  return {
    tags: ['dashboard'],
    summary: 'The operator dashboard (HTML); without a session, a redirect to its sign-in page',
    documentedResponses: {
      200: { description: 'The overview page' },
      303: { description: 'To /dashboard/sign-in when not signed in' },
    },
  };
}

function sendPage(
  reply: FastifyReply,
  session: DashboardSession,
  rendered: RenderedPage,
  notice?: ReturnType<typeof noticeFrom>,
) {
  return reply
    .code(rendered.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(
      page({
        title: rendered.title,
        section: rendered.section,
        csrfToken: session.csrfToken,
        notice,
        body: rendered.body,
      }),
    );
}

function outcome(answer: { status: number; body: unknown }, back: string, done: string): ActionResult {
  return answer.status < 300 ? { back, done } : { back, failed: errorOf(answer).code };
}

const connectionPath = (id: string) => `/dashboard/connections/${encodeURIComponent(id)}`;
const syncPath = (id: string, sync: string) =>
  `/v1/connections/${encodeURIComponent(id)}/syncs/${encodeURIComponent(sync)}`;

async function connectLink(
  api: DashboardApi,
  integration: string | undefined,
  endUserId: string | undefined,
): Promise<ActionResult> {
  const answer = await api.send<ConnectSession>('POST', '/v1/connect-sessions', { integration, endUserId });
  if (answer.status !== 201) return { back: '/dashboard/connections', failed: errorOf(answer).code };
  return { page: connectLinkPage(answer.body, integration ?? '', endUserId ?? '') };
}
