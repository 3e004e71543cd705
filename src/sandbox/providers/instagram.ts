import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type ProviderReply, readParams, send } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { type BearerCheck, checkAccessToken } from '../oauth/bearer.ts';
import type { TokenFailureReason } from '../oauth/token-errors.ts';
import { processTokenRequest, secondsLeft, type TokenQuirks } from '../oauth/token-flow.ts';
import { endpoint } from '../route-config.ts';
import type { InstagramUser } from '../seed.ts';
import type { SandboxState } from '../state.ts';
import { registerInstagramApiRoutes } from './instagram-api.ts';
import type { SandboxProviderModule } from './provider.ts';

// Instagram (Instagram API with Instagram Login): api.instagram.com/oauth/{authorize,
// access_token} and graph.instagram.com. Quirks: client id and secret in the form body; the code
// exchange gives a 1-hour short-lived token (no refresh token, no expires_in); GET
// /access_token?grant_type=ig_exchange_token trades it for a 60-day long-lived token; GET
// /refresh_access_token?grant_type=ig_refresh_token renews a long-lived token once it is at
// least 24 hours old and until it expires. Graph errors are OAuthException; code 190 means the
// token is invalid or expired. The authorize redirect ends in '#_'.

const quirks: TokenQuirks = {
  provider: 'instagram',
  clientAuth: { basic: false, body: true },
  prefixes: () => ({ access: 'IGAAS', refresh: 'IGRT' }),
};
const LONG_PREFIX = 'IGAAL';

const OAUTH_MESSAGES: Partial<Record<TokenFailureReason, string>> = {
  client_unknown: 'Invalid platform app',
  client_missing: 'Missing required field client_id',
  code_used: 'This authorization code has been used',
  redirect_mismatch:
    'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/oauth/authorize', {
    provider: 'instagram',
    brand: 'Instagram',
    pkce: false,
    choices: (s) => s.accounts.instagram.map((u) => ({ id: u.userId, label: u.username })),
    finishRedirect: (url) => `${url.href}#_`,
  });

  app.post('/oauth/access_token', endpoint('instagram.token'), async (request, reply) => {
    const params = readParams(request.body);
    if (params.grant_type !== 'authorization_code') {
      return send(reply, oauthError('Invalid grant_type'));
    }
    const outcome = processTokenRequest(state, request, params, quirks);
    if (!outcome.ok) {
      return send(reply, oauthError(OAUTH_MESSAGES[outcome.failure.reason] ?? 'Invalid authorization code'));
    }
    return reply.send({
      access_token: outcome.access.value,
      user_id: outcome.grant.accountId,
      permissions: outcome.grant.scopes.join(','),
    });
  });

  app.get('/graph/access_token', endpoint('instagram.exchange'), async (request, reply) => {
    const params = readParams(request.query);
    if (params.grant_type !== 'ig_exchange_token')
      return send(reply, graphError(100, 'Unsupported grant type.'));
    const check = checkAccessToken(state, 'instagram', params.access_token);
    if (!check.ok) return send(reply, tokenError(check));
    const client = state.clients.find('instagram', check.grant.clientId);
    if (
      !client ||
      !params.client_secret ||
      !state.clients.authenticate('instagram', client.clientId, params.client_secret)
    ) {
      return send(reply, graphError(101, 'Error validating client secret.'));
    }
    if (check.token.longLived)
      return send(reply, graphError(100, 'A long-lived token cannot be exchanged again.'));
    return reply.send(issueLongLived(state, check));
  });

  app.get('/graph/refresh_access_token', endpoint('instagram.refresh'), async (request, reply) => {
    const params = readParams(request.query);
    if (params.grant_type !== 'ig_refresh_token')
      return send(reply, graphError(100, 'Unsupported grant type.'));
    const check = checkAccessToken(state, 'instagram', params.access_token);
    if (!check.ok) return send(reply, tokenError(check));
    if (!check.token.longLived)
      return send(reply, graphError(100, 'Only long-lived tokens can be refreshed.'));
    const settings = state.settings.instagram;
    if (state.clock.now() - check.token.issuedAt < settings.minRefreshAgeSec * 1000) {
      return send(
        reply,
        graphError(100, 'The access token can only be refreshed once it is at least 24 hours old.'),
      );
    }
    return reply.send(issueLongLived(state, check));
  });

  app.get('/graph/me', endpoint('instagram.me'), (request, reply) => me(state, request, reply));
  app.get('/graph/:version/me', endpoint('instagram.me'), (request, reply) => me(state, request, reply));

  registerInstagramApiRoutes(app, state);
}

