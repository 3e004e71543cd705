import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Sealer } from '../crypto/seal.ts';
import { AppError } from '../errors.ts';
import { integrationContext } from '../integrations/integration-store.ts';
import { ProviderError, type ProviderRuntime } from '../providers/provider.ts';
import type { ConnectionStore, LoadedConnection } from './connection-store.ts';
import { type Credentials, connectionContext, openCredentials } from './credentials.ts';
import { parseProxyPath, proxyTarget } from './proxy-target.ts';
import type { TokenService } from './token-service.ts';

/**
 * ALL /v1/proxy/:connectionId/* — calls the provider's API as the
 * connection. Auth (and provider headers: xero-tenant-id, Notion-Version) is
 * added; the caller's own Authorization (tether's API key) never leaves.
 * The path must stay inside the provider's API base (proxy-target.ts: 400
 * invalid_proxy_path otherwise, before any token is touched); an integration
 * without an API base answers 409 proxy_not_configured. Redirects are not
 * followed: a 3xx goes back to the caller as it came, Location included.
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
  connections: ConnectionStore;
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
      documentedResponses: {
        default: { description: 'The provider’s answer, status, headers and body as it gave them' },
      },
      errors: [
        'invalid_proxy_path',
        'not_found',
        'not_connected',
        'reauthorization_required',
        'proxy_not_configured',
        'refresh_failed_transient',
        'integration_misconfigured',
      ],
    },
    handler: async (request, reply) => {
      const id = request.params.connectionId;
      // Path and base are checked before any token is read or refreshed: a refused call costs
      // nothing upstream.
      const path = parseProxyPath(...rawProxiedPath(request));
      // A fresh token in the token cache brings its connection too: no database read at all.
      const cached = deps.tokens.cached(id);
      const loaded = cached?.loaded ?? (await deps.connections.load(id));
      const target = proxyTarget(apiBaseOf(loaded), path);
      let token = await deps.tokens.getAccessToken(id);
      // Its access token is all the cache holds; the proxied call needs no other secret.
      const opened = cached && { accessToken: cached.accessToken, refreshToken: null };
      let upstream = await callProvider(request, loaded, opened, target, token.accessToken);
      if (await upstream.isAuthFailure()) {
        token = await deps.tokens.replaceRejectedToken(id, token.accessToken);
        upstream = await callProvider(request, loaded, undefined, target, token.accessToken);
      }
      return relay(reply, upstream.response);
    },
  });

  /**
   * The integration's API base for this connection; 409 when it has none. It depends on the
   * integration and the connection's metadata (DocuSign's base_uri), never on its secrets.
   */
  function apiBaseOf({ row, integration, provider }: LoadedConnection): string {
    let base: string | undefined;
    try {
      base = provider.proxy.baseUrl(
        integrationContext(deps.sealer, integration),
        connectionContext(row, { accessToken: '', refreshToken: null }),
      );
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      throw new AppError('integration_misconfigured', `${error.message}.`, { cause: error });
    }
    if (!base) {
      throw new AppError(
        'proxy_not_configured',
        `Integration "${integration.key}" has no endpoints.apiBaseUrl, so tether cannot proxy its calls; set one, or call the provider with the connection's access token.`,
      );
    }
    return base;
  }

  async function callProvider(
    request: FastifyRequest,
    { row, integration, provider }: LoadedConnection,
    opened: Credentials | undefined,
    target: URL,
    accessToken: string,
  ) {
    const credentials = opened ?? openCredentials(deps.sealer, row);
    if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
    const ctx = integrationContext(deps.sealer, integration);
    const connection = connectionContext(row, { ...credentials, accessToken });
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
      // A redirect is the caller's to follow or not: following it here would send the caller's
      // headers (and the provider's, like xero-tenant-id) to wherever the Location points.
      response = await deps.runtime.fetch(target, {
        method: request.method,
        headers,
        body: body ? new Uint8Array(body) : undefined,
        redirect: 'manual',
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
      /**
       * Reads the body only for answers that may mean "bad token"; the rest stream untouched.
       * No redirect was followed, so the answer comes from inside the API base: nothing else can
       * make tether refresh.
       */
      async isAuthFailure(): Promise<boolean> {
        if (response.status !== 401 && response.status !== 400 && response.status !== 403) return false;
        const text = await response.clone().text();
        return provider.proxy.isAuthFailure(response.status, text);
      },
    };
  }
};

/** The path after `/v1/proxy/:connectionId/` as it arrived (still percent-encoded), and the query. */
function rawProxiedPath(request: FastifyRequest): [path: string, query: string] {
  const at = request.url.indexOf('?');
  const path = at === -1 ? request.url : request.url.slice(0, at);
  const query = at === -1 ? '' : request.url.slice(at);
  const wildcardAt = (request.routeOptions.url ?? '').split('/').indexOf('*');
  return [path.split('/').slice(wildcardAt).join('/'), query];
}

function relay(reply: FastifyReply, response: Response): FastifyReply {
  reply.status(response.status);
  for (const [name, value] of response.headers) {
    if (!HOP_BY_HOP.has(name) && !STALE_RESPONSE.has(name)) reply.header(name, value);
  }
  if (!response.body) return reply.send();
  return reply.send(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream));
}
