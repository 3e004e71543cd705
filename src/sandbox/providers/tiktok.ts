import type { FastifyInstance } from 'fastify';
import { bearerToken, type ProviderReply, readParams, send } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import type { TokenFailure } from '../oauth/token-errors.ts';
import { authenticateClient, processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { standardTokenBody } from '../oauth/token-response.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { randomHex } from '../tokens.ts';
import type { SandboxProviderModule } from './provider.ts';
import { registerTiktokApiRoutes } from './tiktok-api.ts';

// TikTok (Login Kit v2): www.tiktok.com/v2/auth/authorize/, open.tiktokapis.com/v2/oauth/token/
// and /v2/oauth/revoke/, /v2/user/info/. Quirks: the client is `client_key` (never client_id)
// with client_secret in the form body; scopes are comma-separated and the authorize redirect
// echoes them as `scopes`; the token response carries open_id and refresh_expires_in; refresh
// tokens rotate. OAuth errors are `{error, error_description, log_id}`; API answers wrap
// `{data, error: {code, message, log_id}}` with code 'ok' on success.

const CLIENT_AUTH = { basic: false, body: true, idParam: 'client_key' } as const;

const quirks: TokenQuirks = {
  provider: 'tiktok',
  clientAuth: CLIENT_AUTH,
  prefixes: () => ({ access: 'act.', refresh: 'rft.' }),
};

const USER_FIELDS = [
  'open_id',
  'union_id',
  'avatar_url',
  'avatar_url_100',
  'avatar_large_url',
  'display_name',
  'username',
  'bio_description',
  'profile_deep_link',
  'is_verified',
  'follower_count',
  'following_count',
  'likes_count',
  'video_count',
];

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/v2/auth/authorize/', {
    provider: 'tiktok',
    brand: 'TikTok',
    clientIdParam: 'client_key',
    pkce: true,
    choices: (s) => s.accounts.tiktok.map((u) => ({ id: u.openId, label: u.username })),
    finishRedirect(url, code) {
      url.searchParams.set('scopes', code.scopes.join(','));
      return url.href;
    },
  });

  app.post('/v2/oauth/token/', endpoint('tiktok.token'), async (request, reply) => {
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) return send(reply, oauthError(outcome.failure));
    return reply.send({
      ...standardTokenBody(outcome, { scopeSeparator: ',', refreshExpiresIn: true }),
      open_id: outcome.grant.accountId,
    });
  });

  app.post('/v2/oauth/revoke/', endpoint('tiktok.revoke'), async (request, reply) => {
    const params = readParams(request.body);
    const client = authenticateClient(state, request, params, 'tiktok', CLIENT_AUTH);
    if ('reason' in client) return send(reply, oauthError(client));
    const token = params.token ? state.grants.access(params.token) : undefined;
    if (!token) {
      return send(
        reply,
        oauthError({
          status: 400,
          error: 'invalid_request',
          reason: 'refresh_unknown',
          description: 'The token is invalid.',
        }),
      );
    }
    state.grants.revoke(token.grantId, state.clock.now());
    return reply.code(200).send();
  });

  app.get('/v2/user/info/', endpoint('tiktok.user.info'), async (request, reply) => {
    const check = checkAccessToken(state, 'tiktok', bearerToken(request));
    if (!check.ok) {
      return send(
        reply,
        apiError(401, 'access_token_invalid', 'The access token is invalid or not found in the request.'),
      );
    }
    const fields = (readParams(request.query).fields ?? '').split(',').filter(Boolean);
    const unknown = fields.find((f) => !USER_FIELDS.includes(f));
    if (fields.length === 0 || unknown) {
      return send(
        reply,
        apiError(400, 'invalid_params', unknown ? `Invalid field: ${unknown}` : 'fields is required'),
      );
    }
    const user = state.accounts.tiktok.find((u) => u.openId === check.grant.accountId)!;
    const all: Record<string, unknown> = {
      open_id: user.openId,
      union_id: user.unionId,
      avatar_url: `https://p16-sign.tiktokcdn-us.com/sandbox/${user.username}.jpeg`,
      avatar_url_100: `https://p16-sign.tiktokcdn-us.com/sandbox/${user.username}~100.jpeg`,
      avatar_large_url: `https://p16-sign.tiktokcdn-us.com/sandbox/${user.username}~large.jpeg`,
      display_name: user.displayName,
      username: user.username,
      bio_description: 'tether sandbox account',
      profile_deep_link: `https://vm.tiktok.com/sandbox-${user.username}/`,
      is_verified: false,
      follower_count: 512,
      following_count: 64,
      likes_count: 4096,
      video_count: 24,
    };
    return reply.send({
      data: { user: Object.fromEntries(fields.map((f) => [f, all[f]])) },
      error: { code: 'ok', message: '', log_id: logId() },
    });
  });

  registerTiktokApiRoutes(app, state);
}

function oauthError(failure: TokenFailure): ProviderReply {
  return {
    status: failure.status,
    body: { error: failure.error, error_description: failure.description, log_id: logId() },
  };
}

export function apiError(status: number, code: string, message: string): ProviderReply {
  return { status, body: { data: {}, error: { code, message, log_id: logId() } } };
}

/** TikTok log ids: a UTC timestamp then hex, e.g. 202501021504050A1B2C3D4E5F60718293. */
export function logId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return `${stamp}${randomHex(9).toUpperCase()}`;
}

export const tiktok: SandboxProviderModule = {
  name: 'tiktok',
  simulates: ['tiktok'],
  routes,
  rateLimited: (hit) => ({
    ...apiError(429, 'rate_limit_exceeded', 'API rate limit exceeded, please retry later.'),
    headers: { 'retry-after': String(hit.retryAfterSec) },
  }),
  endpoints: (base) => ({
    authorizationUrl: `${base}/tiktok/v2/auth/authorize/`,
    tokenUrl: `${base}/tiktok/v2/oauth/token/`,
    revocationUrl: `${base}/tiktok/v2/oauth/revoke/`,
    userinfoUrl: `${base}/tiktok/v2/user/info/`,
    apiBaseUrl: `${base}/tiktok`,
  }),
};
