import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, isJsonRequest, type ProviderReply, readParams, send, unixSeconds } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import type { Grant } from '../oauth/grants.ts';
import { tokenFailure } from '../oauth/token-errors.ts';
import { authenticateClient, processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { oauthErrorReply, standardTokenBody } from '../oauth/token-response.ts';
import { endpoint } from '../route-config.ts';
import type { NotionUser } from '../seed.ts';
import type { SandboxState } from '../state.ts';
import { registerNotionApiRoutes } from './notion-api.ts';
import type { SandboxProviderModule } from './provider.ts';

// Notion: api.notion.com/v1/oauth/{authorize,token,revoke,introspect} and the REST API under
// /v1. Quirks: HTTP Basic with a JSON body (a form body is refused); the token response names
// the bot and workspace; newer integrations get rotating refresh tokens, legacy ones a token that
// never expires and `refresh_token: null` (settings NOTION_LEGACY). Every API call needs the
// Notion-Version header; errors are `{object: "error", status, code, message}`.

const quirks: TokenQuirks = {
  provider: 'notion',
  clientAuth: { basic: true, body: false },
  prefixes: () => ({ access: 'ntn_', refresh: 'nrt_' }),
  onNewGrant(grant) {
    grant.data.botId = randomUUID();
  },
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/v1/oauth/authorize', {
    provider: 'notion',
    brand: 'Notion',
    pkce: false,
    choices: (s) => s.accounts.notion.map((u) => ({ id: u.id, label: `${u.email} (${u.workspace.name})` })),
  });

  app.post('/v1/oauth/token', endpoint('notion.token'), async (request, reply) => {
    if (!isJsonRequest(request)) return send(reply, oauthError(tokenFailure('body_not_accepted')));
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) return send(reply, oauthError(outcome.failure));
    const { grant } = outcome;
    const user = findUser(state, grant);
    const { scope: _scope, ...tokens } = standardTokenBody(outcome, { tokenType: 'bearer' });
    return reply.send({
      ...tokens,
      refresh_token: outcome.refresh?.value ?? null,
      bot_id: grant.data.botId,
      workspace_name: user.workspace.name,
      workspace_icon: user.workspace.icon,
      workspace_id: user.workspace.id,
      owner: { type: 'user', user: personUser(user) },
      duplicated_template_id: null,
      request_id: randomUUID(),
    });
  });

  app.post('/v1/oauth/revoke', endpoint('notion.revoke'), async (request, reply) => {
    const found = findToken(state, request.body);
    const client = authenticateClient(state, request, {}, 'notion', quirks.clientAuth);
    if ('reason' in client) return send(reply, oauthError(client));
    if (found) state.grants.revoke(found.grantId, state.clock.now());
    return reply.send({ request_id: randomUUID() });
  });

  app.post('/v1/oauth/introspect', endpoint('notion.introspect'), async (request, reply) => {
    const client = authenticateClient(state, request, {}, 'notion', quirks.clientAuth);
    if ('reason' in client) return send(reply, oauthError(client));
    const value = readParams(request.body).token;
    const check = checkAccessToken(state, 'notion', value);
    if (!check.ok) return reply.send({ active: false, request_id: randomUUID() });
    return reply.send({
      active: true,
      scope: 'read_content',
      iat: unixSeconds(check.token.issuedAt),
      request_id: randomUUID(),
    });
  });

  app.get('/v1/users/me', endpoint('notion.users.me'), async (request, reply) => {
    const grant = authenticateApi(state, request, reply);
    if (!grant) return reply;
    const user = findUser(state, grant);
    return reply.send({ ...botUser(grant, user), request_id: randomUUID() });
  });

  app.get('/v1/users', endpoint('notion.users'), async (request, reply) => {
    const grant = authenticateApi(state, request, reply);
    if (!grant) return reply;
    const user = findUser(state, grant);
    return reply.send({
      object: 'list',
      results: [personUser(user), botUser(grant, user)],
      next_cursor: null,
      has_more: false,
      type: 'user',
      user: {},
      request_id: randomUUID(),
    });
  });

  registerNotionApiRoutes(app, state);
}

export function authenticateApi(
  state: SandboxState,
  request: FastifyRequest,
  reply: FastifyReply,
): Grant | undefined {
  const version = request.headers['notion-version'];
  if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    send(
      reply,
      apiError(
        400,
        'missing_version',
        `Notion-Version header failed validation: Notion-Version header should be defined, instead was \`${version ?? 'undefined'}\`.`,
      ),
    );
    return undefined;
  }
  const check = checkAccessToken(state, 'notion', bearerToken(request));
  if (!check.ok) {
    send(reply, apiError(401, 'unauthorized', 'API token is invalid.'));
    return undefined;
  }
  return check.grant;
}

function findToken(state: SandboxState, body: unknown) {
  const value = readParams(body).token;
  if (!value) return undefined;
  return state.grants.access(value) ?? state.grants.refresh(value);
}

function findUser(state: SandboxState, grant: Grant): NotionUser {
  return state.accounts.notion.find((u) => u.id === grant.accountId)!;
}

function personUser(user: NotionUser) {
  return {
    object: 'user',
    id: user.id,
    name: user.name,
    avatar_url: null,
    type: 'person',
    person: { email: user.email },
  };
}

function botUser(grant: Grant, user: NotionUser) {
  return {
    object: 'user',
    id: grant.data.botId,
    name: 'tether sandbox',
    avatar_url: null,
    type: 'bot',
    bot: {
      owner: { type: 'user', user: { object: 'user', id: user.id } },
      workspace_name: user.workspace.name,
    },
  };
}

function oauthError(failure: Parameters<typeof oauthErrorReply>[0]): ProviderReply {
  return oauthErrorReply(failure, {}, { request_id: randomUUID() });
}

export function apiError(status: number, code: string, message: string): ProviderReply {
  return { status, body: { object: 'error', status, code, message, request_id: randomUUID() } };
}

export const notion: SandboxProviderModule = {
  name: 'notion',
  simulates: ['notion'],
  routes,
  rateLimited: (hit) => {
    const answer = apiError(
      429,
      'rate_limited',
      'This request exceeds the number of requests allowed. Slow down and try again.',
    );
    return { ...answer, headers: { 'retry-after': String(hit.retryAfterSec) } };
  },
  endpoints: (base) => ({
    authorizationUrl: `${base}/notion/v1/oauth/authorize`,
    tokenUrl: `${base}/notion/v1/oauth/token`,
    revocationUrl: `${base}/notion/v1/oauth/revoke`,
    introspectionUrl: `${base}/notion/v1/oauth/introspect`,
    apiBaseUrl: `${base}/notion`,
  }),
  faultPresets: {
    service_overload: {
      endpoint: 'notion.users*',
      action: {
        kind: 'respond',
        status: 529,
        body: {
          object: 'error',
          status: 529,
          code: 'service_overload',
          message: 'Notion is unavailable due to high load.',
        },
      },
    },
  },
};
