import { type ClientAuth, type ProviderCall, requestTokenSet } from './oauth-http.ts';
import {
  type ConnectionContext,
  type Endpoints,
  type IntegrationContext,
  type ProviderDefinition,
  ProviderError,
  type TokenEndpointAuthMethod,
} from './provider.ts';

// What most provider modules share: the authorize URL, client authentication from the
// integration, required endpoints and connection facts.

export interface AuthorizeOptions {
  scopes: string[];
  /** ' ' by the spec; ',' at TikTok, Instagram and Slack. */
  scopeSeparator?: string;
  /** 'client_id' by the spec; TikTok says 'client_key'. */
  clientIdParam?: string;
  /** Provider parameters (Google's access_type); the integration's extraAuthorizeParams come after. */
  extra?: Record<string, string>;
  /** Whether to send the PKCE challenge (the provider supports it and the integration wants it). */
  pkce: boolean;
}

export function buildAuthorizationUrl(
  ctx: IntegrationContext,
  params: { state: string; codeChallenge?: string; redirectUri: string },
  options: AuthorizeOptions,
): URL {
  const url = new URL(requireEndpoint(ctx, 'authorizationUrl'));
  const query = url.searchParams;
  query.set('response_type', 'code');
  query.set(options.clientIdParam ?? 'client_id', ctx.clientId);
  query.set('redirect_uri', params.redirectUri);
  if (options.scopes.length > 0) {
    query.set('scope', options.scopes.join(ctx.options.scopeSeparator ?? options.scopeSeparator ?? ' '));
  }
  query.set('state', params.state);
  if (options.pkce && ctx.options.pkce !== false && params.codeChallenge) {
    query.set('code_challenge', params.codeChallenge);
    query.set('code_challenge_method', 'S256');
  }
  for (const [key, value] of Object.entries({ ...options.extra, ...ctx.options.extraAuthorizeParams })) {
    query.set(key, value);
  }
  return url;
}

/** The integration's scopes, or the provider's defaults when it names none, plus any it must have. */
export function scopesOf(ctx: IntegrationContext, defaults: string[], required: string[] = []): string[] {
  const scopes = ctx.scopes.length > 0 ? ctx.scopes : defaults;
  return [...new Set([...required.filter((s) => !scopes.includes(s)), ...scopes])];
}

export function clientAuthOf(
  ctx: IntegrationContext,
  fallback: TokenEndpointAuthMethod,
  idParam?: string,
): ClientAuth {
  const method = ctx.options.tokenEndpointAuthMethod ?? fallback;
  const { clientId, clientSecret } = ctx;
  return method === 'client_secret_basic'
    ? { method, clientId, clientSecret }
    : { method, clientId, clientSecret, idParam };
}

/** The code grant's parameters (the verifier only when the flow made one). */
export function codeGrantParams(params: {
  code: string;
  codeVerifier?: string;
  redirectUri: string;
}): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code: params.code,
    redirect_uri: params.redirectUri,
    ...(params.codeVerifier ? { code_verifier: params.codeVerifier } : {}),
  };
}

export function requireEndpoint(ctx: IntegrationContext, name: keyof Endpoints): string {
  const url = ctx.endpoints[name];
  if (!url || !URL.canParse(url)) {
    throw new ProviderError(
      'configuration',
      ctx.provider,
      `Integration "${ctx.key}" has no valid ${String(name)} for ${ctx.provider}`,
    );
  }
  return url;
}

/** The refresh token a refresh needs; a connection without one cannot be refreshed. */
function requireRefreshToken(ctx: IntegrationContext, connection: ConnectionContext): string {
  if (connection.refreshToken) return connection.refreshToken;
  throw new ProviderError(
    'permanent',
    ctx.provider,
    `${ctx.provider} refresh failed: the connection has no refresh token`,
    {
      providerCode: 'no_refresh_token',
    },
  );
}

/** The refresh grant's parameters (RFC 6749 §6), with the connection's refresh token. */
export function refreshGrantParams(
  ctx: IntegrationContext,
  connection: ConnectionContext,
): Record<string, string> {
  return { grant_type: 'refresh_token', refresh_token: requireRefreshToken(ctx, connection) };
}

/** The refresh of a provider whose token endpoint takes HTTP Basic (Xero, DocuSign, the generic provider). */
export function basicRefreshGrant(displayName: string): ProviderDefinition['refreshAccessToken'] {
  return (ctx, rt, connection) =>
    requestTokenSet(rt, tokenEndpointCall(ctx, displayName, 'refresh', refreshGrantParams(ctx, connection)));
}

/**
 * The proxy most providers have: proxied paths go under the integration's apiBaseUrl, with no
 * headers besides Authorization; a 401 means the access token is no good unless told otherwise.
 */
export function apiBaseProxy(
  isAuthFailure: ProviderDefinition['proxy']['isAuthFailure'] = (status) => status === 401,
): ProviderDefinition['proxy'] {
  return { baseUrl: (ctx) => requireEndpoint(ctx, 'apiBaseUrl'), headers: () => ({}), isAuthFailure };
}

/** A header from a proxied request, by case-insensitive name. */
export function requestedHeader(requested: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(requested)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function stringField(source: unknown, key: string): string | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const value = (source as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;
}

/**
 * A call to the token endpoint. The client authenticates as the integration's
 * tokenEndpointAuthMethod says, else as the provider does (`auth`, HTTP Basic unless told).
 */
export function tokenEndpointCall(
  ctx: IntegrationContext,
  provider: string,
  operation: string,
  params: Record<string, string>,
  how: { auth?: TokenEndpointAuthMethod; idParam?: string; body?: 'json' } = {},
): ProviderCall {
  return {
    provider,
    operation,
    url: requireEndpoint(ctx, 'tokenUrl'),
    params,
    clientAuth: clientAuthOf(ctx, how.auth ?? 'client_secret_basic', how.idParam),
    ...(how.body ? { body: how.body } : {}),
  };
}
