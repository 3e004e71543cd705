import { createHash } from 'node:crypto';
import {
  basicRefreshGrant,
  buildAuthorizationUrl,
  clientAuthOf,
  codeGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { idTokenClaims } from './id-token.ts';
import { callProvider, readTokenSet } from './oauth-http.ts';
import { type ProviderDefinition, ProviderError } from './provider.ts';

/**
 * Any OAuth 2.0 server, by configuration: RFC 6749 code grant with RFC 7636 PKCE, RFC 7009
 * revocation. Every endpoint comes from the integration (apiBaseUrl only when the proxy is
 * wanted); options choose the client
 * authentication (default client_secret_basic), the scope separator and extra authorize
 * parameters. Refresh tokens are treated as rotating (a returned one replaces the stored one,
 * an absent one keeps it), so refreshes are serialised either way.
 *
 * Account id, first that exists: userinfo `sub` (or `id`) when a userinfoUrl is configured; the
 * id_token's `sub` when the server sent one; else `token:` + a SHA-256 of the first refresh (or
 * access) token. The last one is unique but not stable: without userinfo or an id_token a server
 * names no account, so every connect makes a new connection.
 */

const DISPLAY = 'OAuth 2.0';

export const oauth2: ProviderDefinition = {
  name: 'oauth2',
  displayName: DISPLAY,
  defaultEndpoints: { authorizationUrl: '', tokenUrl: '' },
  // No apiBaseUrl needed: an app may want only tokens (the proxy answers 409 proxy_not_configured).
  requiredEndpoints: ['authorizationUrl', 'tokenUrl'],
  defaultScopes: [],
  pkce: true,
  refresh: { strategy: 'expiry', rotates: true },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, { scopes: scopesOf(ctx, oauth2.defaultScopes), pkce: true }),

  async exchangeCode(ctx, rt, params) {
    const call = tokenEndpointCall(ctx, DISPLAY, 'code exchange', codeGrantParams(params));
    const body = await callProvider(rt, call);
    const sub = stringField(idTokenClaims(body.id_token), 'sub');
    return { ...readTokenSet(call, body), extras: sub ? { idTokenSubject: sub } : {} };
  },

  async afterConnect(ctx, rt, tokens) {
    let accountId = stringField(tokens.extras, 'idTokenSubject');
    const metadata: Record<string, unknown> = {};
    if (ctx.endpoints.userinfoUrl) {
      const userinfo = await callProvider(rt, {
        provider: DISPLAY,
        operation: 'userinfo',
        url: requireEndpoint(ctx, 'userinfoUrl'),
        method: 'GET',
        bearer: tokens.accessToken,
      });
      accountId = stringField(userinfo, 'sub') ?? stringField(userinfo, 'id') ?? accountId;
      const email = stringField(userinfo, 'email');
      if (email) metadata.email = email;
      if (!accountId)
        throw new ProviderError('configuration', 'oauth2', `${DISPLAY} userinfo has no "sub" or "id"`);
    }
    const warnings: string[] = [];
    if (!accountId) {
      const seed = tokens.refreshToken ?? tokens.accessToken;
      accountId = `token:${createHash('sha256').update(seed).digest('base64url').slice(0, 32)}`;
      warnings.push(
        'The server named no account (configure a userinfoUrl): reconnecting makes a new connection.',
      );
    }
    return { tokens, accountId, metadata, warnings };
  },

  refreshAccessToken: basicRefreshGrant(DISPLAY),

  async revoke(ctx, rt, connection) {
    if (!ctx.endpoints.revocationUrl) return;
    const [token, hint] = connection.refreshToken
      ? [connection.refreshToken, 'refresh_token']
      : [connection.accessToken, 'access_token'];
    await callProvider(rt, {
      provider: DISPLAY,
      operation: 'revocation',
      url: requireEndpoint(ctx, 'revocationUrl'),
      params: { token, token_type_hint: hint },
      clientAuth: clientAuthOf(ctx, 'client_secret_basic'),
      allowEmpty: true,
    });
  },

  proxy: {
    // An app that only wants tokens configures no API base: the proxy then says so (409).
    baseUrl: (ctx) => (ctx.endpoints.apiBaseUrl ? requireEndpoint(ctx, 'apiBaseUrl') : undefined),
    headers: () => ({}),
    isAuthFailure: (status) => status === 401,
  },
};
