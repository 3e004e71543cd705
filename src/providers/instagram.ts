import {
  apiBaseProxy,
  buildAuthorizationUrl,
  codeGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { instagramMediaSync } from './instagram-sync.ts';
import { callProvider, readTokenSet, requestTokenSet } from './oauth-http.ts';
import { type ProviderDefinition, ProviderError } from './provider.ts';

/**
 * Instagram (Instagram API with Instagram Login). Quirks: client id and secret in the form body;
 * the code buys a 1-hour short-lived token, which afterConnect trades for a 60-day long-lived one
 * (GET graph `access_token?grant_type=ig_exchange_token`). There is no refresh token: the
 * long-lived token refreshes itself (GET `refresh_access_token?grant_type=ig_refresh_token`),
 * only once it is 24 hours old (earlier: Graph code 100 → refused) and before it expires
 * (after: code 190 → permanent, reconnect). No revocation endpoint.
 *
 * Account id: the token answer's `user_id` (the professional account). Instagram sends it as a
 * number too big for a double; the shared JSON reader keeps such numbers' digits.
 */

const DISPLAY = 'Instagram';

export const instagram: ProviderDefinition = {
  name: 'instagram',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://www.instagram.com/oauth/authorize',
    tokenUrl: 'https://api.instagram.com/oauth/access_token',
    exchangeUrl: 'https://graph.instagram.com/access_token',
    refreshUrl: 'https://graph.instagram.com/refresh_access_token',
    apiBaseUrl: 'https://graph.instagram.com',
  },
  defaultScopes: ['instagram_business_basic'],
  pkce: false,
  refresh: { strategy: 'long-lived', rotates: false, minimumAgeSeconds: 86_400 },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, {
      scopes: scopesOf(ctx, instagram.defaultScopes),
      scopeSeparator: ',',
      pkce: false,
    }),

  async exchangeCode(ctx, rt, params) {
    const call = tokenEndpointCall(ctx, DISPLAY, 'code exchange', codeGrantParams(params), {
      auth: 'client_secret_post',
    });
    const body = await callProvider(rt, call);
    const userId = stringField(body, 'user_id');
    return {
      ...readTokenSet(call, body),
      refreshToken: null,
      extras: { ...(userId ? { userId } : {}), permissions: body.permissions ?? null },
    };
  },

  async afterConnect(ctx, rt, shortLived) {
    const userId = shortLived.extras?.userId;
    if (typeof userId !== 'string') {
      throw new ProviderError(
        'configuration',
        'instagram',
        'Instagram connect failed: the token answer has no user_id',
        {
          providerCode: 'invalid_response',
        },
      );
    }
    const longLived = await requestTokenSet(rt, {
      provider: DISPLAY,
      operation: 'long-lived token exchange',
      url: requireEndpoint(ctx, 'exchangeUrl'),
      method: 'GET',
      params: {
        grant_type: 'ig_exchange_token',
        client_secret: ctx.clientSecret,
        access_token: shortLived.accessToken,
      },
    });
    return {
      tokens: { ...longLived, refreshToken: null, extras: shortLived.extras },
      accountId: userId,
      metadata: { userId },
      warnings: [],
    };
  },

  async refreshAccessToken(ctx, rt, connection) {
    const tokens = await requestTokenSet(rt, {
      provider: DISPLAY,
      operation: 'refresh',
      url: requireEndpoint(ctx, 'refreshUrl'),
      method: 'GET',
      params: { grant_type: 'ig_refresh_token', access_token: connection.accessToken },
      // Code 100 here: too early (under 24 hours old); the token itself is fine.
      refusedCodes: ['100'],
    });
    return { ...tokens, refreshToken: null };
  },

  syncs: [instagramMediaSync],
  proxy: apiBaseProxy(
    (status, body) => status === 401 || (status === 400 && /"code"\s*:\s*190\b/.test(body)),
  ),
};
