import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionView } from '../src/connections/connection-view.ts';
import {
  type Credentials,
  openCredentials,
  openPreviousRefreshToken,
} from '../src/connections/credentials.ts';
import { connections } from '../src/db/schema.ts';
import type { OAuthProviderName } from '../src/providers/provider.ts';
import { type SandboxControl, type SandboxProvider, slackTokenRotation } from '../src/sandbox/index.ts';
import type { SeededAccounts } from '../src/sandbox/seed.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// Every provider through a whole tether's HTTP API against its sandbox simulator: connect
// (connect session → /connect → consent → /oauth/callback), the facts the provider promises after
// connecting, one proxied call to its simplest authenticated resource, a forced refresh with the
// provider's rotation behaviour, and a grant revoked at the provider → 409
// reauthorization_required naming it. The provider-level contract (no tether) is
// src/providers/contract.test.ts; this suite checks that tether stores, uses and reports what
// each provider module gives it. Each provider gets its own sandbox, so Instagram's clock jumps
// and Google's "refresh token on first consent only" touch nobody else.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface Connected {
  view: ConnectionView;
  credentials: Credentials;
  accounts: SeededAccounts;
  sandboxUrl: string;
}

interface ProviderCase {
  provider: OAuthProviderName;
  sandbox: SandboxProvider;
  /** As tether names the provider to people. */
  displayName: string;
  scopes?: string[];
  /** The access token's lifetime the provider announces (expires_in), which tether must schedule from. */
  accessTtlMs: number;
  setup?(control: SandboxControl): Promise<unknown>;
  accountId(accounts: SeededAccounts): string;
  /** What the provider promises right after connecting, beyond the account id. */
  connected(c: Connected): void | Promise<void>;
  /** The simplest authenticated resource, as a path under the connection's proxy base. */
  proxyPath(c: Connected): string;
  proxied(body: unknown, c: Connected): void;
  /** What a refresh does with the refresh token. */
  refreshToken: 'kept' | 'rotated' | 'none';
  /** Before each forced refresh (Instagram: the token must be 24 h old). */
  beforeRefresh?(control: SandboxControl): Promise<unknown>;
  /** After a refresh: what must still work. */
  afterRefresh?(id: string): Promise<void>;
  /** Set when the provider has no revocation endpoint: DELETE can only forget the grant. */
  noRevocation?: string;
}

