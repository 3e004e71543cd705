/**
 * What one OAuth provider declares. Everything that differs between
 * providers lives in its module under src/providers/; the connect flow, the
 * token lifecycle and the proxy only ever call these hooks, so adding a
 * provider is one file here plus its simulator in src/sandbox/providers/.
 */

import type { ProviderLimits } from '../syncs/call-limits.ts';
import type { SyncDefinition } from '../syncs/definition.ts';
import type { OAuthProviderName } from './index.ts';

/** The provider names an integration may have: the registry's keys (providers/index.ts). */
export type { OAuthProviderName } from './index.ts';

export interface Endpoints {
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl?: string;
  /** Root that proxied paths are joined to; the generic provider may have none (no proxy then). */
  apiBaseUrl?: string;
  userinfoUrl?: string;
  /** Provider extras: Xero connectionsUrl, Instagram exchangeUrl/refreshUrl, ... */
  [extra: string]: string | undefined;
}

/** How the generic provider (and overrides of the others) authenticate at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** An integration as a provider sees it: the app's credentials and settings, secrets opened. */
export interface IntegrationContext {
  key: string;
  provider: OAuthProviderName;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** Provider defaults merged with the integration's overrides. */
  endpoints: Endpoints;
  options: IntegrationOptions;
}

export interface IntegrationOptions {
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  scopeSeparator?: string;
  extraAuthorizeParams?: Record<string, string>;
  /** Generic provider: whether refresh tokens rotate (the new one must be kept). */
  rotatesRefreshTokens?: boolean;
  /** Refresh when the access token has less than this left (default 300 s). */
  refreshMarginSeconds?: number;
  /** Instagram: refresh a long-lived token once it is this close to expiry (default 7 days). */
  refreshWindowSeconds?: number;
  /** Notion-Version header for the proxy (default in the Notion module). */
  notionVersion?: string;
  /** Gmail push: the Pub/Sub topic users.watch publishes to; no watch without it. */
  gmailWatchTopic?: string;
  /** Whether to use PKCE where the provider supports it (default true). */
  pkce?: boolean;
}

/** A token endpoint's answer, normalised. Secrets live only here and in sealed credentials. */
export interface TokenSet {
  accessToken: string;
  /** undefined: the response had none (keep the old one); null: the grant has none. */
  refreshToken?: string | null;
  /** Seconds from now, as the provider said; undefined: does not expire. */
  expiresIn?: number;
  refreshExpiresIn?: number;
  scope?: string;
  /** Secret extras that must be sealed too (Slack incoming_webhook.url). */
  secretExtras?: Record<string, string>;
  /** Non-secret facts from the response worth keeping (workspace, bot id, open_id, incoming_webhook channel). */
  extras?: Record<string, unknown>;
}

/**
 * Why a provider call failed, as the lifecycle must treat it:
 * - permanent: the grant is dead (invalid_grant, revoked, Instagram 190): reconnect needed.
 * - transient: try again later (network, timeout, 5xx, 429).
 * - configuration: the integration is wrong (invalid_client): every user of it is affected.
 * - refused: this request was refused but the grant lives (Instagram refresh before 24 h).
 */
export type FailureKind = 'permanent' | 'transient' | 'configuration' | 'refused';

