import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINUTE } from '../sandbox/clock.ts';
import {
  NOTION_LEGACY,
  SandboxControl,
  type SandboxServer,
  slackTokenRotation,
  startSandboxServer,
} from '../sandbox/index.ts';
import type { SeededAccounts } from '../sandbox/seed.ts';
import {
  type ContractCase,
  connectThroughSandbox,
  DAY,
  expectFailure,
  HOUR,
  REDIRECT_URI,
  sandboxIntegration,
} from './contract-cases.ts';
import { isAllowedBaseUri } from './docusign.ts';
import { getProvider } from './index.ts';
import type { OAuthProviderName } from './provider.ts';
import { makeProviderRuntime } from './runtime.ts';

// What is special about each provider, against its sandbox simulator.

let sandbox: SandboxServer;
let control: SandboxControl;
let accounts: SeededAccounts;
const rt = makeProviderRuntime({ timeoutMs: 2_000 });

beforeAll(async () => {
  sandbox = await startSandboxServer({ seed: 'provider-quirks' });
  control = new SandboxControl(sandbox.url);
  accounts = await control.accounts();
});
afterAll(() => sandbox.close());
beforeEach(() => control.reset());

const setUp = (provider: OAuthProviderName, sandboxName: ContractCase['sandbox']) => {
  const ctx = sandboxIntegration({ provider, sandbox: sandboxName }, sandbox.url);
  return {
    ctx,
    definition: getProvider(provider),
    connect: (options?: { refreshTokenHeld?: boolean }) => connectThroughSandbox(ctx, rt, control, options),
  };
};

describe('google', () => {
  it('warns, naming extraAuthorizeParams, when a second consent brings no refresh token', async () => {
    const { connect } = setUp('gmail', 'google');
    const first = await connect();
    expect(first.account.warnings).toEqual([]);
    const second = await connect({ refreshTokenHeld: true });
    expect(second.account.tokens.refreshToken).toBeUndefined();
    expect(second.account.warnings[0]).toMatch(/no refresh token.*extraAuthorizeParams/);
  });

  it('asks for consent when tether holds no refresh token, so Google issues one again', async () => {
    const { ctx, definition, connect } = setUp('gmail', 'google');
    await connect();
    const again = await connect({ refreshTokenHeld: false });
    expect(again.authorizeUrl.searchParams.get('prompt')).toBe('consent');
    expect(again.account.tokens.refreshToken).toEqual(expect.any(String));
    const held = definition.authorizationUrl(ctx, {
      state: 's',
      redirectUri: REDIRECT_URI,
      refreshTokenHeld: true,
    });
    expect(held.searchParams.get('prompt')).toBeNull();
  });

  it('lets the integration’s extraAuthorizeParams override the prompt', () => {
    const { ctx, definition } = setUp('google', 'google');
    const custom = {
      ...ctx,
      options: { ...ctx.options, extraAuthorizeParams: { prompt: 'select_account' } },
    };
    const url = definition.authorizationUrl(custom, { state: 's', redirectUri: REDIRECT_URI });
    expect(url.searchParams.get('prompt')).toBe('select_account');
  });

  it('asks for offline access and granted scopes', async () => {
    const { ctx, definition } = setUp('google-calendar', 'google');
    const url = definition.authorizationUrl(ctx, { state: 's', redirectUri: REDIRECT_URI });
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('include_granted_scopes')).toBe('true');
  });

  it.each([
    ['google.invalid_rapt', 'invalid_rapt'],
    ['google.admin_policy_enforced', 'admin_policy_enforced'],
    ['google.deleted_client', 'deleted_client'],
  ])('calls %s permanent', async (preset, code) => {
    const { ctx, definition, connect } = setUp('google', 'google');
    const { connection, secrets } = await connect();
    await control.preset(preset);
    const error = await expectFailure(
      definition.refreshAccessToken(ctx, rt, connection),
      'permanent',
      secrets,
    );
    expect(error.providerCode).toBe(code);
  });

  it('calls an HTML page where JSON should be a configuration error', async () => {
    const { ctx, definition, connect } = setUp('google', 'google');
    const { connection, secrets } = await connect();
    await control.failNext('google.token', 200, {
      body: '<html>captive portal</html>',
      headers: { 'content-type': 'text/html' },
    });
    const error = await expectFailure(
      definition.refreshAccessToken(ctx, rt, connection),
      'configuration',
      secrets,
    );
    expect(error.providerCode).toBe('invalid_response');
  });
});

