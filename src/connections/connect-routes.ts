import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import {
  type ConnectDeps,
  ConnectFlowError,
  completeAuthorization,
  startAuthorization,
} from './connect-flow.ts';
import { connectPage } from './connect-page.ts';

/** The public half of the connect flow: what a person's browser visits. No API key. */
export const connectRoutes: FastifyPluginAsync<ConnectDeps> = async (app, deps) => {
  const page = (reply: FastifyReply, status: number, title: string, message: string) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(connectPage(title, message));

  app.get<{ Params: { token: string } }>(
    '/connect/:token',
    { schema: { hide: true } },
    async (request, reply) => {
      try {
        const url = await startAuthorization(deps, request.params.token);
        return reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
      } catch (error) {
        if (error instanceof ConnectFlowError)
          return page(reply, error.status, 'Cannot connect', error.message);
        throw error;
      }
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/oauth/callback',
    { schema: { hide: true } },
    async (request, reply) => {
      try {
        const result = await completeAuthorization(deps, request.query);
        if (result.redirectUrl) {
          const target = new URL(result.redirectUrl);
          target.searchParams.set('connectionId', result.connection.id);
          target.searchParams.set('status', 'connected');
          return reply.redirect(target.toString(), 302);
        }
        // Warnings are for the app's developers (the connection's lastError, the audit log), not this page.
        return page(reply, 200, 'Connected', 'Your account is connected. You can close this window.');
      } catch (error) {
        if (error instanceof ConnectFlowError)
          return page(reply, error.status, 'Not connected', error.message);
        throw error;
      }
    },
  );
};
