import {
  apiBaseProxy,
  buildAuthorizationUrl,
  clientAuthOf,
  codeGrantParams,
  refreshGrantParams,
  requestedHeader,
  requireEndpoint,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { isRecord } from './failure.ts';
import { notionPagesSync } from './notion-sync.ts';
import { callProvider, readTokenSet } from './oauth-http.ts';
import {
  type IntegrationContext,
  type ProviderDefinition,
  ProviderError,
  type ProviderRuntime,
  type TokenSet,
} from './provider.ts';

/**
 * Notion. Quirks: HTTP Basic with a JSON body; no scopes (the person picks pages); the token
 * answer names the bot, the workspace and the owner. Newer integrations get expiring tokens and
 * rotating refresh tokens; legacy ones a token without expires_in and `refresh_token: null`,
 * which never needs refreshing (no expiresAt). Every API call needs Notion-Version.
 *
 * Account id: `<workspace_id>:<owner user id>`. A Notion token belongs to one person's install in
 * one workspace: the workspace alone would merge two people, and bot_id can change when the
 * integration is installed again. A workspace-owned install (no owner user) uses the workspace id.
 */

const DISPLAY = 'Notion';
const DEFAULT_VERSION = '2022-06-28';

export const notion: ProviderDefinition = {
  name: 'notion',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    revocationUrl: 'https://api.notion.com/v1/oauth/revoke',
    apiBaseUrl: 'https://api.notion.com',
  },
  defaultScopes: [],
  pkce: false,
  refresh: { strategy: 'expiry', rotates: true },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, { scopes: [], pkce: false, extra: { owner: 'user' } }),

  exchangeCode: (ctx, rt, params) => requestTokens(ctx, rt, 'code exchange', codeGrantParams(params)),

  async afterConnect(_ctx, _rt, tokens) {
    const extras = tokens.extras ?? {};
    const workspaceId = stringField(extras, 'workspaceId');
    const ownerUserId = stringField(extras, 'ownerUserId');
    const accountId =
      workspaceId && ownerUserId
        ? `${workspaceId}:${ownerUserId}`
        : (workspaceId ?? stringField(extras, 'botId'));
    if (!accountId) {
      throw new ProviderError(
        'configuration',
        'notion',
        'Notion connect failed: the token answer names no workspace or bot',
        {
          providerCode: 'invalid_response',
        },
      );
    }
    return {
      tokens,
      accountId,
      metadata: {
        workspaceId: workspaceId ?? null,
        workspaceName: stringField(extras, 'workspaceName') ?? null,
        botId: stringField(extras, 'botId') ?? null,
      },
      warnings: [],
    };
  },

  refreshAccessToken: (ctx, rt, connection) =>
    requestTokens(ctx, rt, 'refresh', refreshGrantParams(ctx, connection)),

  async revoke(ctx, rt, connection) {
    await callProvider(rt, {
      provider: DISPLAY,
      operation: 'revocation',
      url: requireEndpoint(ctx, 'revocationUrl'),
      params: { token: connection.accessToken },
      body: 'json',
      clientAuth: clientAuthOf(ctx, 'client_secret_basic'),
      allowEmpty: true,
    });
  },

  syncs: [notionPagesSync],
  // About 3 requests a second per connection (Notion answers 429 past it).
  limits: { perConnection: { perSecond: 3 } },

  proxy: {
    ...apiBaseProxy(),
    headers: (ctx, _connection, requested) => ({
      'Notion-Version':
        requestedHeader(requested, 'notion-version') ?? ctx.options.notionVersion ?? DEFAULT_VERSION,
    }),
  },
};

async function requestTokens(
  ctx: IntegrationContext,
  rt: ProviderRuntime,
  operation: string,
  params: Record<string, string>,
): Promise<TokenSet> {
  const call = tokenEndpointCall(ctx, DISPLAY, operation, params, { body: 'json' });
  const body = await callProvider(rt, call);
  const owner = isRecord(body.owner) ? body.owner : {};
  const extras: Record<string, unknown> = {
    botId: stringField(body, 'bot_id'),
    workspaceId: stringField(body, 'workspace_id'),
    workspaceName: stringField(body, 'workspace_name'),
    ownerUserId: owner.type === 'user' ? stringField(owner.user, 'id') : undefined,
  };
  return {
    ...readTokenSet(call, body),
    extras: Object.fromEntries(Object.entries(extras).filter(([, v]) => v)),
  };
}