describe('xero', () => {
  it('accepts the previous refresh token within the 30-minute grace, and not after', async () => {
    const { ctx, definition, connect } = setUp('xero', 'xero');
    const { connection, secrets } = await connect();
    const rotated = await definition.refreshAccessToken(ctx, rt, connection);
    secrets.push(rotated.accessToken, rotated.refreshToken!);
    await control.advanceClock(29 * MINUTE);
    const retried = await definition.refreshAccessToken(ctx, rt, connection);
    secrets.push(retried.accessToken, retried.refreshToken!);
    await control.advanceClock(2 * MINUTE);
    await expectFailure(definition.refreshAccessToken(ctx, rt, connection), 'permanent', secrets);
    expect(definition.refresh.previousTokenGraceSeconds).toBe(1800);
  });

  it('sends xero-tenant-id from the request, else the default organisation', async () => {
    const { ctx, definition, connect } = setUp('xero', 'xero');
    const { connection } = await connect();
    const tenants = accounts.xero[0]!.tenants;
    expect(definition.proxy.headers(ctx, connection, {})).toEqual({ 'xero-tenant-id': tenants[0]!.tenantId });
    expect(definition.proxy.headers(ctx, connection, { 'Xero-Tenant-Id': tenants[1]!.tenantId })).toEqual({
      'xero-tenant-id': tenants[1]!.tenantId,
    });
    const organisation = await rt.fetch(
      `${definition.proxy.baseUrl(ctx, connection)}/api.xro/2.0/Organisation`,
      {
        headers: {
          authorization: `Bearer ${connection.accessToken}`,
          ...definition.proxy.headers(ctx, connection, {}),
        },
      },
    );
    expect(organisation.status).toBe(200);
  });
});

describe('docusign', () => {
  it('proxies to the default account base URI plus /restapi', async () => {
    const { ctx, definition, connect } = setUp('docusign', 'docusign');
    const { connection, account } = await connect();
    const base = definition.proxy.baseUrl(ctx, connection);
    expect(base).toMatch(/\/docusign\/restapi$/);
    const answer = await rt.fetch(`${base}/v2.1/accounts/${account.metadata.accountId}`, {
      headers: { authorization: `Bearer ${connection.accessToken}` },
    });
    expect(answer.status).toBe(200);
  });

  const userinfoNaming = (baseUri: string) => ({
    sub: 'evil-user',
    accounts: [{ account_id: 'a1', is_default: true, account_name: 'Acme', base_uri: baseUri }],
  });

  it('refuses an account base_uri on a host that is not DocuSign’s', async () => {
    const { connect } = setUp('docusign', 'docusign');
    for (const baseUri of [
      'https://evil.example',
      'https://docusign.net.evil.example',
      'https://evildocusign.net',
      'http://na3.docusign.net',
      'https://user@na3.docusign.net',
    ]) {
      await control.failNext('docusign.userinfo', 200, { body: userinfoNaming(baseUri) });
      const failure = await expectFailure(connect(), 'configuration', []);
      expect(failure.providerCode, baseUri).toBe('invalid_base_uri');
    }
  });

  it('accepts DocuSign hosts and the account server the integration is configured with', async () => {
    const { ctx } = setUp('docusign', 'docusign');
    for (const baseUri of [
      'https://na3.docusign.net',
      'https://demo.docusign.net',
      'https://eu.docusign.com',
    ]) {
      expect(isAllowedBaseUri(ctx, baseUri), baseUri).toBe(true);
    }
    expect(isAllowedBaseUri(ctx, `${sandbox.url}/docusign`)).toBe(true);
    const production = {
      ...ctx,
      endpoints: { ...ctx.endpoints, userinfoUrl: 'https://account.docusign.com/oauth/userinfo' },
    };
    expect(isAllowedBaseUri(production, `${sandbox.url}/docusign`)).toBe(false);
  });

  it('refuses to proxy for a connection that stored a foreign base_uri before the check', async () => {
    const { ctx, definition, connect } = setUp('docusign', 'docusign');
    const { connection } = await connect();
    const stored = { ...connection, metadata: { ...connection.metadata, baseUri: 'https://evil.example' } };
    expect(() => definition.proxy.baseUrl(ctx, stored)).toThrow(/not a DocuSign host/);
  });
});

describe('notion', () => {
  it('speaks JSON to the token endpoint and adds Notion-Version to proxied calls', async () => {
    const { ctx, definition, connect } = setUp('notion', 'notion');
    const { connection } = await connect();
    expect(definition.proxy.headers(ctx, connection, {})).toEqual({ 'Notion-Version': '2022-06-28' });
    expect(definition.proxy.headers(ctx, connection, { 'notion-version': '2025-09-03' })).toEqual({
      'Notion-Version': '2025-09-03',
    });
    const me = await rt.fetch(`${definition.proxy.baseUrl(ctx, connection)}/v1/users/me`, {
      headers: {
        authorization: `Bearer ${connection.accessToken}`,
        ...definition.proxy.headers(ctx, connection, {}),
      },
    });
    expect(me.status).toBe(200);
    expect(definition.proxy.isAuthFailure(401, '{"object":"error","code":"unauthorized"}')).toBe(true);
  });

  it('keeps a legacy token that never expires and has no refresh token', async () => {
    await control.configure('notion', NOTION_LEGACY);
    const { connect } = setUp('notion', 'notion');
    const { account, connection } = await connect();
    expect(account.tokens.expiresIn).toBeUndefined();
    expect(account.tokens.refreshToken).toBeNull();
    expect(connection.expiresAt).toBeNull();
  });
});

