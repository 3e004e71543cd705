import type { FastifyRequest } from 'fastify';
import type { ProviderSettings, SandboxProvider } from '../settings.ts';
import type { SandboxState } from '../state.ts';
import { type ClientAuthRules, readClientCredentials } from './client-auth.ts';
import type { SandboxClient } from './clients.ts';
import type { AuthorizationCode } from './codes.ts';
import type { AccessToken, Grant, RefreshToken } from './grants.ts';
import { pkceMatches } from './pkce.ts';
import { type TokenFailure, tokenFailure } from './token-errors.ts';

// The token endpoint every simulated provider shares: client authentication, the
// authorization_code grant and the refresh_token grant. It decides; the provider only renders
// the outcome in its own response shape. Provider differences come in as TokenQuirks.

export interface TokenQuirks {
  provider: SandboxProvider;
  clientAuth: ClientAuthRules;
  prefixes(settings: ProviderSettings): { access: string; refresh: string };
  /** Whether a code exchange hands out a refresh token. Default: settings.refreshTokens. */
  refreshOnExchange?(input: {
    code: AuthorizationCode;
    grant: Grant;
    settings: ProviderSettings;
    state: SandboxState;
  }): boolean;
  /** Re-consent joins the account's existing grant to the client instead of starting a new one. */
  reuseGrant?: boolean;
  /** Called once for each new grant, to attach provider facts (Slack's incoming webhook...). */
  onNewGrant?(grant: Grant, code: AuthorizationCode): void;
}

export type GrantType = 'authorization_code' | 'refresh_token';

export interface TokenSuccess {
  ok: true;
  grantType: GrantType;
  client: SandboxClient;
  grant: Grant;
  code: AuthorizationCode | null;
  access: AccessToken;
  /** Null when the response carries no refresh_token. */
  refresh: RefreshToken | null;
  settings: ProviderSettings;
  now: number;
}

export type TokenOutcome = TokenSuccess | { ok: false; failure: TokenFailure };

const fail = (reason: Parameters<typeof tokenFailure>[0]): TokenOutcome => ({
  ok: false,
  failure: tokenFailure(reason),
});

export function processTokenRequest(
  state: SandboxState,
  request: FastifyRequest,
  params: Record<string, string>,
  quirks: TokenQuirks,
): TokenOutcome {
  // Count what the caller attempted ('xero.token#refresh_token'), even if it then fails.
  const grantType = params.grant_type;
  const endpointKey = request.routeOptions.config.endpoint;
  if (endpointKey && grantType && /^[\w:.-]{1,64}$/.test(grantType))
    state.calls.tag(`${endpointKey}#${grantType}`);

  const client = authenticateClient(state, request, params, quirks.provider, quirks.clientAuth);
  if ('reason' in client) return { ok: false, failure: client };
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
    return fail('grant_type_unsupported');
  return grantType === 'authorization_code'
    ? exchangeCode(state, client, params, quirks)
    : refreshGrant(state, client, params, quirks);
}

/** The client a request authenticates as, by the provider's allowed methods. */
export function authenticateClient(
  state: SandboxState,
  request: FastifyRequest,
  params: Record<string, string>,
  provider: SandboxProvider,
  rules: ClientAuthRules,
): SandboxClient | TokenFailure {
  const credentials = readClientCredentials(request, params, rules);
  if (!credentials.ok)
    return tokenFailure(credentials.problem === 'missing' ? 'client_missing' : 'client_auth_method');
  return (
    state.clients.authenticate(provider, credentials.clientId, credentials.clientSecret) ??
    tokenFailure('client_unknown')
  );
}

