import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, HOUR } from '../clock.ts';
import {
  get,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_id: 'sandbox-instagram-client', client_secret: 'sandbox-instagram-secret' };

describe('instagram sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('instagram-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const shortLived = async () => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.instagram.authorizationUrl, {
        ...{ client_id: CLIENT.client_id },
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'instagram_business_basic,instagram_business_content_publish',
        state: 'i1',
      }),
    );
    expect(consent.location.endsWith('#_')).toBe(true);
    return postForm(sb.endpoints.instagram.tokenUrl, {
      ...CLIENT,
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT_URI,
      code: consent.code!,
    });
  };
  const exchange = (token: string, secret = CLIENT.client_secret) =>
    get(
      withQuery(sb.endpoints.instagram.exchangeUrl!, {
        grant_type: 'ig_exchange_token',
        client_secret: secret,
        access_token: token,
      }),
    );
  const refresh = (token: string) =>
    get(
      withQuery(sb.endpoints.instagram.refreshUrl!, { grant_type: 'ig_refresh_token', access_token: token }),
    );

  it('exchanges a short-lived token for a 60-day one and refreshes it only between 24 hours and expiry', async () => {
    const short = await shortLived();
    expect(short.status).toBe(200);
    expect(short.body).toEqual({
      access_token: expect.any(String),
      user_id: expect.any(String),
      permissions: 'instagram_business_basic,instagram_business_content_publish',
    });

    expect((await exchange(short.body.access_token, 'wrong')).status).toBe(400);
    const long = await exchange(short.body.access_token);
    expect(long.status).toBe(200);
    expect(long.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 5_184_000,
    });

    const early = await refresh(long.body.access_token);
    expect(early.status).toBe(400);
    expect(early.body.error.type).toBe('OAuthException');
    expect(early.body.error.code).not.toBe(190);

    await sb.control.advanceClock(24 * HOUR);
    const renewed = await refresh(long.body.access_token);
    expect(renewed.status).toBe(200);
    expect(renewed.body.expires_in).toBe(5_184_000);

    await sb.control.advanceClock(60 * DAY);
    const expired = await refresh(renewed.body.access_token);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toMatchObject({
      type: 'OAuthException',
      code: 190,
      fbtrace_id: expect.any(String),
    });
  });

  it('lets a short-lived token lapse after one hour', async () => {
    const short = await shortLived();
    await sb.control.advanceClock(HOUR);
    const late = await exchange(short.body.access_token);
    expect(late.body.error.code).toBe(190);
  });

  it('serves /me with the requested fields, by query token or Bearer header', async () => {
    const short = await shortLived();
    const me = await get(
      withQuery(`${sb.endpoints.instagram.apiBaseUrl}/me`, {
        fields: 'user_id,username',
        access_token: short.body.access_token,
      }),
    );
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user_id: short.body.user_id, username: 'ada.lovelace' });
    const versioned = await get(
      withQuery(`${sb.endpoints.instagram.apiBaseUrl}/v22.0/me`, { fields: 'id' }),
      {
        authorization: `Bearer ${short.body.access_token}`,
      },
    );
    expect(versioned.body).toEqual({ id: expect.any(String) });
  });

  it('answers code 190 for a revoked token and 429 code 4 when rate limited', async () => {
    const short = await shortLived();
    const url = withQuery(`${sb.endpoints.instagram.apiBaseUrl}/me`, {
      access_token: short.body.access_token,
    });
    await sb.control.rateLimit({ endpoint: 'instagram.me', limit: 0, windowSec: 60 });
    const limited = await get(url);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe(4);
    await sb.control.clearRateLimits();
    await sb.control.revoke({ accessToken: short.body.access_token });
    const revoked = await get(url);
    expect(revoked.body.error).toMatchObject({ type: 'OAuthException', code: 190 });
  });

  it('refuses a reused code in its flat OAuth error shape', async () => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.instagram.authorizationUrl, {
        client_id: CLIENT.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
      }),
    );
    const body = {
      ...CLIENT,
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT_URI,
      code: consent.code!,
    };
    expect((await postForm(sb.endpoints.instagram.tokenUrl, body)).status).toBe(200);
    const again = await postForm(sb.endpoints.instagram.tokenUrl, body);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error_type: 'OAuthException',
      code: 400,
      error_message: 'This authorization code has been used',
    });
  });
});