describe('instagram', () => {
  it('swaps in the long-lived token, refuses a refresh before 24 h, refreshes after, and is permanent once expired', async () => {
    const { ctx, definition, connect } = setUp('instagram', 'instagram');
    const { account, connection, secrets } = await connect();
    expect(account.tokens.expiresIn).toBeGreaterThan((59 * DAY) / 1000);
    expect(account.tokens.refreshToken).toBeNull();

    await control.advanceClock(23 * HOUR);
    const early = await expectFailure(definition.refreshAccessToken(ctx, rt, connection), 'refused', secrets);
    expect(early.providerCode).toBe('100');

    await control.advanceClock(2 * HOUR);
    const renewed = await definition.refreshAccessToken(ctx, rt, connection);
    expect(renewed.expiresIn).toBeGreaterThan((59 * DAY) / 1000);
    secrets.push(renewed.accessToken);

    await control.advanceClock(61 * DAY);
    const expired = await expectFailure(
      definition.refreshAccessToken(ctx, rt, { ...connection, accessToken: renewed.accessToken }),
      'permanent',
      secrets,
    );
    expect(expired.providerCode).toBe('190');
  });

  it('calls a wrong client secret at the long-lived exchange a configuration error', async () => {
    const { ctx, definition } = setUp('instagram', 'instagram');
    const url = definition.authorizationUrl(ctx, { state: 's', redirectUri: REDIRECT_URI });
    const consent = await control.authorize(url.href);
    const tokens = await definition.exchangeCode(ctx, rt, { code: consent.code!, redirectUri: REDIRECT_URI });
    const wrong = { ...ctx, clientSecret: 'not-the-instagram-secret' };
    await expectFailure(definition.afterConnect(wrong, rt, tokens), 'configuration', [
      wrong.clientSecret,
      tokens.accessToken,
    ]);
  });
});

describe('tiktok', () => {
  it('names the client client_key in the authorize URL and the token request', async () => {
    const { ctx, definition, connect } = setUp('tiktok', 'tiktok');
    const url = definition.authorizationUrl(ctx, { state: 's', redirectUri: REDIRECT_URI });
    expect(url.searchParams.get('client_key')).toBe(ctx.clientId);
    expect(url.searchParams.has('client_id')).toBe(false);
    const { account } = await connect();
    expect(account.tokens.refreshExpiresIn).toBeGreaterThan(0);
    expect(definition.proxy.isAuthFailure(200, '{"error":{"code":"access_token_invalid"}}')).toBe(true);
    expect(definition.proxy.isAuthFailure(200, '{"error":{"code":"ok"}}')).toBe(false);
  });
});

describe('slack', () => {
  it('keeps the incoming webhook URL as a secret extra, and a token without rotation never expires', async () => {
    const { connect } = setUp('slack', 'slack');
    const { account } = await connect();
    const url = account.tokens.secretExtras?.incomingWebhookUrl;
    expect(url).toMatch(/\/slack\/services\//);
    expect(JSON.stringify(account.metadata)).not.toContain(url);
    expect(account.tokens.extras?.incomingWebhook).toMatchObject({
      channelId: accounts.slack.channels[0]!.id,
    });
    expect(account.tokens.expiresIn).toBeUndefined();
    expect(account.tokens.refreshToken).toBeUndefined();
    const posted = await rt.fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(posted.status).toBe(200);
  });

  it('reads HTTP 200 ok:false answers: a bad secret is configuration, a spent refresh token permanent', async () => {
    await control.configure('slack', slackTokenRotation(true));
    const { ctx, definition, connect } = setUp('slack', 'slack');
    const { connection, secrets } = await connect();
    await definition.refreshAccessToken(ctx, rt, connection);
    const spent = await expectFailure(
      definition.refreshAccessToken(ctx, rt, connection),
      'permanent',
      secrets,
    );
    expect(spent.providerCode).toBe('invalid_refresh_token');
    const wrong = { ...ctx, clientSecret: 'wrong-slack-secret' };
    const bad = await expectFailure(definition.refreshAccessToken(wrong, rt, connection), 'configuration', [
      ...secrets,
      wrong.clientSecret,
    ]);
    expect(bad.providerCode).toBe('bad_client_secret');
  });
});
