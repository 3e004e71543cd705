import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AppError, isConnectOutcomeCode } from '../errors.ts';
import { getProvider } from '../providers/index.ts';
import { clearBrowserBinding } from './connect-cookie.ts';
import { type ConnectDeps, completeAuthorization, startAuthorization } from './connect-flow.ts';
import { accountLabel, connectPage } from './connect-page.ts';

/** The public half of the connect flow: what a person's browser visits. No API key. */
export const connectRoutes: FastifyPluginAsync<ConnectDeps> = async (app, deps) => {
  const page = (reply: FastifyReply, status: number, title: string, message: string, code?: string) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(connectPage(title, message, code));

  /** A connect outcome; any other error is the API's (the error handler renders it). */
  const isOutcome = (error: unknown): error is AppError =>
    error instanceof AppError && isConnectOutcomeCode(error.code);

  /** A failure goes back to the app's redirectUrl when the flow says so, else to a page. */
  const failure = (reply: FastifyReply, error: AppError, title: string) =>
    error.returnTo
      ? reply.header('cache-control', 'no-store').redirect(error.returnTo, 302)
      : page(reply, error.status, title, error.message, error.code);

  app.get<{ Params: { token: string } }>(
    '/connect/:token',
    {
      schema: {
        tags: ['connect'],
        summary: 'The link a connect session hands out: starts the OAuth dance',
        documentedResponses: {
          302: { description: 'To the provider’s consent page' },
          '4XX': { description: 'An HTML page saying why the link cannot be used' },
        },
      },
    },
    async (request, reply) => {
      try {
        const { url, setCookie } = await startAuthorization(deps, request.params.token);
        return reply
          .header('cache-control', 'no-store')
          .header('set-cookie', setCookie)
          .redirect(url.toString(), 302);
      } catch (error) {
        if (isOutcome(error)) return failure(reply, error, 'Cannot connect');
        throw error;
      }
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/oauth/callback',
    {
      schema: {
        tags: ['connect'],
        summary: 'The one OAuth redirect URI: finishes the connection',
        documentedResponses: {
          200: { description: 'An HTML page saying the account is connected' },
          302: { description: 'Back to the session’s redirectUrl with the outcome' },
          '4XX': { description: 'An HTML page saying why the account was not connected' },
        },
      },
    },
    async (request, reply) => {
      try {
        const result = await completeAuthorization(deps, request.query, {
          cookieHeader: request.headers.cookie,
          // The binding is single use, like the state it guards.
          onSession: (sessionId) =>
            reply.header('set-cookie', clearBrowserBinding(deps.publicUrl, sessionId)),
        });
        if (result.returnTo) return reply.header('cache-control', 'no-store').redirect(result.returnTo, 302);
        // Warnings are for the app's developers (the connection's lastError, the audit log), not this page.
        const { connection } = result;
        const provider = getProvider(connection.provider);
        const account = accountLabel(connection.metadata, connection.providerAccountId);
        return page(
          reply,
          200,
          `Connected to ${provider.displayName}`,
          `Your ${provider.displayName} account ${account} is connected. You can close this window.`,
        );
      } catch (error) {
        if (isOutcome(error)) return failure(reply, error, 'Not connected');
        throw error;
      }
    },
  );
};
