import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  bearerToken,
  type ProviderReply,
  readParams,
  requestOrigin,
  sandboxPrefix,
  send,
  unixSeconds,
} from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { oauthErrorReply, standardTokenBody } from '../oauth/token-response.ts';
import type { RateLimitHit } from '../rate-limits.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { registerDocusignApiRoutes } from './docusign-api.ts';
import type { SandboxProviderModule } from './provider.ts';

// DocuSign: account-d.docusign.com/oauth/auth, /oauth/token and /oauth/userinfo; the eSignature
// REST API lives at each account's base_uri + /restapi. Quirks: HTTP Basic with the integration
// key; 8-hour access tokens; a new refresh token on every refresh (the old one stops working;
// configurable, DocuSign does not document it); no revocation endpoint. userinfo lists the
// accounts with base_uri pointing back at this sandbox.

const quirks: TokenQuirks = {
  provider: 'docusign',
  clientAuth: { basic: true, body: false },
  prefixes: () => ({ access: 'ds_at.', refresh: 'ds_rt.' }),
};

export const AUTH_FAILED = {
  errorCode: 'USER_AUTHENTICATION_FAILED',
  message: 'One or both of Username and Password are invalid. Invalid access token',
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/oauth/auth', {
    provider: 'docusign',
    brand: 'DocuSign',
    pkce: true,
    choices: (s) => s.accounts.docusign.map((u) => ({ id: u.sub, label: u.email })),
  });

  app.post('/oauth/token', endpoint('docusign.token'), async (request, reply) => {
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) return send(reply, oauthErrorReply(outcome.failure, { [outcome.failure.reason]: null }));
    const { scope: _scope, ...body } = standardTokenBody(outcome);
    return reply.header('cache-control', 'no-store').send(body);
  });

  app.get('/oauth/userinfo', endpoint('docusign.userinfo'), async (request, reply) => {
    const check = checkAccessToken(state, 'docusign', bearerToken(request));
    if (!check.ok) return reply.code(401).send({ error: 'invalid_token' });
    const user = state.accounts.docusign.find((u) => u.sub === check.grant.accountId)!;
    const [given, ...family] = user.name.split(' ');
    return reply.send({
      sub: user.sub,
      name: user.name,
      given_name: given,
      family_name: family.join(' '),
      created: '2024-01-15T10:00:00.000Z',
      email: user.email,
      accounts: user.accounts.map((a) => ({
        account_id: a.accountId,
        is_default: a.isDefault,
        account_name: a.accountName,
        base_uri: baseUri(request),
      })),
    });
  });

  app.get('/restapi/v2.1/accounts/:accountId', endpoint('docusign.account'), async (request, reply) => {
    const check = checkAccessToken(state, 'docusign', bearerToken(request));
    if (!check.ok) return reply.code(401).send(AUTH_FAILED);
    const { accountId } = request.params as { accountId: string };
    const user = state.accounts.docusign.find((u) => u.sub === check.grant.accountId);
    const account = user?.accounts.find((a) => a.accountId === accountId);
    if (!account) return notMember(reply);
    return reply.send({
      currentPlanId: randomUUID(),
      planName: 'DEV-DEMO',
      accountName: account.accountName,
      accountIdGuid: account.accountId,
      externalAccountId: '0',
      connectPermission: 'full',
      billingPeriodStartDate: '2024-01-01T08:00:00.0000000Z',
      createdDate: '2024-01-15T10:00:00.0000000Z',
      isDowngrade: 'false',
      status21CFRPart11: 'not_enabled',
    });
  });

  registerDocusignApiRoutes(app, state);
}

function baseUri(request: FastifyRequest): string {
  return `${requestOrigin(request)}${sandboxPrefix(request, 'docusign')}/docusign`;
}

export function notMember(reply: FastifyReply) {
  return reply.code(400).send({
    errorCode: 'USER_LACKS_MEMBERSHIP',
    message: 'The UserID does not have a valid membership in this Account.',
  });
}

// DocuSign's two limits: hourly (3,000 calls an account) and burst (500 in 30 seconds).
function rateLimited(hit: RateLimitHit): ProviderReply {
  const burst = hit.rule.problem === 'burst';
  const prefix = burst ? 'x-burstlimit' : 'x-ratelimit';
  return {
    status: 429,
    headers: {
      'retry-after': String(hit.retryAfterSec),
      [`${prefix}-limit`]: String(hit.rule.limit),
      [`${prefix}-remaining`]: '0',
      [`${prefix}-reset`]: String(unixSeconds(hit.resetAt)),
    },
    body: burst
      ? {
          errorCode: 'BURST_APIINVOCATION_LIMIT_EXCEEDED',
          message: `The maximum number of API invocations in a burst has been exceeded. The limit is ${hit.rule.limit}.`,
        }
      : {
          errorCode: 'HOURLY_APIINVOCATION_LIMIT_EXCEEDED',
          message: `The maximum number of hourly API invocations has been exceeded. The hourly limit is ${hit.rule.limit}.`,
        },
  };
}

export const docusign: SandboxProviderModule = {
  name: 'docusign',
  simulates: ['docusign'],
  routes,
  rateLimited,
  endpoints: (base) => ({
    authorizationUrl: `${base}/docusign/oauth/auth`,
    tokenUrl: `${base}/docusign/oauth/token`,
    userinfoUrl: `${base}/docusign/oauth/userinfo`,
    apiBaseUrl: `${base}/docusign/restapi`,
  }),
};
