import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionOf, expectFailure, REDIRECT_URI } from './contract-cases.ts';
import { oauth2 } from './oauth2.ts';
import { makeOAuthState, makePkcePair } from './pkce.ts';
import type { IntegrationContext, TokenEndpointAuthMethod } from './provider.ts';
import { makeProviderRuntime } from './runtime.ts';

// The generic provider against a real OAuth 2.0 server that nobody here wrote: panva's
// oidc-provider, on 127.0.0.1, with PKCE required, rotating refresh tokens and RFC 7009
// revocation. The person's login and consent are played by this test's own interaction route
// (the documented interactionDetails → interactionFinished API), reached over HTTP with the
// server's cookies, as a browser would.

const ACCOUNT = 'user-ada';
const CLIENTS: Record<TokenEndpointAuthMethod, { id: string; secret: string }> = {
  client_secret_basic: { id: 'basic-client', secret: 'basic-client-secret-0123456789abcdef' },
  client_secret_post: { id: 'post-client', secret: 'post-client-secret-0123456789abcdef' },
};

let server: Server;
let issuer: string;
const rt = makeProviderRuntime({ timeoutMs: 5_000 });

beforeAll(async () => {
  let provider: Provider | undefined;
  server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) void interact(provider!, req, res);
    else provider!.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  provider = new Provider(issuer, {
    clients: Object.entries(CLIENTS).map(([method, client]) => ({
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test', use: 'sig', alg: 'ES256' }] },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
    features: {
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          token.clientId === client.clientId,
      },
      devInteractions: { enabled: false },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Session: 86_400,
      Interaction: 600,
    },
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.com` }),
    }),
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The login and consent pages: the person is ACCOUNT and approves what the client asked for. */
async function interact(provider: Provider, req: IncomingMessage, res: ServerResponse) {
  try {
    const details = await provider.interactionDetails(req, res);
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId: ACCOUNT, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: ACCOUNT }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
}

/** A browser in miniature: follows redirects with the server's cookies until it reaches the redirect URI. */
async function consent(authorizeUrl: URL): Promise<URLSearchParams> {
  const cookies = new Map<string, string>();
  let url = authorizeUrl;
  for (let hop = 0; hop < 10; hop++) {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`oidc-provider answered ${response.status}: ${await response.text()}`);
    url = new URL(location, url);
    if (url.href.startsWith(REDIRECT_URI)) return url.searchParams;
  }
  throw new Error('Too many redirects');
}

function integration(method: TokenEndpointAuthMethod, secret = CLIENTS[method].secret): IntegrationContext {
  return {
    key: `oidc-${method}`,
    provider: 'oauth2',
    clientId: CLIENTS[method].id,
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
  const state = makeOAuthState();
  const pkce = await makePkcePair();
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

describe.each(Object.keys(CLIENTS) as TokenEndpointAuthMethod[])(
  'oauth2 against oidc-provider (%s)',
  (method) => {
    it('connects with PKCE and names the account from userinfo', async () => {
      const { account } = await connect(integration(method));
      expect(account.accountId).toBe(ACCOUNT);
      expect(account.metadata).toEqual({ email: `${ACCOUNT}@example.com` });
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
      const replay = await expectFailure(
        oauth2.refreshAccessToken(ctx, rt, connection),
        'permanent',
        secrets,
      );
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
  },
);

it('oidc-provider refuses an authorize request without PKCE, so the flows above really used it', async () => {
  const ctx = integration('client_secret_basic');
  const url = oauth2.authorizationUrl(ctx, { state: 's', redirectUri: REDIRECT_URI });
  const answer = await consent(url);
  expect(answer.get('error')).toBe('invalid_request');
  expect(answer.get('error_description')).toMatch(/PKCE/);
});
