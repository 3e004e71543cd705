import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  basicAuth,
  get,
  pkcePair,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_id: 'sandbox-google-client', client_secret: 'sandbox-google-secret' };

describe('google sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('google-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const authorizeUrl = (extra: Record<string, string> = {}) =>
    withQuery(sb.endpoints.google.authorizationUrl, {
      client_id: CLIENT.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email https://www.googleapis.com/auth/gmail.readonly',
      state: 'st-1',
      access_type: 'offline',
      ...extra,
    });
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    postForm(sb.endpoints.google.tokenUrl, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      ...CLIENT,
      ...extra,
    });
  const refresh = (refreshToken: string) =>
    postForm(sb.endpoints.google.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...CLIENT,
    });

  it('runs authorize, code exchange, refresh without rotation and revoke end to end', async () => {
    const pkce = pkcePair();
    const consent = await sb.control.authorize(
      authorizeUrl({ code_challenge: pkce.challenge, code_challenge_method: 'S256' }),
      { account: 'grace@example.com' },
    );
    expect(consent.state).toBe('st-1');
    expect(consent.code).toMatch(/^4\/0A/);
    expect(consent.location.startsWith(`${REDIRECT_URI}?`)).toBe(true);

    const wrongVerifier = await exchange(consent.code!, { code_verifier: pkcePair().verifier });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });

    const first = await exchange(consent.code!, { code_verifier: pkce.verifier });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(first.body.access_token).toMatch(/^ya29\./);
    expect(first.body.refresh_token).toMatch(/^1\/\//);

    const reused = await exchange(consent.code!, { code_verifier: pkce.verifier });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');

    const refreshed = await refresh(first.body.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refresh_token');
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);
    const again = await refresh(first.body.refresh_token);
    expect(again.status).toBe(200);

    const me = await get(sb.endpoints.google.userinfoUrl!, {
      authorization: `Bearer ${refreshed.body.access_token}`,
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'grace@example.com', email_verified: true });

    const revoked = await postForm(
      withQuery(sb.endpoints.google.revocationUrl!, { token: first.body.refresh_token }),
      {},
    );
    expect(revoked.status).toBe(200);
    const dead = await refresh(first.body.refresh_token);
    expect(dead.status).toBe(400);
    expect(dead.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
    const gone = await get(sb.endpoints.google.userinfoUrl!, {
      authorization: `Bearer ${refreshed.body.access_token}`,
    });
    expect(gone.status).toBe(401);
    expect(gone.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('gives a refresh token on a second consent only with prompt=consent', async () => {
    const first = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    expect(first.body.refresh_token).toBeDefined();
    const second = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    expect(second.status).toBe(200);
    expect(second.body).not.toHaveProperty('refresh_token');
    const forced = await exchange((await sb.control.authorize(authorizeUrl({ prompt: 'consent' }))).code!);
    expect(forced.body.refresh_token).toMatch(/^1\/\//);
    // The first refresh token still works: Google keeps several per client and user.
    expect((await refresh(first.body.refresh_token)).status).toBe(200);
  });

  it('gives no refresh token without access_type=offline', async () => {
    const online = await exchange(
      (await sb.control.authorize(authorizeUrl({ access_type: 'online' }))).code!,
    );
    expect(online.status).toBe(200);
    expect(online.body).not.toHaveProperty('refresh_token');
  });

  it('requires the code verifier when the authorize request carried a challenge', async () => {
    const { challenge } = pkcePair();
    const consent = await sb.control.authorize(
      authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    const missing = await exchange(consent.code!);
    expect(missing.body).toEqual({ error: 'invalid_grant', error_description: 'Missing code verifier.' });
  });

  it('accepts client credentials by HTTP Basic as well as in the body', async () => {
    const consent = await sb.control.authorize(authorizeUrl());
    const answer = await postForm(
      sb.endpoints.google.tokenUrl,
      { grant_type: 'authorization_code', code: consent.code!, redirect_uri: REDIRECT_URI },
      { authorization: basicAuth(CLIENT.client_id, CLIENT.client_secret) },
    );
    expect(answer.status).toBe(200);
  });

  it('answers invalid_client 401 for a wrong secret and redirect_uri_mismatch for another redirect', async () => {
    const consent = await sb.control.authorize(authorizeUrl());
    const wrong = await exchange(consent.code!, { client_secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const mismatch = await exchange(consent.code!, { redirect_uri: 'http://127.0.0.1:9/other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toBe('redirect_uri_mismatch');
  });

  it('redirects with access_denied and the state when the person denies', async () => {
    const denied = await sb.control.authorize(authorizeUrl(), { decision: 'deny' });
    expect(denied.error).toBe('access_denied');
    expect(denied.state).toBe('st-1');
    expect(denied.code).toBeUndefined();
  });

  it('shows an error page instead of redirecting for an unknown client', async () => {
    const page = await fetch(authorizeUrl({ client_id: 'who' }), { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('invalid_client');
  });

  it('offers every seeded Google account on the consent page', async () => {
    const html = await (await fetch(authorizeUrl())).text();
    expect(html).toContain('ada@example.com');
    expect(html).toContain('grace@example.com');
    expect(html).toContain('value="approve"');
    expect(html).toContain('value="deny"');
  });

  it('answers the Gmail API with 401 UNAUTHENTICATED once the access token is expired', async () => {
    const tokens = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    const url = `${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/me/profile`;
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const ok = await get(url, auth);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ emailAddress: 'ada@example.com', historyId: expect.any(String) });

    await sb.control.expireAccessToken(tokens.body.access_token);
    const expired = await get(url, auth);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe(
      'Bearer realm="https://accounts.google.com/", error="invalid_token"',
    );
    expect(expired.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
  });

  it('expires the access token by the sandbox clock after expires_in seconds', async () => {
    const tokens = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    await sb.control.advanceClock(3598_000);
    expect((await get(sb.endpoints.google.userinfoUrl!, auth)).status).toBe(200);
    await sb.control.advanceClock(2_000);
    expect((await get(sb.endpoints.google.userinfoUrl!, auth)).status).toBe(401);
  });

  it('answers 429 RESOURCE_EXHAUSTED with Retry-After when rate limited', async () => {
    const tokens = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    await sb.control.rateLimit({ endpoint: 'google.gmail.profile', limit: 1, windowSec: 60 });
    const url = `${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/me/profile`;
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    expect((await get(url, auth)).status).toBe(200);
    const limited = await get(url, auth);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    await sb.control.advanceClock(60_000);
    expect((await get(url, auth)).status).toBe(200);
  });

  it('can answer a refresh with invalid_rapt through a fault preset', async () => {
    const tokens = await exchange((await sb.control.authorize(authorizeUrl())).code!);
    await sb.control.preset('google.invalid_rapt', { times: 1 });
    const rapt = await refresh(tokens.body.refresh_token);
    expect(rapt.status).toBe(400);
    expect(rapt.body).toMatchObject({ error: 'invalid_grant', error_subtype: 'invalid_rapt' });
    expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
  });
});
