import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Sealer } from '../crypto/seal.ts';
import { AppError } from '../errors.ts';
import { integrationContext } from '../integrations/integration-store.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { connectionContext, openCredentials } from './credentials.ts';
import type { TokenService } from './token-service.ts';

/**
 * ALL /v1/proxy/:connectionId/* — calls the provider's API as the
 * connection. Auth (and provider headers: xero-tenant-id, Notion-Version) is
 * added; the caller's own Authorization (tether's API key) never leaves.
 * On an auth failure the token is refreshed once and the call retried once
 * (a connection that cannot renew its token is reauthorization_required instead);
 * any other answer (403/404 about one resource, 429 with Retry-After) is
 * passed back as the provider gave it, streamed, and never disconnects.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'authorization',
  'cookie',
  'content-length',
  'x-request-id',
]);
/** fetch has already decoded the body, so these no longer describe it. */
const STALE_RESPONSE = new Set(['content-encoding', 'content-length', 'set-cookie']);

export interface ProxyDeps {
  sealer: Sealer;
  runtime: ProviderRuntime;
  tokens: TokenService;
}

export const proxyRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  // Bodies pass through untouched, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.route<{ Params: { connectionId: string; '*': string } }>({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'],
    url: '/proxy/:connectionId/*',
    schema: {
      tags: ['proxy'],
      summary: 'Call the provider’s API as this connection (auth added, 401 → refresh → one retry)',
    },
    handler: async (request, reply) => {
      const id = request.params.connectionId;
      let token = await deps.tokens.getAccessToken(id);
      let upstream = await callProvider(request, id, token.accessToken);
      if (await upstream.isAuthFailure()) {
        token = await deps.tokens.replaceRejectedToken(id, token.accessToken);
        upstream = await callProvider(request, id, token.accessToken);
      }
      return relay(reply, upstream.response);
    },
  });

  async function callProvider(
    request: FastifyRequest<{ Params: { connectionId: string; '*': string } }>,
    id: string,
    accessToken: string,
  ) {
    const { row, integration, provider } = await deps.tokens.load(id);
    const credentials = openCredentials(deps.sealer, row);
    if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
    const ctx = integrationContext(deps.sealer, integration);
    const connection = connectionContext(row, { ...credentials, accessToken });
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const base = provider.proxy.baseUrl(ctx, connection).replace(/\/+$/, '');
    const target = `${base}/${request.params['*']}${query}`;
    const requested: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !HOP_BY_HOP.has(name)) requested[name] = value;
    }
    const headers = {
      ...requested,
      ...provider.proxy.headers(ctx, connection, requested),
      authorization: `Bearer ${accessToken}`,
    };
    const body =
      request.body instanceof Buffer && request.method !== 'GET' && request.method !== 'HEAD'
        ? request.body
        : undefined;
    let response: Response;
    try {
      response = await deps.runtime.fetch(target, {
        method: request.method,
        headers,
        body: body ? new Uint8Array(body) : undefined,
      });
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new AppError(
        'bad_gateway',
        `${provider.displayName} ${timedOut ? 'did not answer in time' : 'could not be reached'}.`,
        { status: timedOut ? 504 : 502 },
      );
    }
    return {
      response,
      /** Reads the body only for answers that may mean "bad token"; the rest stream untouched. */
      async isAuthFailure(): Promise<boolean> {
        if (response.status !== 401 && response.status !== 400 && response.status !== 403) return false;
        const text = await response.clone().text();
        return provider.proxy.isAuthFailure(response.status, text);
      },
    };
  }
};

function relay(reply: FastifyReply, response: Response): FastifyReply {
  reply.status(response.status);
  for (const [name, value] of response.headers) {
    if (!HOP_BY_HOP.has(name) && !STALE_RESPONSE.has(name)) reply.header(name, value);
  }
  if (!response.body) return reply.send();
  return reply.send(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream));
}
