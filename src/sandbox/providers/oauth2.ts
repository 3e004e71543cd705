import type { FastifyInstance } from 'fastify';
import { bearerToken, type ProviderReply, readParams, send } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { authenticateClient, processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { oauthErrorReply, standardTokenBody } from '../oauth/token-response.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import type { SandboxProviderModule } from './provider.ts';

// A plain RFC 6749 / 7636 / 7009 server for tether's generic `oauth2` provider: client auth by
// Basic or body, PKCE, rotating refresh tokens, token revocation, a userinfo endpoint and one
// protected resource. Bearer errors follow RFC 6750.

const quirks: TokenQuirks = {
  provider: 'oauth2',
  clientAuth: { basic: true, body: true },
  prefixes: () => ({ access: 'at_', refresh: 'rt_' }),
};

const UNAUTHORIZED: ProviderReply = {
  status: 401,
  headers: {
    'www-authenticate':
      'Bearer error="invalid_token", error_description="The access token is invalid or expired"',
  },
  body: { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/authorize', {
    provider: 'oauth2',
    brand: 'Generic OAuth 2.0',
    pkce: true,
    choices: (s) => s.accounts.oauth2.map((u) => ({ id: u.sub, label: u.email })),
  });

  app.post('/token', endpoint('oauth2.token'), async (request, reply) => {
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) return send(reply, oauthErrorReply(outcome.failure));
    return reply.header('cache-control', 'no-store').send(standardTokenBody(outcome));
  });

  app.post('/revoke', endpoint('oauth2.revoke'), async (request, reply) => {
    const params = readParams(request.body);
    const client = authenticateClient(state, request, params, 'oauth2', quirks.clientAuth);
    if ('reason' in client) return send(reply, oauthErrorReply(client));
    const token = params.token
      ? (state.grants.refresh(params.token) ?? state.grants.access(params.token))
      : undefined;
    const grant = token && state.grants.get(token.grantId);
    if (grant && grant.clientId === client.clientId) state.grants.revoke(grant.id, state.clock.now());
    return reply.code(200).send();
  });

  const user = (accountId: string) => state.accounts.oauth2.find((u) => u.sub === accountId)!;

  app.get('/userinfo', endpoint('oauth2.userinfo'), async (request, reply) => {
    const check = checkAccessToken(state, 'oauth2', bearerToken(request));
    if (!check.ok) return send(reply, UNAUTHORIZED);
    const { sub, email, name } = user(check.grant.accountId);
    return reply.send({ sub, email, email_verified: true, name });
  });

  app.get('/api/me', endpoint('oauth2.api.me'), async (request, reply) => {
    const check = checkAccessToken(state, 'oauth2', bearerToken(request));
    if (!check.ok) return send(reply, UNAUTHORIZED);
    const { sub, email, name } = user(check.grant.accountId);
    return reply.send({ id: sub, email, name, scopes: check.grant.scopes });
  });
}

export const oauth2: SandboxProviderModule = {
  name: 'oauth2',
  simulates: ['oauth2'],
  seedScopes: ['openid', 'profile'],
  routes,
  rateLimited: (hit) => ({
    status: 429,
    headers: { 'retry-after': String(hit.retryAfterSec) },
    body: { error: 'rate_limited', error_description: 'Too many requests.' },
  }),
  endpoints: (base) => ({
    authorizationUrl: `${base}/oauth2/authorize`,
    tokenUrl: `${base}/oauth2/token`,
    revocationUrl: `${base}/oauth2/revoke`,
    userinfoUrl: `${base}/oauth2/userinfo`,
    apiBaseUrl: `${base}/oauth2/api`,
  }),
};
