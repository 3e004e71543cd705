import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Credentials, openCredentials } from '../src/connections/credentials.ts';
import { connections } from '../src/db/schema.ts';
import type { TokenEndpointAuthMethod } from '../src/providers/provider.ts';
import { type OidcServer, startOidcServer } from './harness/oidc-server.ts';
import { cookiesFrom } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The generic oauth2 provider through a whole tether (connect session, /connect, the person's
// consent, /oauth/callback, refresh, revocation, disconnect) against a real OAuth server that
// nobody here wrote: panva's oidc-provider, which requires PKCE, rotates refresh tokens and
// implements RFC 7009 revocation. Run once per client authentication method.

const METHODS: TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

let t: TestTether;
let oidc: OidcServer;
/** tether's redirect URI: a test tether's publicUrl is http://127.0.0.1:0 (PORT 0, not listening). */
const callbackUrl = 'http://127.0.0.1:0/oauth/callback';
let user = 0;

beforeAll(async () => {
  t = await startTestTether();
  oidc = await startOidcServer({ redirectUris: [callbackUrl] });
  for (const method of METHODS) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/integrations',
      headers: t.auth,
      payload: {
        key: integrationKey(method),
        provider: 'oauth2',
        clientId: oidc.clients[method].id,
        clientSecret: oidc.clients[method].secret,
        scopes: ['openid', 'email'],
        endpoints: {
          authorizationUrl: `${oidc.issuer}/auth`,
          tokenUrl: `${oidc.issuer}/token`,
          revocationUrl: `${oidc.issuer}/token/revocation`,
          userinfoUrl: `${oidc.issuer}/me`,
          apiBaseUrl: oidc.issuer,
        },
        tokenEndpointAuthMethod: method,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
  await oidc?.close();
});

function integrationKey(method: TokenEndpointAuthMethod): string {
  return method === 'client_secret_basic' ? 'oidc-basic' : 'oidc-post';
}

const row = async (id: string) =>
  (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
const credentialsOf = async (id: string): Promise<Credentials | null> =>
  openCredentials(t.sealer, await row(id));
const view = async (id: string) =>
  (await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth })).json();
const forceRefresh = (id: string) =>
  t.app.inject({ method: 'POST', url: `/v1/connections/${id}/refresh`, headers: t.auth });

/** The whole connect flow through tether's HTTP API, the person consenting at oidc-provider. */
async function connect(method: TokenEndpointAuthMethod): Promise<string> {
  const endUserId = `oidc-user-${++user}`;
  const session = await t.app.inject({
    method: 'POST',
    url: '/v1/connect-sessions',
    headers: t.auth,
    payload: { integration: integrationKey(method), endUserId },
  });
  expect(session.statusCode, session.body).toBe(201);
  const start = await t.app.inject({ method: 'GET', url: new URL(session.json().url).pathname });
  expect(start.statusCode, start.body).toBe(302);
  const authorize = new URL(start.headers.location as string);
  expect(authorize.origin).toBe(oidc.issuer);
  expect(authorize.searchParams.get('redirect_uri')).toBe(callbackUrl);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  const back = await oidc.consent(authorize, callbackUrl);
  expect(back.searchParams.get('error'), back.searchParams.get('error_description') ?? '').toBeNull();
  const callback = await t.app.inject({
    method: 'GET',
    url: `${back.pathname}${back.search}`,
    headers: { cookie: cookiesFrom(start) },
  });
  expect(callback.statusCode, callback.body).toBe(200);
  const list = await t.app.inject({
    method: 'GET',
    url: `/v1/connections?endUserId=${endUserId}`,
    headers: t.auth,
  });
  const items = list.json().items as { id: string }[];
  expect(items).toHaveLength(1);
  return items[0]!.id;
}

describe.each(METHODS)('the oauth2 provider through tether against oidc-provider (%s)', (method) => {
  it('connects with PKCE, names the account from userinfo and proxies to the server as it', async () => {
    const id = await connect(method);
    expect(await view(id)).toMatchObject({
      status: 'connected',
      provider: 'oauth2',
      providerAccountId: oidc.account,
      metadata: { email: `${oidc.account}@example.com` },
    });
    const credentials = (await credentialsOf(id))!;
    expect(credentials.refreshToken).toEqual(expect.any(String));
    expect((await row(id)).expiresAt!.getTime()).toBeGreaterThan(Date.now());

    const me = await t.app.inject({ method: 'GET', url: `/v1/proxy/${id}/me`, headers: t.auth });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ sub: oidc.account });
  });

  it('stores the rotated refresh token on a forced refresh, and the rotated one refreshes again', async () => {
    const id = await connect(method);
    const first = (await credentialsOf(id))!;

    const res = await forceRefresh(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('connected');
    const second = (await credentialsOf(id))!;
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toEqual(expect.any(String));
    expect(second.refreshToken).not.toBe(first.refreshToken);

    // oidc-provider takes each refresh token once: this refresh works only with the stored new one.
    expect((await forceRefresh(id)).statusCode).toBe(200);
    const third = (await credentialsOf(id))!;
    expect(third.refreshToken).not.toBe(second.refreshToken);
    const token = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}/access-token`,
      headers: t.auth,
    });
    expect(token.json().accessToken).toBe(third.accessToken);
  });

  it('answers 409 reauthorization_required and wipes the credentials once the grant is revoked at the server', async () => {
    const id = await connect(method);
    const { refreshToken } = (await credentialsOf(id))!;
    await oidc.revoke(refreshToken!, method);

    const res = await forceRefresh(id);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('reauthorization_required');
    expect(res.json().error.message).toContain('OAuth 2.0');
    expect(res.body).not.toContain(refreshToken!);
    expect(await view(id)).toMatchObject({
      status: 'reauthorization_required',
      lastError: { code: 'invalid_grant' },
    });
    expect(await credentialsOf(id)).toBeNull();
    const token = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}/access-token`,
      headers: t.auth,
    });
    expect(token.statusCode).toBe(409);
    expect(token.json().error.code).toBe('reauthorization_required');
  });

  it('revokes the grant at the server on DELETE, so the old refresh token no longer works there', async () => {
    const id = await connect(method);
    const { refreshToken } = (await credentialsOf(id))!;

    const res = await t.app.inject({ method: 'DELETE', url: `/v1/connections/${id}`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revokedAtProvider: true });
    expect(await credentialsOf(id)).toBeNull();

    const replay = await oidc.refresh(refreshToken!, method);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });
  });
});
