import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type ProviderReply, readParams, requestOrigin, sandboxPrefix } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { readClientCredentials } from '../oauth/client-auth.ts';
import type { Grant } from '../oauth/grants.ts';
import type { TokenFailureReason } from '../oauth/token-errors.ts';
import {
  processTokenRequest,
  secondsLeft,
  type TokenQuirks,
  type TokenSuccess,
} from '../oauth/token-flow.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import type { SandboxProviderModule } from './provider.ts';
import type { SlackWebhook } from './slack-webhook-store.ts';

// Slack: slack.com/oauth/v2/authorize and the Web API at slack.com/api/<method>. Quirks: every
// Web API answer is HTTP 200 with `ok: true|false` and an error string (429 is the exception);
// client credentials by HTTP Basic (preferred) or in the body; bot tokens never expire unless
// token rotation is on (then 12-hour xoxe.xoxb- tokens and single-use xoxe- refresh tokens).
// With the incoming-webhook scope the install creates a webhook URL served by this sandbox.

const quirks: TokenQuirks = {
  provider: 'slack',
  clientAuth: { basic: true, body: true },
  prefixes: (settings) =>
    settings.refreshTokens
      ? { access: 'xoxe.xoxb-1-', refresh: 'xoxe-1-' }
      : { access: 'xoxb-', refresh: 'xoxe-1-' },
};

const OAUTH_ERRORS: Record<TokenFailureReason, string> = {
  body_not_accepted: 'invalid_arguments',
  client_missing: 'invalid_client_id',
  client_auth_method: 'invalid_client_id',
  client_unknown: 'bad_client_secret',
  grant_type_unsupported: 'invalid_grant_type',
  code_missing: 'invalid_code',
  code_unknown: 'invalid_code',
  code_used: 'code_already_used',
  code_expired: 'invalid_code',
  code_client_mismatch: 'invalid_code',
  redirect_mismatch: 'bad_redirect_uri',
  pkce_missing: 'invalid_code',
  pkce_mismatch: 'invalid_code',
  refresh_missing: 'invalid_refresh_token',
  refresh_unknown: 'invalid_refresh_token',
  refresh_expired: 'invalid_refresh_token',
  refresh_revoked: 'invalid_refresh_token',
  refresh_reused: 'invalid_refresh_token',
  refresh_client_mismatch: 'invalid_refresh_token',
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/oauth/v2/authorize', {
    provider: 'slack',
    brand: `Slack: ${state.accounts.slack.team.name}`,
    pkce: false,
    choices: (s) => s.accounts.slack.users.map((u) => ({ id: u.id, label: u.email })),
  });

  app.post('/api/oauth.v2.access', endpoint('slack.oauth.v2.access'), async (request, reply) => {
    // grant_type is optional at Slack: without it the call is a code exchange.
    const params = { grant_type: 'authorization_code', ...readParams(request.body) };
    const outcome = processTokenRequest(state, request, params, quirks);
    if (!outcome.ok) {
      const { reason } = outcome.failure;
      const unknownId = reason === 'client_unknown' && !clientExists(state, request, params);
      return reply.send({ ok: false, error: unknownId ? 'invalid_client_id' : OAUTH_ERRORS[reason] });
    }
    return reply.send(tokenResponse(state, request, outcome));
  });

  app.post('/api/auth.revoke', endpoint('slack.auth.revoke'), async (request, reply) => {
    const params = readParams(request.body);
    const check = checkAccessToken(state, 'slack', bearerToken(request) ?? params.token);
    if (!check.ok) return reply.send({ ok: false, error: authError(check.failure) });
    if (params.test !== 'true' && params.test !== '1') state.grants.revoke(check.grant.id, state.clock.now());
    return reply.send({ ok: true, revoked: params.test !== 'true' && params.test !== '1' });
  });

  const authTest = async (request: FastifyRequest, reply: FastifyReply) => {
    const check = checkAccessToken(state, 'slack', bearerToken(request) ?? readParams(request.body).token);
    if (!check.ok) return reply.send({ ok: false, error: authError(check.failure) });
    const { team, botUserId } = state.accounts.slack;
    return reply.send({
      ok: true,
      url: `https://${team.domain}.slack.com/`,
      team: team.name,
      user: 'tether_sandbox',
      team_id: team.id,
      user_id: botUserId,
      bot_id: `B${botUserId.slice(1)}`,
      is_enterprise_install: false,
    });
  };
  app.post('/api/auth.test', endpoint('slack.auth.test'), authTest);
  app.get('/api/auth.test', endpoint('slack.auth.test'), authTest);

  app.post('/services/:teamId/:hookId/:secret', endpoint('slack.webhook'), async (request, reply) => {
    const { teamId, hookId, secret } = request.params as { teamId: string; hookId: string; secret: string };
    const hook = state.slackWebhooks.get(hookId);
    reply.type('text/html');
    if (!hook || hook.teamId !== teamId || hook.secret !== secret || hook.state === 'removed') {
      return reply.code(404).send('no_service');
    }
    if (hook.state === 'revoked' || state.grants.get(hook.grantId)?.revokedAt) {
      return reply.code(403).send('invalid_token');
    }
    if (hook.state === 'archived') return reply.code(410).send('channel_is_archived');
    const message = readMessage(request.body);
    if (!message) return reply.code(400).send('invalid_payload');
    hook.messages.push(message);
    return reply.code(200).send('ok');
  });
}