function exchangeCode(
  state: SandboxState,
  client: SandboxClient,
  params: Record<string, string>,
  quirks: TokenQuirks,
): TokenOutcome {
  const now = state.clock.now();
  if (!params.code) return fail('code_missing');
  const code = state.codes.get(params.code);
  if (!code || code.provider !== quirks.provider) return fail('code_unknown');
  if (code.usedAt !== null) return fail('code_used');
  if (now >= code.expiresAt) return fail('code_expired');
  if (code.clientId !== client.clientId) return fail('code_client_mismatch');
  if (params.redirect_uri !== code.redirectUri) return fail('redirect_mismatch');
  if (code.codeChallenge !== null && code.codeChallengeMethod !== null) {
    if (!params.code_verifier) return fail('pkce_missing');
    if (!pkceMatches(code.codeChallenge, code.codeChallengeMethod, params.code_verifier))
      return fail('pkce_mismatch');
  }
  code.usedAt = now;

  const settings = state.settings[quirks.provider];
  const existing = quirks.reuseGrant
    ? state.grants.findActive(quirks.provider, client.clientId, code.accountId)
    : undefined;
  const grant =
    existing ??
    state.grants.create(
      {
        provider: quirks.provider,
        clientId: client.clientId,
        accountId: code.accountId,
        scopes: code.scopes,
      },
      now,
    );
  if (existing) grant.scopes = [...new Set([...grant.scopes, ...code.scopes])];
  else quirks.onNewGrant?.(grant, code);

  const prefixes = quirks.prefixes(settings);
  const access = state.grants.issueAccess(grant, {
    now,
    ttlSec: settings.accessTokenTtlSec,
    prefix: prefixes.access,
  });
  const wantsRefresh = quirks.refreshOnExchange?.({ code, grant, settings, state }) ?? settings.refreshTokens;
  const refresh = wantsRefresh
    ? state.grants.issueRefresh(grant, { now, ttlSec: settings.refreshTokenTtlSec, prefix: prefixes.refresh })
    : null;
  return { ok: true, grantType: 'authorization_code', client, grant, code, access, refresh, settings, now };
}

function refreshGrant(
  state: SandboxState,
  client: SandboxClient,
  params: Record<string, string>,
  quirks: TokenQuirks,
): TokenOutcome {
  const now = state.clock.now();
  if (!params.refresh_token) return fail('refresh_missing');
  const old = state.grants.refresh(params.refresh_token);
  const grant = old && state.grants.get(old.grantId);
  if (!old || !grant || grant.provider !== quirks.provider) return fail('refresh_unknown');
  if (grant.clientId !== client.clientId) return fail('refresh_client_mismatch');
  if (old.revokedAt !== null || grant.revokedAt !== null) return fail('refresh_revoked');
  if (old.expiresAt !== null && now >= old.expiresAt) return fail('refresh_expired');

  const settings = state.settings[quirks.provider];
  if (old.rotatedAt !== null && now >= old.rotatedAt + settings.rotationGraceSec * 1000)
    return fail('refresh_reused');

  const prefixes = quirks.prefixes(settings);
  const access = state.grants.issueAccess(grant, {
    now,
    ttlSec: settings.accessTokenTtlSec,
    prefix: prefixes.access,
  });
  if (settings.rotation === 'none') {
    return {
      ok: true,
      grantType: 'refresh_token',
      client,
      grant,
      code: null,
      access,
      refresh: null,
      settings,
      now,
    };
  }
  const refresh = state.grants.issueRefresh(grant, {
    now,
    ttlSec: settings.refreshTokenTtlSec,
    prefix: prefixes.refresh,
  });
  // Within the grace a rotated token may be used again (a lost response); the grace still
  // runs from the first rotation, so retries cannot stretch it.
  if (settings.rotation === 'single-use') old.rotatedAt ??= now;
  return { ok: true, grantType: 'refresh_token', client, grant, code: null, access, refresh, settings, now };
}

/** Seconds until a token expires, for `expires_in`; undefined when it never does. */
export function secondsLeft(expiresAt: number | null, now: number): number | undefined {
  return expiresAt === null ? undefined : Math.max(0, Math.round((expiresAt - now) / 1000));
}
