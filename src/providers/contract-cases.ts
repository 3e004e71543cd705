import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import { expect } from 'vitest';
import { DAY, HOUR } from '../sandbox/clock.ts';
import {
  type SandboxControl,
  type SandboxProvider,
  sandboxClientCredentials,
  sandboxEndpoints,
  simulatorOf,
  slackTokenRotation,
} from '../sandbox/index.ts';
import type { SeededAccounts } from '../sandbox/seed.ts';
import { getProvider } from './index.ts';
import {
  type ConnectedAccount,
  type ConnectionContext,
  type FailureKind,
  type IntegrationContext,
  type OAuthProviderName,
  ProviderError,
  type ProviderRuntime,
} from './provider.ts';

// What the shared provider contract suite (contract.test.ts) knows about each provider: which
// sandbox simulates it, the endpoint keys to break, what its refresh does with the refresh
// token, and how a grant is revoked when the provider has no revocation endpoint.

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

export interface ContractCase {
  provider: OAuthProviderName;
  /** The simulator (src/sandbox/providers/), from its `simulates`. */
  sandbox: SandboxProvider;
  /** The sandbox endpoint key refreshes go to (faults are injected there). */
  refreshKey: string;
  clientIdParam: string;
  /** Scopes the authorize URL must name. */
  scopes: string[];
  /** What a refresh answers in place of the refresh token. */
  refreshToken: 'rotated' | 'kept' | 'none';
  /** Provider settings the suite needs (Slack: token rotation on, so there is something to refresh). */
  setup?(control: SandboxControl): Promise<unknown>;
  /** Before each refresh (Instagram: the token must be 24 h old). */
  beforeRefresh?(control: SandboxControl): Promise<unknown>;
  accountId(accounts: SeededAccounts): string;
  metadata?(accounts: SeededAccounts): Record<string, unknown>;
  /** Set when the provider has no revocation endpoint: why, and how the suite revokes the grant instead. */
  noRevoke?: {
    reason: string;
    revokeAtSandbox(control: SandboxControl, connection: ConnectionContext): Promise<unknown>;
  };
}

/** A case as written below: the provider is its key. */
type CaseOf = Omit<ContractCase, 'provider' | 'sandbox'>;

const google = (scope: string): CaseOf => ({
  refreshKey: 'google.token',
  clientIdParam: 'client_id',
  scopes: ['openid', scope],
  refreshToken: 'kept',
  accountId: (a) => a.google[0]!.sub,
  metadata: (a) => ({ email: a.google[0]!.email }),
});
const googleScope = (name: string) => `https://www.googleapis.com/auth/${name}`;

/** Keyed by provider name: a provider without its case does not compile. */
const CASES: Record<OAuthProviderName, CaseOf> = {
  google: google('profile'),
  gmail: google(googleScope('gmail.readonly')),
  'google-calendar': google(googleScope('calendar.readonly')),
  'google-drive': google(googleScope('drive.readonly')),
  youtube: google(googleScope('youtube.readonly')),
  xero: {
    refreshKey: 'xero.token',
    clientIdParam: 'client_id',
    scopes: ['offline_access', 'accounting.transactions'],
    refreshToken: 'rotated',
    accountId: (a) => a.xero[0]!.tenants[0]!.tenantId,
    metadata: (a) => ({
      tenantId: a.xero[0]!.tenants[0]!.tenantId,
      tenants: a.xero[0]!.tenants.map((t) => ({
        tenantId: t.tenantId,
        tenantName: t.tenantName,
        tenantType: 'ORGANISATION',
      })),
    }),
  },
  docusign: {
    refreshKey: 'docusign.token',
    clientIdParam: 'client_id',
    scopes: ['signature'],
    refreshToken: 'rotated',
    accountId: (a) => a.docusign[0]!.sub,
    metadata: (a) => ({ accountId: a.docusign[0]!.accounts.find((x) => x.isDefault)!.accountId }),
    noRevoke: {
      reason: 'DocuSign has no revocation endpoint: the suite revokes the grant in the sandbox',
      revokeAtSandbox: (control, c) => control.revoke({ refreshToken: c.refreshToken! }),
    },
  },
  notion: {
    refreshKey: 'notion.token',
    clientIdParam: 'client_id',
    scopes: [],
    refreshToken: 'rotated',
    accountId: (a) => `${a.notion[0]!.workspace.id}:${a.notion[0]!.id}`,
    metadata: (a) => ({ workspaceId: a.notion[0]!.workspace.id, workspaceName: a.notion[0]!.workspace.name }),
  },
  instagram: {
    refreshKey: 'instagram.refresh',
    clientIdParam: 'client_id',
    scopes: ['instagram_business_basic'],
    refreshToken: 'none',
    beforeRefresh: (control) => control.advanceClock(25 * HOUR),
    accountId: (a) => a.instagram[0]!.userId,
    metadata: (a) => ({ userId: a.instagram[0]!.userId }),
    noRevoke: {
      reason: 'Instagram has no revocation endpoint: the suite revokes the grant in the sandbox',
      revokeAtSandbox: (control, c) => control.revoke({ accessToken: c.accessToken }),
    },
  },
  tiktok: {
    refreshKey: 'tiktok.token',
    clientIdParam: 'client_key',
    scopes: ['user.info.basic'],
    refreshToken: 'rotated',
    accountId: (a) => a.tiktok[0]!.openId,
  },
  slack: {
    refreshKey: 'slack.oauth.v2.access',
    clientIdParam: 'client_id',
    scopes: ['incoming-webhook'],
    refreshToken: 'rotated',
    setup: (control) => control.configure('slack', slackTokenRotation(true)),
    accountId: (a) => `${a.slack.team.id}:${a.slack.channels[0]!.id}`,
    metadata: (a) => ({ teamId: a.slack.team.id }),
  },
  oauth2: {
    refreshKey: 'oauth2.token',
    clientIdParam: 'client_id',
    scopes: ['read'],
    refreshToken: 'rotated',
    accountId: (a) => a.oauth2[0]!.sub,
  },
};

