import {
  apiBaseProxy,
  buildAuthorizationUrl,
  codeGrantParams,
  refreshGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { classifyAnswer, isRecord, networkFailure } from './failure.ts';
import { callProvider, readTokenSet } from './oauth-http.ts';
import {
  type IntegrationContext,
  type ProviderDefinition,
  ProviderError,
  type ProviderRuntime,
  type TokenSet,
} from './provider.ts';

/**
 * Slack (OAuth v2). Quirks: every Web API answer is HTTP 200 with `ok: false` and an error string
 * on failure (the shared client reads it); scopes are comma-separated; bot tokens never expire
 * unless the app turned token rotation on (then 12-hour tokens and single-use refresh tokens),
 * so a connection without expires_in is simply never refreshed. With the incoming-webhook scope
 * the answer carries `incoming_webhook.url`, a long-lived secret: it goes to secretExtras (sealed
 * like a token), the channel to extras.
 *
 * Account id: the team id (the enterprise id for org-wide installs), plus `:<channel_id>` when
 * the install made an incoming webhook: each channel's webhook is its own connection, while a
 * plain bot install is one per workspace.
 */

const DISPLAY = 'Slack';

export const slack: ProviderDefinition = {
  name: 'slack',
  displayName: DISPLAY,
  defaultEndpoints: {
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    revocationUrl: 'https://slack.com/api/auth.revoke',
    apiBaseUrl: 'https://slack.com/api',
  },
  defaultScopes: ['incoming-webhook'],
  pkce: false,
  refresh: { strategy: 'expiry', rotates: true },

  authorizationUrl: (ctx, params) =>
    buildAuthorizationUrl(ctx, params, {
      scopes: scopesOf(ctx, slack.defaultScopes),
      scopeSeparator: ',',
      pkce: false,
    }),

  exchangeCode: (ctx, rt, params) => requestTokens(ctx, rt, 'code exchange', codeGrantParams(params)),

  async afterConnect(_ctx, _rt, tokens) {
    const extras = tokens.extras ?? {};
    const owner = stringField(extras, 'teamId') ?? stringField(extras, 'enterpriseId');
    if (!owner) {
      throw new ProviderError('configuration', 'slack', 'Slack connect failed: the answer names no team', {
        providerCode: 'invalid_response',
      });
    }
    const channelId = stringField(extras.incomingWebhook, 'channelId');
    return {
      tokens,
      accountId: channelId ? `${owner}:${channelId}` : owner,
      metadata: {
        teamId: stringField(extras, 'teamId') ?? null,
        teamName: stringField(extras, 'teamName') ?? null,
        botUserId: stringField(extras, 'botUserId') ?? null,
        incomingWebhook: extras.incomingWebhook ?? null,
      },
      warnings: [],
    };
  },

  refreshAccessToken: (ctx, rt, connection) =>
    requestTokens(ctx, rt, 'refresh', refreshGrantParams(ctx, connection)),

  async revoke(ctx, rt, connection) {
    try {
      await callProvider(rt, {
        provider: DISPLAY,
        operation: 'revocation',
        url: requireEndpoint(ctx, 'revocationUrl'),
        bearer: connection.accessToken,
      });
    } catch (error) {
      // Already revoked or expired: nothing left to revoke.
      if (error instanceof ProviderError && error.kind === 'permanent') return;
      throw error;
    }
  },

  proxy: apiBaseProxy(
    (status, body) =>
      status === 401 || /"error"\s*:\s*"(invalid_auth|token_expired|token_revoked|not_authed)"/.test(body),
  ),
};

async function requestTokens(
  ctx: IntegrationContext,
  rt: ProviderRuntime,
  operation: string,
  params: Record<string, string>,
): Promise<TokenSet> {
  const call = tokenEndpointCall(ctx, DISPLAY, operation, params);
  const body = await callProvider(rt, call);
  const team = isRecord(body.team) ? body.team : {};
  const enterprise = isRecord(body.enterprise) ? body.enterprise : {};
  const hook = isRecord(body.incoming_webhook) ? body.incoming_webhook : undefined;
  const extras: Record<string, unknown> = {
    teamId: stringField(team, 'id'),
    teamName: stringField(team, 'name'),
    enterpriseId: stringField(enterprise, 'id'),
    appId: stringField(body, 'app_id'),
    botUserId: stringField(body, 'bot_user_id'),
    authedUserId: stringField(body.authed_user, 'id'),
    incomingWebhook: hook && {
      channel: stringField(hook, 'channel') ?? null,
      channelId: stringField(hook, 'channel_id') ?? null,
      configurationUrl: stringField(hook, 'configuration_url') ?? null,
    },
  };
  const webhookUrl = stringField(hook, 'url');
  return {
    ...readTokenSet(call, body),
    ...(webhookUrl ? { secretExtras: { incomingWebhookUrl: webhookUrl } } : {}),
    extras: Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)),
  };
}