export class ProviderError extends Error {
  readonly kind: FailureKind;
  readonly provider: string;
  readonly status: number | undefined;
  /** The provider's own error code (invalid_grant, 190, access_token_invalid). Never a secret. */
  readonly providerCode: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    kind: FailureKind,
    provider: string,
    message: string,
    details: { status?: number; providerCode?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.provider = provider;
    this.status = details.status;
    this.providerCode = details.providerCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** What the connect flow learns after the code exchange. */
export interface ConnectedAccount {
  /** May differ from the exchanged set (Instagram swaps in its long-lived token). */
  tokens: TokenSet;
  /** The provider's stable id of the account (same account reconnecting → same connection). */
  accountId: string;
  /** Non-secret facts the proxy and syncs need: Xero tenants, DocuSign base URI and account id. */
  metadata: Record<string, unknown>;
  /** Things a person should know (Google gave no refresh token). */
  warnings: string[];
}

/** The connection as refresh and proxy see it. */
export interface ConnectionContext {
  accessToken: string;
  refreshToken: string | null;
  /** When the current access token was issued (Instagram's 24 h rule). */
  issuedAt: Date;
  expiresAt: Date | null;
  metadata: Record<string, unknown>;
}

export interface ProviderRuntime {
  /** fetch with a timeout; every provider call goes through it. */
  fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;
  now: () => Date;
}

export interface RefreshPolicy {
  /**
   * 'expiry': refresh inside the margin; 'long-lived': Instagram's age + window rule; 'none': never
   * expires. Under 'expiry' a connection whose token came without expires_in (Notion legacy,
   * Slack without token rotation) has no expiresAt and is never refreshed.
   */
  strategy: 'expiry' | 'long-lived' | 'none';
  /** Whether each refresh hands out a new refresh token that must be kept. */
  rotates: boolean;
  /** Xero: the previous refresh token still works this long after a rotation. */
  previousTokenGraceSeconds?: number;
  /** A refresh token unused this long lapses (Xero 60 days, Google ~6 months): keep-alive refreshes before. */
  idleLifetimeSeconds?: number;
  /** Long-lived strategy: no refresh before the token is this old (Instagram 24 h). */
  minimumAgeSeconds?: number;
}

export interface ProviderDefinition {
  name: OAuthProviderName;
  /** For messages to people: "Xero", "Google Calendar". */
  displayName: string;
  defaultEndpoints: Endpoints;
  /** Endpoints an integration must set itself, having no default (the generic provider's). */
  requiredEndpoints?: readonly (keyof Endpoints & string)[];
  defaultScopes: string[];
  /** Whether the provider supports PKCE (S256). */
  pkce: boolean;
  refresh: RefreshPolicy;
  /**
   * The URL a person is sent to. `refreshTokenHeld`: tether already holds a refresh token for this
   * end user at this integration (Google asks for consent only when it does not, since it issues a
   * refresh token only on consent).
   */
  authorizationUrl(
    ctx: IntegrationContext,
    params: { state: string; codeChallenge?: string; redirectUri: string; refreshTokenHeld?: boolean },
  ): URL;
  exchangeCode(
    ctx: IntegrationContext,
    rt: ProviderRuntime,
    params: { code: string; codeVerifier?: string; redirectUri: string },
  ): Promise<TokenSet>;
  /** Post-connect: account id, tenants, base URI, long-lived exchange. */
  afterConnect(ctx: IntegrationContext, rt: ProviderRuntime, tokens: TokenSet): Promise<ConnectedAccount>;
  /**
   * Uses the refresh token (or, for Instagram, the long-lived token itself) for a new access
   * token. Throws ProviderError classified by kind. (Named apart from the `refresh` policy: an
   * interface cannot have a property and a method both called `refresh`.)
   */
  refreshAccessToken(
    ctx: IntegrationContext,
    rt: ProviderRuntime,
    connection: ConnectionContext,
  ): Promise<TokenSet>;
  /** Best effort; absent where the provider has no revocation endpoint. */
  revoke?(ctx: IntegrationContext, rt: ProviderRuntime, connection: ConnectionContext): Promise<void>;
  /** The provider's syncs (src/syncs/definition.ts); none when absent. */
  // biome-ignore lint/suspicious/noExplicitAny: each sync has its own checkpoint type.
  syncs?: readonly SyncDefinition<any>[];
  /** The provider's call limits, kept by its syncs' calls (src/syncs/call-limits.ts). */
  limits?: ProviderLimits;
  proxy: {
    /**
     * Base URL of proxied calls for this connection (DocuSign: its base_uri + /restapi); proxied
     * paths must stay under it. undefined: the integration has no API to proxy to.
     */
    baseUrl(ctx: IntegrationContext, connection: ConnectionContext): string | undefined;
    /** Headers added to every proxied call besides Authorization (xero-tenant-id, Notion-Version). */
    headers(
      ctx: IntegrationContext,
      connection: ConnectionContext,
      requested: Record<string, string>,
    ): Record<string, string>;
    /** Whether an API answer means "this access token is no good" (401; TikTok access_token_invalid). */
    isAuthFailure(status: number, body: string): boolean;
  };
}
