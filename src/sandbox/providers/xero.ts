import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { bearerToken, type ProviderReply, readParams, send } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { type BearerFailure, checkAccessToken } from '../oauth/bearer.ts';
import type { Grant } from '../oauth/grants.ts';
import { authenticateClient, processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { standardTokenBody } from '../oauth/token-response.ts';
import type { RateLimitHit } from '../rate-limits.ts';
import { endpoint } from '../route-config.ts';
import type { XeroTenant } from '../seed.ts';
import type { SandboxState } from '../state.ts';
import type { SandboxProviderModule } from './provider.ts';
import { registerXeroApiRoutes } from './xero-api.ts';

// Xero: login.xero.com/identity/connect/authorize, identity.xero.com/connect/token and
// /connect/revocation, api.xero.com/connections and /api.xro/2.0/*.
// Quirks: HTTP Basic only; a refresh token only with the offline_access scope; refresh tokens
// are single use, yet the previous one is accepted for 30 minutes after a rotation (a lost
// response can be retried); unused for 60 days they expire. Token errors are bare
// `{"error":"invalid_grant"}`. API calls name the organisation in the xero-tenant-id header.

const quirks: TokenQuirks = {
  provider: 'xero',
  clientAuth: { basic: true, body: false },
  prefixes: () => ({ access: 'xero_at.', refresh: 'xero_rt.' }),
  refreshOnExchange: ({ code, settings }) => settings.refreshTokens && code.scopes.includes('offline_access'),
  onNewGrant(grant) {
    grant.data.authEventId = randomUUID();
    grant.data.disconnected = '';
  },
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/identity/connect/authorize', {
    provider: 'xero',
    brand: 'Xero',
    pkce: true,
    choices: (s) => s.accounts.xero.map((u) => ({ id: u.id, label: u.email })),
  });

  app.post('/identity/connect/token', endpoint('xero.token'), async (request, reply) => {
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) {
      // Xero's identity server answers 400 with a bare error code, invalid_client included.
      return send(reply, { status: 400, body: { error: outcome.failure.error } });
    }
    return reply.header('cache-control', 'no-store').send(standardTokenBody(outcome));
  });

  app.post('/identity/connect/revocation', endpoint('xero.revocation'), async (request, reply) => {
    const params = readParams(request.body);
    const client = authenticateClient(state, request, params, 'xero', quirks.clientAuth);
    if ('reason' in client) return reply.code(400).send({ error: client.error });
    if (params.token && state.grants.access(params.token)) {
      return reply.code(400).send({ error: 'unsupported_token_type' });
    }
    const token = params.token ? state.grants.refresh(params.token) : undefined;
    const grant = token && state.grants.get(token.grantId);
    // RFC 7009: an unknown token is not an error.
    if (grant?.provider === 'xero') state.grants.revoke(grant.id, state.clock.now());
    return reply.code(200).send();
  });

  app.get('/api/connections', endpoint('xero.connections'), async (request, reply) => {
    const check = checkAccessToken(state, 'xero', bearerToken(request));
    if (!check.ok) return unauthorized(reply, check.failure, check.token?.expiresAt ?? null);
    return reply.send(
      connectedTenants(state, check.grant).map((t) => ({
        id: t.connectionId,
        authEventId: check.grant.data.authEventId,
        tenantId: t.tenantId,
        tenantType: 'ORGANISATION',
        tenantName: t.tenantName,
        createdDateUtc: xeroDate(check.grant.createdAt),
        updatedDateUtc: xeroDate(check.grant.createdAt),
      })),
    );
  });

  app.delete('/api/connections/:id', endpoint('xero.connections.delete'), async (request, reply) => {
    const check = checkAccessToken(state, 'xero', bearerToken(request));
    if (!check.ok) return unauthorized(reply, check.failure, check.token?.expiresAt ?? null);
    const { id } = request.params as { id: string };
    const tenant = connectedTenants(state, check.grant).find((t) => t.connectionId === id);
    if (!tenant) return problem(reply, 404, 'Not Found', `Connection ${id} was not found.`);
    check.grant.data.disconnected = `${check.grant.data.disconnected},${tenant.tenantId}`;
    return reply.code(204).send();
  });

  app.get('/api/api.xro/2.0/Organisation', endpoint('xero.organisation'), async (request, reply) => {
    const check = checkAccessToken(state, 'xero', bearerToken(request));
    if (!check.ok) return unauthorized(reply, check.failure, check.token?.expiresAt ?? null);
    const tenantId = request.headers['xero-tenant-id'];
    const tenant = connectedTenants(state, check.grant).find((t) => t.tenantId === tenantId);
    if (!tenant) return problem(reply, 403, 'Forbidden', 'AuthenticationUnsuccessful');
    reply.headers(limitHeaders(state));
    return reply.send({
      Id: randomUUID(),
      Status: 'OK',
      ProviderName: 'tether sandbox',
      DateTimeUTC: `/Date(${state.clock.now()})/`,
      Organisations: [organisation(tenant)],
    });
  });

  registerXeroApiRoutes(app, state);
}

