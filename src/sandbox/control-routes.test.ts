import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  get,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from './testing.ts';

describe('control API', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('control-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const connectGoogle = async (account: string) => {
    const { code } = await sb.control.authorize(
      withQuery(sb.endpoints.google.authorizationUrl, {
        client_id: 'sandbox-google-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        access_type: 'offline',
      }),
      { account },
    );
    const tokens = await postForm(sb.endpoints.google.tokenUrl, {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT_URI,
      client_id: 'sandbox-google-client',
      client_secret: 'sandbox-google-secret',
    });
    return tokens.body as { access_token: string; refresh_token: string };
  };
  const userinfo = (token: string) =>
    get(sb.endpoints.google.userinfoUrl!, { authorization: `Bearer ${token}` });

  it('revokes every grant of one account and leaves the others alone', async () => {
    const ada = await connectGoogle('ada@example.com');
    const grace = await connectGoogle('grace@example.com');
    const accounts = await sb.control.accounts();
    const adaSub = accounts.google.find((u) => u.email === 'ada@example.com')!.sub;
    const { revoked } = await sb.control.revoke({ accountId: adaSub, provider: 'google' });
    expect(revoked).toHaveLength(1);
    expect((await userinfo(ada.access_token)).status).toBe(401);
    expect((await userinfo(grace.access_token)).status).toBe(200);
  });

  it('revokes by access token and lists the grant as revoked', async () => {
    const tokens = await connectGoogle('ada@example.com');
    await sb.control.revoke({ accessToken: tokens.access_token });
    const [grant] = await sb.control.grants();
    expect(grant!.revokedAt).toEqual(expect.any(Number));
    expect(grant!.refreshTokens[0]!.revokedAt).toEqual(expect.any(Number));
  });

  it('answers 404 for an unknown provider, token or fault preset', async () => {
    await expect(sb.control.settings('nope' as 'google')).rejects.toThrow(/404/);
    await expect(sb.control.expireAccessToken('nope')).rejects.toThrow(/404/);
    await expect(sb.control.preset('google.nope')).rejects.toThrow(/404/);
    await expect(sb.control.revoke({ grantId: 'nope' })).rejects.toThrow(/404/);
  });

  it('validates settings patches and applies them', async () => {
    await expect(sb.control.configure('xero', { accessTokenTtlSec: -1 })).rejects.toThrow(
      /validation_failed/,
    );
    await expect(sb.control.configure('xero', { unknown: 1 } as never)).rejects.toThrow(/validation_failed/);
    expect(await sb.control.configure('xero', { accessTokenTtlSec: 60 })).toMatchObject({
      accessTokenTtlSec: 60,
    });
    await sb.control.reset();
    expect((await sb.control.settings('xero')).accessTokenTtlSec).toBe(1800);
  });

  it('registers a client whose redirect URIs are enforced and forgets it on reset', async () => {
    await sb.control.registerClient({
      provider: 'google',
      clientId: 'app-2',
      clientSecret: 's2',
      redirectUris: [REDIRECT_URI],
    });
    const url = (redirect: string) =>
      withQuery(sb.endpoints.google.authorizationUrl, {
        client_id: 'app-2',
        redirect_uri: redirect,
        response_type: 'code',
      });
    expect((await sb.control.authorize(url(REDIRECT_URI))).code).toEqual(expect.any(String));
    expect((await fetch(url('http://127.0.0.1:9/elsewhere'))).status).toBe(400);
    await sb.control.reset();
    expect((await fetch(url(REDIRECT_URI))).status).toBe(400);
  });

  it('reports the clock and moves it forward only', async () => {
    const before = Date.parse((await sb.control.clock()).now);
    const after = await sb.control.advanceClock(3_600_000);
    expect(Date.parse(after.now) - before).toBeGreaterThanOrEqual(3_600_000);
    const back = await fetch(`${sb.server.url}/_control/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: -1 }),
    });
    expect(back.status).toBe(400);
  });
});