function tokenResponse(state: SandboxState, request: FastifyRequest, outcome: TokenSuccess) {
  const { team, appId, botUserId } = state.accounts.slack;
  const body: Record<string, unknown> = {
    ok: true,
    app_id: appId,
    authed_user: { id: outcome.grant.accountId },
    scope: outcome.grant.scopes.join(','),
    token_type: 'bot',
    access_token: outcome.access.value,
    bot_user_id: botUserId,
    team: { id: team.id, name: team.name },
    enterprise: null,
    is_enterprise_install: false,
  };
  const expiresIn = secondsLeft(outcome.access.expiresAt, outcome.now);
  if (expiresIn !== undefined) body.expires_in = expiresIn;
  if (outcome.refresh) body.refresh_token = outcome.refresh.value;
  const hook = outcome.grantType === 'authorization_code' ? webhookFor(state, outcome.grant) : undefined;
  if (hook) {
    body.incoming_webhook = {
      channel: `#${hook.channelName}`,
      channel_id: hook.channelId,
      configuration_url: `https://${team.domain}.slack.com/services/${hook.id}`,
      url: `${requestOrigin(request)}${sandboxPrefix(request, 'slack')}/slack/services/${hook.teamId}/${hook.id}/${hook.secret}`,
    };
  }
  return body;
}

/** The grant's incoming webhook, created on the install that asked for the scope. */
function webhookFor(state: SandboxState, grant: Grant): SlackWebhook | undefined {
  if (!grant.scopes.includes('incoming-webhook')) return undefined;
  const existing = grant.data.webhookId && state.slackWebhooks.get(grant.data.webhookId);
  if (existing) return existing;
  const channel = state.accounts.slack.channels[0]!;
  const hook = state.slackWebhooks.create({
    teamId: state.accounts.slack.team.id,
    channelId: channel.id,
    channelName: channel.name,
    grantId: grant.id,
  });
  grant.data.webhookId = hook.id;
  return hook;
}

function readMessage(body: unknown): Record<string, unknown> | undefined {
  let message: unknown = body;
  const payload = readParams(body).payload;
  if (payload !== undefined) {
    try {
      message = JSON.parse(payload);
    } catch {
      return undefined;
    }
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const { text, blocks, attachments } = message as Record<string, unknown>;
  const hasText = typeof text === 'string' && text.length > 0;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  return hasText || hasBlocks || hasAttachments ? (message as Record<string, unknown>) : undefined;
}

function clientExists(state: SandboxState, request: FastifyRequest, params: Record<string, string>): boolean {
  const credentials = readClientCredentials(request, params, quirks.clientAuth);
  return credentials.ok && state.clients.find('slack', credentials.clientId) !== undefined;
}

function authError(failure: 'missing' | 'unknown' | 'expired' | 'revoked'): string {
  return {
    missing: 'not_authed',
    unknown: 'invalid_auth',
    expired: 'token_expired',
    revoked: 'token_revoked',
  }[failure];
}

function rateLimited(hit: { retryAfterSec: number }, key: string): ProviderReply {
  const headers = { 'retry-after': String(hit.retryAfterSec) };
  if (key === 'slack.webhook')
    return { status: 429, headers: { ...headers, 'content-type': 'text/html' }, body: 'rate_limited' };
  return { status: 429, headers, body: { ok: false, error: 'ratelimited' } };
}

export const slack: SandboxProviderModule = {
  name: 'slack',
  simulates: ['slack'],
  routes,
  rateLimited,
  endpoints: (base) => ({
    authorizationUrl: `${base}/slack/oauth/v2/authorize`,
    tokenUrl: `${base}/slack/api/oauth.v2.access`,
    revocationUrl: `${base}/slack/api/auth.revoke`,
    apiBaseUrl: `${base}/slack/api`,
  }),
  faultPresets: {
    webhook_rollup_error: {
      endpoint: 'slack.webhook',
      action: {
        kind: 'respond',
        status: 500,
        body: 'rollup_error',
        headers: { 'content-type': 'text/html' },
      },
    },
  },
};