export const CONTRACT_CASES: ContractCase[] = Object.entries(CASES).map(([provider, c]) => ({
  provider: provider as OAuthProviderName,
  sandbox: simulatorOf(provider as OAuthProviderName),
  ...c,
}));

/** The integration as the connect flow would hand it over, pointed at the sandbox. */
export function sandboxIntegration(
  c: Pick<ContractCase, 'provider' | 'sandbox'>,
  sandboxUrl: string,
  overrides: Partial<IntegrationContext> = {},
): IntegrationContext {
  const definition = getProvider(c.provider);
  const endpoints = sandboxEndpoints(sandboxUrl)[c.sandbox];
  return {
    key: `${c.provider}-test`,
    provider: c.provider,
    ...sandboxClientCredentials(c.sandbox),
    scopes: c.provider === 'oauth2' ? ['read'] : [],
    endpoints: { ...definition.defaultEndpoints, ...endpoints },
    options: {},
    ...overrides,
  };
}

export interface Connected {
  account: ConnectedAccount;
  connection: ConnectionContext;
  authorizeUrl: URL;
  /** Every secret seen so far: no error message may contain any of them. */
  secrets: string[];
}

/** A fresh state and S256 PKCE pair, made as the connect flow makes them (connect-flow.ts). */
export async function oauthStart(): Promise<{ state: string; codeVerifier: string; codeChallenge: string }> {
  const codeVerifier = generateRandomCodeVerifier();
  return {
    state: generateRandomState(),
    codeVerifier,
    codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
  };
}

/** The connect flow, as tether runs it: authorize URL → consent → code exchange → afterConnect. */
export async function connectThroughSandbox(
  ctx: IntegrationContext,
  rt: ProviderRuntime,
  control: SandboxControl,
  options: { refreshTokenHeld?: boolean } = {},
): Promise<Connected> {
  const definition = getProvider(ctx.provider);
  const { state, ...pkce } = await oauthStart();
  const authorizeUrl = definition.authorizationUrl(ctx, {
    state,
    codeChallenge: definition.pkce ? pkce.codeChallenge : undefined,
    redirectUri: REDIRECT_URI,
    ...options,
  });
  const consent = await control.authorize(authorizeUrl.href);
  expect(consent.state).toBe(state);
  expect(consent.code).toBeTruthy();
  const tokens = await definition.exchangeCode(ctx, rt, {
    code: consent.code!,
    codeVerifier: definition.pkce ? pkce.codeVerifier : undefined,
    redirectUri: REDIRECT_URI,
  });
  const account = await definition.afterConnect(ctx, rt, tokens);
  const secrets = [
    ctx.clientSecret,
    consent.code!,
    pkce.codeVerifier,
    tokens.accessToken,
    account.tokens.accessToken,
  ];
  if (account.tokens.refreshToken) secrets.push(account.tokens.refreshToken);
  return { account, connection: connectionOf(account, rt), authorizeUrl, secrets };
}

export function connectionOf(account: ConnectedAccount, rt: ProviderRuntime): ConnectionContext {
  const now = rt.now();
  const { expiresIn } = account.tokens;
  return {
    accessToken: account.tokens.accessToken,
    refreshToken: account.tokens.refreshToken ?? null,
    issuedAt: now,
    expiresAt: expiresIn === undefined ? null : new Date(now.getTime() + expiresIn * 1000),
    metadata: account.metadata,
  };
}

/** Awaits a failure and checks its kind, and that its message holds none of the secrets. */
export async function expectFailure(
  promise: Promise<unknown>,
  kind: FailureKind,
  secrets: string[],
): Promise<ProviderError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${kind} ProviderError, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const failure = error as ProviderError;
  expect({ kind: failure.kind, message: failure.message }).toMatchObject({ kind });
  for (const secret of secrets) expect(failure.message).not.toContain(secret);
  return failure;
}

export { DAY, HOUR };
