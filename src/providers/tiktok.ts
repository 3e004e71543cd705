import {
  apiBaseProxy,
  buildAuthorizationUrl,
  clientAuthOf,
  codeGrantParams,
  refreshGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { callProvider, readTokenSet } from './oauth-http.ts';
import {
  type IntegrationContext,
  type ProviderDefinition,
  ProviderError,
  type ProviderRuntime,
  type TokenSet,
} from './provider.ts';
import { tiktokVideosSync } from './tiktok-sync.ts';

/**
 * TikTok (Login Kit v2). Quirks: the client is `client_key`, never client_id, in the authorize
 * URL and in the form body with client_secret; scopes are comma-separated; the token answer
 * carries open_id and refresh_expires_in; refresh tokens rotate. OAuth errors are
 * `{error, error_description, log_id}`; API answers carry `{error: {code}}`, where
 * `access_token_invalid` means refresh and retry. Revocation takes the access token.
 *
 * Account id: `open_id` (the user, as seen by this app).
 */

const DISPLAY = 'TikTok';
const CLIENT_ID_PARAM = 'client_key';

export const tiktok: ProviderDefinition = {
  name: 'tiktok',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://www.tiktok.com/v2/auth/authorize/',
    tokenUrl: 'https://open.tiktokapis.com/v2/oauth/token/',
    revocationUrl: 'https://open.tiktokapis.com/v2/oauth/revoke/',
    userinfoUrl: 'https://open.tiktokapis.com/v2/user/info/',
    apiBaseUrl: 'https://open.tiktokapis.com',
  },
  defaultScopes: ['user.info.basic'],
  pkce: true,
  refresh: { strategy: 'expiry', rotates: true },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, {
      scopes: scopesOf(ctx, tiktok.defaultScopes),
      scopeSeparator: ',',
      clientIdParam: CLIENT_ID_PARAM,
      pkce: true,
    }),

  exchangeCode: (ctx, rt, params) => requestTokens(ctx, rt, 'code exchange', codeGrantParams(params)),

  async afterConnect(_ctx, _rt, tokens) {
    const openId = stringField(tokens.extras, 'openId');
    if (!openId) {
      throw new ProviderError(
        'configuration',
        'tiktok',
        'TikTok connect failed: the token answer has no open_id',
        {
          providerCode: 'invalid_response',
        },
      );
    }
    return { tokens, accountId: openId, metadata: { openId }, warnings: [] };
  },

  refreshAccessToken: (ctx, rt, connection) =>
    requestTokens(ctx, rt, 'refresh', refreshGrantParams(ctx, connection)),

  async revoke(ctx, rt, connection) {
    await callProvider(rt, {
      provider: DISPLAY,
      operation: 'revocation',
      url: requireEndpoint(ctx, 'revocationUrl'),
      params: { token: connection.accessToken },
      clientAuth: clientAuthOf(ctx, 'client_secret_post', CLIENT_ID_PARAM),
      allowEmpty: true,
    });
  },

  syncs: [tiktokVideosSync],
  proxy: apiBaseProxy((status, body) => status === 401 || /"code"\s*:\s*"access_token_invalid"/.test(body)),
};

async function requestTokens(
  ctx: IntegrationContext,
  rt: ProviderRuntime,
  operation: string,
  params: Record<string, string>,
): Promise<TokenSet> {
  const call = tokenEndpointCall(ctx, DISPLAY, operation, params, {
    auth: 'client_secret_post',
    idParam: CLIENT_ID_PARAM,
  });
  const body = await callProvider(rt, call);
  const openId = stringField(body, 'open_id');
  return { ...readTokenSet(call, body), extras: openId ? { openId } : {} };
}