let t: TestTether;
beforeAll(async () => {
  t = await startTestTether();
});
afterAll(() => t?.close());

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: t.auth, ...(payload ? { payload } : {}) });
const row = async (id: string) =>
  (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
const view = async (id: string): Promise<ConnectionView> =>
  (await inject('GET', `/v1/connections/${id}`)).json();
const postToSlack = (id: string, text: string) =>
  inject('POST', `/v1/connections/${id}/slack/messages`, { text });

const google = (provider: OAuthProviderName, displayName: string): ProviderCase => ({
  provider,
  sandbox: 'google',
  displayName,
  accessTtlMs: 3599_000,
  accountId: (a) => a.google[0]!.sub,
  connected({ view, credentials, accounts }) {
    expect(view.metadata).toMatchObject({ email: accounts.google[0]!.email });
    expect(credentials.refreshToken, 'Google gives a refresh token on the first consent').toEqual(
      expect.any(String),
    );
  },
  proxyPath: () => 'gmail/v1/users/me/profile',
  proxied: (body, { accounts }) => expect(body).toMatchObject({ emailAddress: accounts.google[0]!.email }),
  refreshToken: 'kept',
});

const CASES: ProviderCase[] = [
  google('google', 'Google'),
  google('gmail', 'Gmail'),
  google('google-calendar', 'Google Calendar'),
  google('google-drive', 'Google Drive'),
  google('youtube', 'YouTube'),
  {
    provider: 'xero',
    sandbox: 'xero',
    displayName: 'Xero',
    accessTtlMs: 30 * MINUTE,
    accountId: (a) => a.xero[0]!.tenants[0]!.tenantId,
    connected({ view, accounts }) {
      const tenants = accounts.xero[0]!.tenants;
      expect(view.metadata).toMatchObject({
        tenantId: tenants[0]!.tenantId,
        tenants: tenants.map((x) => ({
          tenantId: x.tenantId,
          tenantName: x.tenantName,
          tenantType: 'ORGANISATION',
        })),
      });
    },
    proxyPath: () => 'api.xro/2.0/Organisation',
    proxied: (body, { accounts }) =>
      expect(JSON.stringify(body)).toContain(accounts.xero[0]!.tenants[0]!.tenantName),
    refreshToken: 'rotated',
  },
  {
    provider: 'docusign',
    sandbox: 'docusign',
    displayName: 'DocuSign',
    accessTtlMs: 8 * HOUR,
    accountId: (a) => a.docusign[0]!.sub,
    connected({ view, accounts, sandboxUrl }) {
      const account = accounts.docusign[0]!.accounts.find((a) => a.isDefault)!;
      expect(view.metadata).toMatchObject({
        accountId: account.accountId,
        accountName: account.accountName,
        baseUri: `${sandboxUrl}/docusign`,
      });
    },
    proxyPath: ({ view }) => `v2.1/accounts/${view.metadata.accountId}`,
    proxied: (body, { view }) => expect(body).toMatchObject({ accountIdGuid: view.metadata.accountId }),
    refreshToken: 'rotated',
    noRevocation: 'DocuSign has no revocation endpoint',
  },
  {
    provider: 'notion',
    sandbox: 'notion',
    displayName: 'Notion',
    accessTtlMs: HOUR,
    accountId: (a) => `${a.notion[0]!.workspace.id}:${a.notion[0]!.id}`,
    connected({ view, accounts }) {
      const { workspace } = accounts.notion[0]!;
      expect(view.metadata).toMatchObject({
        workspaceId: workspace.id,
        workspaceName: workspace.name,
        botId: expect.any(String),
      });
    },
    proxyPath: () => 'v1/users',
    proxied: (body, { accounts }) =>
      expect(body).toMatchObject({
        object: 'list',
        results: expect.arrayContaining([expect.objectContaining({ id: accounts.notion[0]!.id })]),
      }),
    refreshToken: 'rotated',
  },
  {
    provider: 'instagram',
    sandbox: 'instagram',
    displayName: 'Instagram',
    // The long-lived token tether swapped in, not the 1-hour short-lived one.
    accessTtlMs: 60 * DAY,
    accountId: (a) => a.instagram[0]!.userId,
    connected({ view, credentials, accounts }) {
      expect(view.metadata).toMatchObject({ userId: accounts.instagram[0]!.userId });
      expect(credentials.refreshToken, 'Instagram has no refresh tokens').toBeNull();
    },
    proxyPath: () => 'me?fields=user_id,username',
    proxied: (body, { accounts }) =>
      expect(body).toEqual({
        user_id: accounts.instagram[0]!.userId,
        username: accounts.instagram[0]!.username,
      }),
    refreshToken: 'none',
    beforeRefresh: (control) => control.advanceClock(25 * HOUR),
    noRevocation: 'Instagram has no revocation endpoint',
  },
  {
    provider: 'tiktok',
    sandbox: 'tiktok',
    displayName: 'TikTok',
    accessTtlMs: DAY,
    accountId: (a) => a.tiktok[0]!.openId,
    connected: ({ view, accounts }) =>
      expect(view.metadata).toMatchObject({ openId: accounts.tiktok[0]!.openId }),
    proxyPath: () => 'v2/user/info/?fields=open_id',
    proxied: (body, { accounts }) =>
      expect(body).toMatchObject({ data: { user: { open_id: accounts.tiktok[0]!.openId } } }),
    refreshToken: 'rotated',
  },
  {
    provider: 'slack',
    sandbox: 'slack',
    displayName: 'Slack',
    accessTtlMs: 12 * HOUR,
    scopes: ['incoming-webhook'],
    // Without token rotation Slack tokens never expire and there is nothing to refresh.
    setup: (control) => control.configure('slack', slackTokenRotation(true)),
    accountId: (a) => `${a.slack.team.id}:${a.slack.channels[0]!.id}`,
    async connected({ view, credentials, accounts }) {
      expect(view.metadata).toMatchObject({
        teamId: accounts.slack.team.id,
        incomingWebhook: { channelId: accounts.slack.channels[0]!.id },
      });
      expect(credentials.secretExtras?.incomingWebhookUrl).toEqual(expect.any(String));
      const posted = await postToSlack(view.id, 'connected');
      expect(posted.statusCode, posted.body).toBe(200);
    },
    proxyPath: () => 'auth.test',
    proxied: (body, { accounts }) =>
      expect(body).toMatchObject({ ok: true, team_id: accounts.slack.team.id }),
    refreshToken: 'rotated',
    async afterRefresh(id) {
      expect(openCredentials(t.sealer, await row(id))!.secretExtras?.incomingWebhookUrl).toEqual(
        expect.any(String),
      );
      const posted = await postToSlack(id, 'refreshed');
      expect(posted.statusCode, posted.body).toBe(200);
    },
  },
  {
    provider: 'oauth2',
    sandbox: 'oauth2',
    displayName: 'OAuth 2.0',
    accessTtlMs: HOUR,
    scopes: ['read'],
    accountId: (a) => a.oauth2[0]!.sub,
    connected: ({ view, accounts }) =>
      expect(view.metadata).toMatchObject({ email: accounts.oauth2[0]!.email }),
    proxyPath: () => 'me',
    proxied: (body, { accounts }) => expect(body).toMatchObject({ id: accounts.oauth2[0]!.sub }),
    refreshToken: 'rotated',
  },
];

/** An ISO time about `fromNowMs` from now (within a few minutes). */
function expectAbout(iso: string | null, fromNowMs: number, why: string): void {
  expect(iso, why).not.toBeNull();
  expect(Math.abs(Date.parse(iso!) - (Date.now() + fromNowMs)), why).toBeLessThan(5 * 60_000);
}

describe.each(CASES.map((c) => [c.provider, c] as const))('%s through tether', (_name, c: ProviderCase) => {
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let connected: Connected;
  let id: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    await c.setup?.(sandbox.control);
    await createSandboxIntegration(t, sandbox.server.url, {
      key: c.provider,
      provider: c.provider,
      sandboxProvider: c.sandbox,
      ...(c.scopes ? { scopes: c.scopes } : {}),
    });
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: c.provider,
      endUserId: `user-of-${c.provider}`,
    });
    expect(result.status, result.body).toBe(200);
    id = result.connectionId!;
    connected = {
      view: await view(id),
      credentials: openCredentials(t.sealer, await row(id))!,
      accounts: await sandbox.control.accounts(),
      sandboxUrl: sandbox.server.url,
    };
  });
  afterAll(() => sandbox?.close());

  it(`connects the account and keeps what ${c.displayName} promises`, async () => {
    expect(connected.view).toMatchObject({
      status: 'connected',
      provider: c.provider,
      providerAccountId: c.accountId(connected.accounts),
    });
    expectAbout(
      connected.view.expiresAt,
      c.accessTtlMs,
      'expiresAt follows the expires_in the provider sent',
    );
    await c.connected(connected);
  });

  it('proxies a call to its API as the connection', async () => {
    const res = await inject('GET', `/v1/proxy/${id}/${c.proxyPath(connected)}`);
    expect(res.statusCode, res.body).toBe(200);
    c.proxied(res.json(), connected);
  });

  it(`refreshes on demand with a new access token, and its refresh token ${c.refreshToken === 'rotated' ? 'replaced by the rotated one' : c.refreshToken === 'kept' ? 'kept' : 'still absent'}`, async () => {
    // Twice: the second refresh works only with what the first one stored.
    for (let round = 0; round < 2; round++) {
      const before = openCredentials(t.sealer, await row(id))!;
      await c.beforeRefresh?.(sandbox.control);
      const res = await inject('POST', `/v1/connections/${id}/refresh`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('connected');
      const after = await row(id);
      const credentials = openCredentials(t.sealer, after)!;
      expect(credentials.accessToken).not.toBe(before.accessToken);
      if (c.refreshToken === 'kept') {
        expect(credentials.refreshToken).toBe(before.refreshToken);
      } else if (c.refreshToken === 'rotated') {
        expect(credentials.refreshToken).toEqual(expect.any(String));
        expect(credentials.refreshToken).not.toBe(before.refreshToken);
        expect(openPreviousRefreshToken(t.sealer, after)).toBe(before.refreshToken);
      } else {
        expect(credentials.refreshToken).toBeNull();
      }
      const token = await inject('GET', `/v1/connections/${id}/access-token`);
      expect(token.json().accessToken).toBe(credentials.accessToken);
    }
    const proxied = await inject('GET', `/v1/proxy/${id}/${c.proxyPath(connected)}`);
    expect(proxied.statusCode, proxied.body).toBe(200);
    await c.afterRefresh?.(id);
  });

  it(`answers 409 reauthorization_required naming ${c.displayName} once the grant is revoked there`, async () => {
    const { accessToken } = openCredentials(t.sealer, await row(id))!;
    const { revoked } = await sandbox.control.revoke({ accessToken });
    expect(revoked).toHaveLength(1);

    const res = await inject('POST', `/v1/connections/${id}/refresh`);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('reauthorization_required');
    expect(res.json().error.message).toContain(c.displayName);
    expect(await view(id)).toMatchObject({ status: 'reauthorization_required' });
    expect((await row(id)).credentialsSealed).toBeNull();
    const proxied = await inject('GET', `/v1/proxy/${id}/${c.proxyPath(connected)}`);
    expect(proxied.statusCode).toBe(409);
  });

  it(`reconnects the same connection, and on DELETE ${c.noRevocation ? 'says it could not revoke' : `revokes the grant at ${c.displayName}`}`, async () => {
    const again = await connectThroughSandbox(t, sandbox.control, {
      integration: c.provider,
      endUserId: `user-of-${c.provider}`,
    });
    expect(again.status, again.body).toBe(200);
    expect(again.connectionId).toBe(id);
    expect(await view(id)).toMatchObject({ status: 'connected', lastError: null });
    const { accessToken, refreshToken } = openCredentials(t.sealer, await row(id))!;
    if (c.refreshToken !== 'none') expect(refreshToken).toEqual(expect.any(String));

    const res = await inject('DELETE', `/v1/connections/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revokedAtProvider: !c.noRevocation });
    expect((await row(id)).credentialsSealed).toBeNull();
    const grant = (await sandbox.control.grants()).find((g) =>
      g.accessTokens.some((a) => a.value === accessToken),
    );
    expect(grant, 'the sandbox knows the grant').toBeDefined();
    if (c.noRevocation) expect(grant!.revokedAt, c.noRevocation).toBeNull();
    else expect(grant!.revokedAt, `${c.displayName} revoked the grant`).not.toBeNull();
  });
});

describe("Instagram's 24-hour rule through tether", () => {
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    await createSandboxIntegration(t, sandbox.server.url, { key: 'instagram-young', provider: 'instagram' });
  });
  afterAll(() => sandbox?.close());

  it('keeps a young token connected and usable when Instagram refuses to refresh it, and refreshes it after 24 hours', async () => {
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: 'instagram-young',
      endUserId: 'instagram-young',
    });
    expect(result.status, result.body).toBe(200);
    const id = result.connectionId!;
    const first = openCredentials(t.sealer, await row(id))!;
    await sandbox.control.resetCalls();

    const early = await inject('POST', `/v1/connections/${id}/refresh`);
    expect(await sandbox.control.callCount('instagram.refresh')).toBe(1);
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json().error.code).toBe('refresh_too_early');
    expect(await view(id)).toMatchObject({ status: 'connected', lastError: null, nextAttemptAt: null });
    expect(openCredentials(t.sealer, await row(id))!.accessToken).toBe(first.accessToken);
    const usable = await inject('GET', `/v1/proxy/${id}/me?fields=user_id`);
    expect(usable.statusCode, usable.body).toBe(200);

    await sandbox.control.advanceClock(25 * HOUR);
    const later = await inject('POST', `/v1/connections/${id}/refresh`);
    expect(later.statusCode, later.body).toBe(200);
    expect(later.json()).toMatchObject({ status: 'connected' });
    expectAbout(
      later.json().expiresAt,
      60 * DAY,
      'a refreshed long-lived token lasts 60 days from the refresh',
    );
    expect(openCredentials(t.sealer, await row(id))!.accessToken).not.toBe(first.accessToken);
  });
});