export function connectedTenants(state: SandboxState, grant: Grant): XeroTenant[] {
  const user = state.accounts.xero.find((u) => u.id === grant.accountId);
  const gone = new Set(grant.data.disconnected?.split(',') ?? []);
  return (user?.tenants ?? []).filter((t) => !gone.has(t.tenantId));
}

function organisation(tenant: XeroTenant) {
  return {
    OrganisationID: tenant.tenantId,
    APIKey: '',
    Name: tenant.tenantName,
    LegalName: tenant.tenantName,
    PaysTax: true,
    Version: tenant.countryCode === 'GB' ? 'UK' : tenant.countryCode,
    OrganisationType: 'COMPANY',
    BaseCurrency: tenant.baseCurrency,
    CountryCode: tenant.countryCode,
    IsDemoCompany: true,
    OrganisationStatus: 'ACTIVE',
    ShortCode: `!${tenant.tenantId.slice(0, 5)}`,
    Edition: 'BUSINESS',
    Class: 'DEMO',
  };
}

export function unauthorized(reply: FastifyReply, failure: BearerFailure, expiresAt: number | null) {
  const detail =
    failure === 'expired' && expiresAt !== null
      ? `TokenExpired: token expired at ${new Date(expiresAt).toISOString()}`
      : 'AuthenticationUnsuccessful';
  reply.header('www-authenticate', 'Bearer error="invalid_token"');
  return problem(reply, 401, 'Unauthorized', detail);
}

export function problem(reply: FastifyReply, status: number, title: string, detail: string) {
  return reply.code(status).send({
    Type: null,
    Title: title,
    Status: status,
    Detail: detail,
    Instance: randomUUID(),
    Extensions: {},
  });
}

// Xero's limits: 60 calls a minute and 5,000 a day per tenant, 10,000 a minute per app. The
// sandbox reports what is left from its own call log (approximate past its 500-call memory).
export function limitHeaders(state: SandboxState): Record<string, string> {
  const now = state.clock.now();
  const recent = state.calls
    .recent(500)
    .filter((c) => c.endpoint.startsWith('xero.') && c.endpoint !== 'xero.token');
  const inLast = (ms: number) => recent.filter((c) => c.at > now - ms).length;
  return {
    'x-minlimit-remaining': String(Math.max(0, 60 - inLast(60_000))),
    'x-daylimit-remaining': String(Math.max(0, 5000 - inLast(86_400_000))),
    'x-appminlimit-remaining': String(Math.max(0, 10_000 - inLast(60_000))),
  };
}

function xeroDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '0000');
}

function rateLimited(hit: RateLimitHit): ProviderReply {
  const problemName = hit.rule.problem ?? 'minute';
  return {
    status: 429,
    headers: {
      'retry-after': String(hit.retryAfterSec),
      'x-rate-limit-problem': problemName,
      ...(problemName === 'day' ? { 'x-daylimit-remaining': '0' } : { 'x-minlimit-remaining': '0' }),
    },
    body: {
      Type: null,
      Title: 'Too Many Requests',
      Status: 429,
      Detail: `Rate limit exceeded (${problemName}).`,
    },
  };
}

export const xero: SandboxProviderModule = {
  name: 'xero',
  simulates: ['xero'],
  routes,
  rateLimited,
  endpoints: (base) => ({
    authorizationUrl: `${base}/xero/identity/connect/authorize`,
    tokenUrl: `${base}/xero/identity/connect/token`,
    revocationUrl: `${base}/xero/identity/connect/revocation`,
    apiBaseUrl: `${base}/xero/api`,
    connectionsUrl: `${base}/xero/api/connections`,
  }),
};