function issueLongLived(state: SandboxState, check: Extract<BearerCheck, { ok: true }>) {
  const now = state.clock.now();
  const token = state.grants.issueAccess(check.grant, {
    now,
    ttlSec: state.settings.instagram.longLivedTtlSec,
    prefix: LONG_PREFIX,
    longLived: true,
  });
  return { access_token: token.value, token_type: 'bearer', expires_in: secondsLeft(token.expiresAt, now) };
}

async function me(state: SandboxState, request: FastifyRequest, reply: FastifyReply) {
  const params = readParams(request.query);
  const check = checkAccessToken(state, 'instagram', params.access_token ?? bearerToken(request));
  if (!check.ok) return send(reply, tokenError(check));
  const user = state.accounts.instagram.find((u) => u.userId === check.grant.accountId)!;
  const fields = (params.fields ?? 'id').split(',').filter(Boolean);
  const known = profile(user);
  const unknown = fields.find((f) => !(f in known));
  if (unknown) {
    return send(reply, graphError(100, `Tried accessing nonexisting field (${unknown}) on node type (User)`));
  }
  return reply.send(Object.fromEntries(fields.map((f) => [f, known[f]])));
}

function profile(user: InstagramUser): Record<string, unknown> {
  return {
    id: user.id,
    user_id: user.userId,
    username: user.username,
    name: user.name,
    account_type: 'BUSINESS',
    profile_picture_url: `https://scontent.cdninstagram.com/sandbox/${user.userId}.jpg`,
    followers_count: 1280,
    follows_count: 210,
    media_count: 36,
  };
}

export function tokenError(check: Extract<BearerCheck, { ok: false }>): ProviderReply {
  if (check.failure === 'missing')
    return graphError(
      2500,
      'An active access token must be used to query information about the current user.',
      400,
    );
  if (check.failure === 'expired') {
    return graphError(190, 'Error validating access token: Session has expired.', 400, 463);
  }
  if (check.failure === 'revoked') {
    return graphError(
      190,
      'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
      400,
      460,
    );
  }
  return graphError(190, 'Invalid OAuth access token - Cannot parse access token', 400);
}

export function graphError(code: number, message: string, status = 400, subcode?: number): ProviderReply {
  const error: Record<string, unknown> = { message, type: 'OAuthException', code };
  if (subcode !== undefined) error.error_subcode = subcode;
  error.fbtrace_id = randomBytes(12).toString('base64url');
  const headers: Record<string, string> =
    code === 190 ? { 'www-authenticate': `OAuth "Facebook Platform" "invalid_token" "${message}"` } : {};
  return { status, headers, body: { error } };
}

// api.instagram.com answers OAuth errors in its older flat shape.
function oauthError(message: string): ProviderReply {
  return { status: 400, body: { error_type: 'OAuthException', code: 400, error_message: message } };
}

export const instagram: SandboxProviderModule = {
  name: 'instagram',
  simulates: ['instagram'],
  routes,
  rateLimited: (hit) => {
    const answer = graphError(4, 'Application request limit reached', 429);
    return {
      ...answer,
      headers: { 'retry-after': String(hit.retryAfterSec) },
      body: { error: { ...(answer.body as { error: object }).error, is_transient: true } },
    };
  },
  endpoints: (base) => ({
    authorizationUrl: `${base}/instagram/oauth/authorize`,
    tokenUrl: `${base}/instagram/oauth/access_token`,
    exchangeUrl: `${base}/instagram/graph/access_token`,
    refreshUrl: `${base}/instagram/graph/refresh_access_token`,
    apiBaseUrl: `${base}/instagram/graph`,
  }),
};
