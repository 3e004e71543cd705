import {
  apiBaseProxy,
  basicRefreshGrant,
  buildAuthorizationUrl,
  clientAuthOf,
  codeGrantParams,
  requestedHeader,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { isRecord } from './failure.ts';
import { idTokenClaims } from './id-token.ts';
import { callProvider, callProviderJson, readTokenSet } from './oauth-http.ts';
import { type ProviderDefinition, ProviderError } from './provider.ts';
import { xeroInvoicesSync } from './xero-sync.ts';

/**
 * Xero. Quirks: HTTP Basic only; refresh tokens need the offline_access scope (always asked
 * for), are single use, and the previous one keeps working for 30 minutes after a rotation (a
 * lost answer can be retried); unused for 60 days they lapse. API calls name the organisation in
 * `xero-tenant-id`, so afterConnect reads GET /connections into metadata.tenants and picks the
 * first organisation as the default.
 *
 * Account id: the id_token's `xero_userid` (the Xero user; sent when `openid` is granted, and
 * read without a signature check, see id-token.ts), else the first connected tenant's id (the
 * sandbox sends no id_token; a tenant id is stable for the organisation).
 */

const DAY = 86_400;
const DISPLAY = 'Xero';

export interface XeroTenantRef {
  tenantId: string;
  tenantName: string;
  tenantType: string;
}

export const xero: ProviderDefinition = {
  name: 'xero',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
    tokenUrl: 'https://identity.xero.com/connect/token',
    revocationUrl: 'https://identity.xero.com/connect/revocation',
    apiBaseUrl: 'https://api.xero.com',
    connectionsUrl: 'https://api.xero.com/connections',
  },
  defaultScopes: [
    'openid',
    'profile',
    'email',
    'offline_access',
    'accounting.transactions',
    'accounting.contacts',
  ],
  pkce: true,
  refresh: {
    strategy: 'expiry',
    rotates: true,
    previousTokenGraceSeconds: 1800,
    idleLifetimeSeconds: 60 * DAY,
  },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, {
      scopes: scopesOf(ctx, xero.defaultScopes, ['offline_access']),
      pkce: true,
    }),

  async exchangeCode(ctx, rt, params) {
    const call = tokenEndpointCall(ctx, DISPLAY, 'code exchange', codeGrantParams(params));
    const body = await callProvider(rt, call);
    const claims = idTokenClaims(body.id_token);
    const xeroUserId = stringField(claims, 'xero_userid') ?? stringField(claims, 'sub');
    return { ...readTokenSet(call, body), extras: xeroUserId ? { xeroUserId } : {} };
  },

  async afterConnect(ctx, rt, tokens) {
    const answer = await callProviderJson(rt, {
      provider: DISPLAY,
      operation: 'connections',
      url: requireEndpoint(ctx, 'connectionsUrl'),
      method: 'GET',
      bearer: tokens.accessToken,
    });
    if (!Array.isArray(answer)) {
      throw new ProviderError(
        'configuration',
        'xero',
        'Xero connections failed: invalid_response: not a JSON list',
        {
          providerCode: 'invalid_response',
        },
      );
    }
    const tenants = readTenants(answer);
    const organisation = tenants.find((t) => t.tenantType === 'ORGANISATION') ?? tenants[0];
    const xeroUserId = stringField(tokens.extras, 'xeroUserId');
    const accountId = xeroUserId ?? tenants[0]?.tenantId;
    if (!accountId) {
      throw new ProviderError(
        'refused',
        'xero',
        'Xero connect: the person connected no organisation and Xero sent no user id',
      );
    }
    return {
      tokens,
      accountId,
      metadata: { tenants, tenantId: organisation?.tenantId ?? null },
      warnings: tenants.length === 0 ? ['No Xero organisation was connected: API calls need one.'] : [],
    };
  },

  refreshAccessToken: basicRefreshGrant(DISPLAY),

  async revoke(ctx, rt, connection) {
    // Xero revokes refresh tokens only (an access token gets unsupported_token_type); revoking
    // one ends the grant with every tenant.
    if (!connection.refreshToken) return;
    await callProvider(rt, {
      provider: DISPLAY,
      operation: 'revocation',
      url: requireEndpoint(ctx, 'revocationUrl'),
      params: { token: connection.refreshToken },
      clientAuth: clientAuthOf(ctx, 'client_secret_basic'),
      allowEmpty: true,
    });
  },

  syncs: [xeroInvoicesSync],
  // Per organisation, across every connection of the app: 5 calls in progress, 60 a minute.
  limits: { perTenant: { header: 'xero-tenant-id', concurrent: 5, perMinute: 60 } },

  proxy: {
    ...apiBaseProxy(),
    headers(_ctx, connection, requested) {
      const tenantId =
        requestedHeader(requested, 'xero-tenant-id') ?? stringField(connection.metadata, 'tenantId');
      const headers: Record<string, string> = {};
      if (tenantId) headers['xero-tenant-id'] = tenantId;
      return headers;
    },
  },
};

function readTenants(answer: unknown[]): XeroTenantRef[] {
  return answer.filter(isRecord).flatMap((c) => {
    const tenantId = stringField(c, 'tenantId');
    if (!tenantId) return [];
    return [
      {
        tenantId,
        tenantName: stringField(c, 'tenantName') ?? '',
        tenantType: stringField(c, 'tenantType') ?? '',
      },
    ];
  });
}
