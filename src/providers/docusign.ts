import {
  basicRefreshGrant,
  buildAuthorizationUrl,
  codeGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { docusignEnvelopesSync } from './docusign-sync.ts';
import { isRecord } from './failure.ts';
import { callProvider, requestTokenSet } from './oauth-http.ts';
import { type IntegrationContext, type ProviderDefinition, ProviderError } from './provider.ts';

/**
 * DocuSign eSignature. Quirks: HTTP Basic with the integration key; 8-hour access tokens; a new
 * refresh token on every refresh; no revocation endpoint. Each account lives at its own base URI,
 * so afterConnect reads /oauth/userinfo once and keeps the default account's id and base_uri
 * (userinfo is rate-limited: never per call); the base_uri must be a DocuSign host
 * (isAllowedBaseUri), since the connection's token is sent there. Defaults point at production
 * (account.docusign.com); developer integrations override the endpoints with account-d.
 *
 * Account id: userinfo `sub`, the DocuSign user (one user may reach several accounts; the default
 * one is in metadata.accountId).
 */

const DAY = 86_400;
/** The domains DocuSign serves accounts from (base_uri hosts). */
const DOCUSIGN_DOMAINS = ['docusign.net', 'docusign.com'];
const DISPLAY = 'DocuSign';

export const docusign: ProviderDefinition = {
  name: 'docusign',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://account.docusign.com/oauth/auth',
    tokenUrl: 'https://account.docusign.com/oauth/token',
    userinfoUrl: 'https://account.docusign.com/oauth/userinfo',
    apiBaseUrl: 'https://www.docusign.net/restapi',
  },
  defaultScopes: ['signature', 'extended'],
  pkce: true,
  refresh: { strategy: 'expiry', rotates: true, idleLifetimeSeconds: 30 * DAY },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, { scopes: scopesOf(ctx, docusign.defaultScopes), pkce: true }),

  exchangeCode: (ctx, rt, params) =>
    requestTokenSet(rt, tokenEndpointCall(ctx, DISPLAY, 'code exchange', codeGrantParams(params))),

  async afterConnect(ctx, rt, tokens) {
    const userinfo = await callProvider(rt, {
      provider: DISPLAY,
      operation: 'userinfo',
      url: requireEndpoint(ctx, 'userinfoUrl'),
      method: 'GET',
      bearer: tokens.accessToken,
    });
    const sub = stringField(userinfo, 'sub');
    const accounts = Array.isArray(userinfo.accounts) ? userinfo.accounts.filter(isRecord) : [];
    const account = accounts.find((a) => a.is_default === true || a.is_default === 'true') ?? accounts[0];
    const baseUri = stringField(account, 'base_uri');
    if (!sub || !account || !baseUri) {
      throw new ProviderError(
        'configuration',
        'docusign',
        `${DISPLAY} userinfo names no account with a base_uri`,
        {
          providerCode: 'invalid_response',
        },
      );
    }
    if (!isAllowedBaseUri(ctx, baseUri)) throw notDocusignHost();
    return {
      tokens,
      accountId: sub,
      metadata: {
        accountId: stringField(account, 'account_id') ?? null,
        accountName: stringField(account, 'account_name') ?? null,
        baseUri: baseUri.replace(/\/+$/, ''),
      },
      warnings: [],
    };
  },

  refreshAccessToken: basicRefreshGrant(DISPLAY),

  syncs: [docusignEnvelopesSync],
  proxy: {
    baseUrl(ctx, connection) {
      const baseUri = stringField(connection.metadata, 'baseUri');
      if (!baseUri) return requireEndpoint(ctx, 'apiBaseUrl');
      // Checked again here: a connection made before the allow-list may hold any host.
      if (!isAllowedBaseUri(ctx, baseUri)) throw notDocusignHost();
      return `${baseUri}/restapi`;
    },
    headers: () => ({}),
    isAuthFailure: (status) => status === 401,
  },
};

/**
 * Where an account's base_uri may point: a DocuSign host over https (na3.docusign.net,
 * demo.docusign.net, eu.docusign.net, ...), or the origin of the account server the integration
 * itself is configured with (the sandbox, which serves accounts at its own address). The
 * userinfo answer alone never decides where the connection's token goes.
 */
export function isAllowedBaseUri(ctx: IntegrationContext, baseUri: string): boolean {
  if (!URL.canParse(baseUri)) return false;
  const url = new URL(baseUri);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return false;
  if (url.protocol === 'https:' && isDocusignHost(url.hostname)) return true;
  const accountServer = ctx.endpoints.userinfoUrl;
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    accountServer !== undefined &&
    URL.canParse(accountServer) &&
    new URL(accountServer).origin === url.origin
  );
}

function isDocusignHost(hostname: string): boolean {
  return DOCUSIGN_DOMAINS.some((domain) => hostname === domain || hostname.endsWith(`.${domain}`));
}

function notDocusignHost(): ProviderError {
  return new ProviderError(
    'configuration',
    'docusign',
    `${DISPLAY} named an account base_uri that is not a DocuSign host`,
    { providerCode: 'invalid_base_uri' },
  );
}
