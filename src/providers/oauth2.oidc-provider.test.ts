import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcServer, startOidcServer } from '../../test/harness/oidc-server.ts';
import { connectionOf, expectFailure, oauthStart, REDIRECT_URI } from './contract-cases.ts';
import { oauth2 } from './oauth2.ts';
import type { IntegrationContext, TokenEndpointAuthMethod } from './provider.ts';
import { makeProviderRuntime } from './runtime.ts';

// The generic provider against a real OAuth 2.0 server that nobody here wrote: panva's
// oidc-provider (test/harness/oidc-server.ts), on 127.0.0.1, with PKCE required, rotating refresh
// tokens and RFC 7009 revocation. The same server behind a whole tether: test/oauth2-oidc-provider.test.ts.

const METHODS: TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

let oidc: OidcServer;
const rt = makeProviderRuntime({ timeoutMs: 5_000 });

beforeAll(async () => {
  oidc = await startOidcServer({ redirectUris: [REDIRECT_URI] });
});
afterAll(() => oidc?.close());

/** The person signs in and consents; returns what came back to the redirect URI. */
async function consent(authorizeUrl: URL): Promise<URLSearchParams> {
  return (await oidc.consent(authorizeUrl, REDIRECT_URI)).searchParams;
}

function integration(
  method: TokenEndpointAuthMethod,
  secret = oidc.clients[method].secret,
): IntegrationContext {
  const { issuer } = oidc;
  return {
    key: `oidc-${method}`,
    provider: 'oauth2',
    clientId: oidc.clients[method].id,
    clientSecret: secret,
    scopes: ['openid', 'email'],
    endpoints: {
      authorizationUrl: `${issuer}/auth`,
      tokenUrl: `${issuer}/token`,
      revocationUrl: `${issuer}/token/revocation`,
      userinfoUrl: `${issuer}/me`,
      apiBaseUrl: issuer,
    },
    options: { tokenEndpointAuthMethod: method },
  };
}

async function connect(ctx: IntegrationContext) {
  const { state, ...pkce } = await oauthStart();
  const url = oauth2.authorizationUrl(ctx, {
    state,
    codeChallenge: pkce.codeChallenge,
    redirectUri: REDIRECT_URI,
  });
  const answer = await consent(url);
  expect(answer.get('state')).toBe(state);
  const code = answer.get('code')!;
  const tokens = await oauth2.exchangeCode(ctx, rt, {
    code,
    codeVerifier: pkce.codeVerifier,
    redirectUri: REDIRECT_URI,
  });
  const account = await oauth2.afterConnect(ctx, rt, tokens);
  const secrets = [ctx.clientSecret, code, pkce.codeVerifier, tokens.accessToken, tokens.refreshToken ?? ''];
  return { account, connection: connectionOf(account, rt), secrets };
}

describe.each(METHODS)('oauth2 against oidc-provider (%s)', (method) => {
  it('connects with PKCE and names the account from userinfo', async () => {
    const { account } = await connect(integration(method));
    expect(account.accountId).toBe(oidc.account);
    expect(account.metadata).toEqual({ email: `${oidc.account}@example.com` });
    expect(account.tokens.refreshToken).toEqual(expect.any(String));
    expect(account.tokens.expiresIn).toBeGreaterThan(0);
  });

  it('rotates the refresh token, and the old one is then a permanent failure', async () => {
    const ctx = integration(method);
    const { connection, secrets } = await connect(ctx);
    const rotated = await oauth2.refreshAccessToken(ctx, rt, connection);
    expect(rotated.refreshToken).toEqual(expect.any(String));
    expect(rotated.refreshToken).not.toBe(connection.refreshToken);
    secrets.push(rotated.accessToken, rotated.refreshToken!);
    const replay = await expectFailure(oauth2.refreshAccessToken(ctx, rt, connection), 'permanent', secrets);
    expect(replay.providerCode).toBe('invalid_grant');
  });

  it('revokes the grant, after which a refresh is a permanent failure', async () => {
    const ctx = integration(method);
    const { connection, secrets } = await connect(ctx);
    await oauth2.revoke!(ctx, rt, connection);
    await expectFailure(oauth2.refreshAccessToken(ctx, rt, connection), 'permanent', secrets);
  });

  it('calls a wrong client secret a configuration error', async () => {
    const ctx = integration(method);
    const { connection, secrets } = await connect(ctx);
    const wrong = integration(method, 'not-the-client-secret-at-all');
    const error = await expectFailure(oauth2.refreshAccessToken(wrong, rt, connection), 'configuration', [
      ...secrets,
      wrong.clientSecret,
    ]);
    expect(error.providerCode).toBe('invalid_client');
  });
});

it('oidc-provider refuses an authorize request without PKCE, so the flows above really used it', async () => {
  const ctx = integration('client_secret_basic');
  const url = oauth2.authorizationUrl(ctx, { state: 's', redirectUri: REDIRECT_URI });
  const answer = await consent(url);
  expect(answer.get('error')).toBe('invalid_request');
  expect(answer.get('error_description')).toMatch(/PKCE/);
});