/**
 * Posting through an incoming webhook (the URL from `incoming_webhook.url`, a secret: it never
 * reaches a message). Slack answers in plain text: 200 `ok`; 400 with what is wrong with the
 * payload (refused: the grant lives, the message will not pass as it is); 403 `invalid_token`,
 * 404 `no_service`, 410 `channel_is_archived` when the webhook is gone (permanent: reconnect);
 * 429 and 5xx pass, as do network failures and timeouts (transient: retried, up to
 * `WEBHOOK_ATTEMPTS` in all, waiting Retry-After or 250 ms doubling, at most 5 s a wait). Any
 * other answer is one tether cannot use (configuration). Resolves with the attempts it took;
 * otherwise throws the last failure as a classified ProviderError.
 */
export const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_MAX_WAIT_MS = 5_000;
const WEBHOOK_GONE = new Set([403, 404, 410]);

export interface WebhookPostOptions {
  /** Waits between attempts; tests shorten it. */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each transient failure before the wait. */
  onRetry?: (failure: ProviderError, attempt: number) => void;
}

export async function postToIncomingWebhook(
  rt: ProviderRuntime,
  url: string,
  message: unknown,
  options: WebhookPostOptions = {},
): Promise<{ attempts: number }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    const failure = await postOnce(rt, url, message);
    if (!failure) return { attempts: attempt };
    if (failure.kind !== 'transient' || attempt >= WEBHOOK_ATTEMPTS) throw failure;
    options.onRetry?.(failure, attempt);
    const backoff =
      failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : 250 * 2 ** (attempt - 1);
    await sleep(Math.min(backoff, WEBHOOK_MAX_WAIT_MS));
  }
}

async function postOnce(
  rt: ProviderRuntime,
  url: string,
  message: unknown,
): Promise<ProviderError | undefined> {
  const context = { provider: DISPLAY, operation: 'incoming webhook', secrets: [url], now: rt.now() };
  let response: Response;
  let text: string;
  try {
    response = await rt.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    text = await response.text();
  } catch (cause) {
    return networkFailure(cause, context);
  }
  const { status } = response;
  if (status >= 200 && status < 300) return undefined;
  if (status === 429 || status >= 500)
    return classifyAnswer({ status, headers: response.headers, json: undefined }, context);
  // Slack's answer is a bare error code; anything else (an HTML page) is not one to keep.
  const said = /^[a-z_]{1,64}$/.test(text.trim()) ? text.trim() : undefined;
  const kind = status === 400 ? 'refused' : WEBHOOK_GONE.has(status) ? 'permanent' : 'configuration';
  const providerCode = said ?? (status === 400 ? 'invalid_payload' : `http_${status}`);
  return new ProviderError(kind, DISPLAY, `Slack incoming webhook failed: ${providerCode} (HTTP ${status})`, {
    status,
    providerCode,
  });
}
