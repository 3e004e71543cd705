import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  get,
  pkcePair,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_key: 'sandbox-tiktok-client', client_secret: 'sandbox-tiktok-secret' };

describe('tiktok sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('tiktok-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const consent = (extra: Record<string, string> = {}) =>
    sb.control.authorize(
      withQuery(sb.endpoints.tiktok.authorizationUrl, {
        client_key: CLIENT.client_key,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'user.info.basic,video.list',
        state: 't1',
        ...extra,
      }),
    );
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    postForm(sb.endpoints.tiktok.tokenUrl, {
      ...CLIENT,
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      ...extra,
    });
  const refresh = (token: string) =>
    postForm(sb.endpoints.tiktok.tokenUrl, { ...CLIENT, grant_type: 'refresh_token', refresh_token: token });

  it('runs authorize with PKCE, exchange, rotating refresh and revoke', async () => {
    const pkce = pkcePair();
    const granted = await consent({ code_challenge: pkce.challenge, code_challenge_method: 'S256' });
    expect(new URL(granted.location).searchParams.get('scopes')).toBe('user.info.basic,video.list');

    const mismatch = await exchange(granted.code!, { code_verifier: pkcePair().verifier });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ error: 'invalid_grant', log_id: expect.any(String) });

    const tokens = await exchange(granted.code!, { code_verifier: pkce.verifier });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 86_400,
      refresh_expires_in: 31_536_000,
      scope: 'user.info.basic,video.list',
      open_id: expect.stringMatching(/^-000/),
    });
    expect(tokens.body.access_token).toMatch(/^act\./);
    expect(tokens.body.refresh_token).toMatch(/^rft\./);

    const next = await refresh(tokens.body.refresh_token);
    expect(next.status).toBe(200);
    expect((await refresh(tokens.body.refresh_token)).body.error).toBe('invalid_grant');

    const revoked = await postForm(sb.endpoints.tiktok.revocationUrl!, {
      ...CLIENT,
      token: next.body.access_token,
    });
    expect(revoked.status).toBe(200);
    expect((await refresh(next.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('refuses client_id in place of client_key', async () => {
    const { code } = await consent();
    const answer = await postForm(sb.endpoints.tiktok.tokenUrl, {
      client_id: CLIENT.client_key,
      client_secret: CLIENT.client_secret,
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT_URI,
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'invalid_client', log_id: expect.any(String) });
  });

  it('uses 2-hour access tokens when configured so', async () => {
    await sb.control.configure('tiktok', { accessTokenTtlSec: 7200 });
    const tokens = await exchange((await consent()).code!);
    expect(tokens.body.expires_in).toBe(7200);
  });

  it('serves user info in its data/error envelope and answers access_token_invalid and rate_limit_exceeded', async () => {
    const tokens = await exchange((await consent()).code!);
    const url = withQuery(sb.endpoints.tiktok.userinfoUrl!, { fields: 'open_id,display_name' });
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const info = await get(url, auth);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      data: { user: { open_id: tokens.body.open_id, display_name: 'Ada Lovelace' } },
      error: { code: 'ok', message: '' },
    });

    await sb.control.rateLimit({ endpoint: 'tiktok.user.info', limit: 0, windowSec: 60 });
    const limited = await get(url, auth);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limit_exceeded');
    await sb.control.clearRateLimits();

    await sb.control.expireAccessToken(tokens.body.access_token);
    const expired = await get(url, auth);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({
      data: {},
      error: { code: 'access_token_invalid', log_id: expect.any(String) },
    });
  });
});
