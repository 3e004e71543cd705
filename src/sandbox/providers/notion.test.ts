import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NOTION_LEGACY } from '../settings.ts';
import {
  basicAuth,
  get,
  postForm,
  postJson,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-notion-client', 'sandbox-notion-secret') };
const VERSION = { 'notion-version': '2022-06-28' };

describe('notion sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('notion-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const consent = () =>
    sb.control.authorize(
      withQuery(sb.endpoints.notion.authorizationUrl, {
        client_id: 'sandbox-notion-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        owner: 'user',
        state: 'n1',
      }),
    );
  const exchange = (code: string) =>
    postJson(
      sb.endpoints.notion.tokenUrl,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      BASIC,
    );
  const refresh = (token: string) =>
    postJson(sb.endpoints.notion.tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BASIC);

  it('runs authorize, JSON code exchange, rotating refresh and revoke', async () => {
    const { code, state } = await consent();
    expect(state).toBe('n1');
    const tokens = await exchange(code!);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      token_type: 'bearer',
      expires_in: 3600,
      bot_id: expect.any(String),
      workspace_name: "Ada's Notion",
      owner: { type: 'user', user: { object: 'user', type: 'person' } },
      duplicated_template_id: null,
    });
    expect(tokens.body.refresh_token).toEqual(expect.any(String));

    const next = await refresh(tokens.body.refresh_token);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(tokens.body.refresh_token);
    expect((await refresh(tokens.body.refresh_token)).body.error).toBe('invalid_grant');

    const revoked = await postJson(
      sb.endpoints.notion.revocationUrl!,
      { token: next.body.access_token },
      BASIC,
    );
    expect(revoked.status).toBe(200);
    expect((await refresh(next.body.refresh_token)).body.error).toBe('invalid_grant');
    const me = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/users/me`, {
      ...VERSION,
      authorization: `Bearer ${next.body.access_token}`,
    });
    expect(me.status).toBe(401);
    expect(me.body).toMatchObject({ object: 'error', status: 401, code: 'unauthorized' });
  });

  it('refuses a form-encoded token request: Notion wants JSON', async () => {
    const { code } = await consent();
    const form = await postForm(
      sb.endpoints.notion.tokenUrl,
      { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
    expect(form.status).toBe(400);
    expect(form.body.error).toBe('invalid_request');
    expect((await exchange(code!)).status).toBe(200);
  });

  it('hands out never-expiring tokens and refresh_token null in legacy mode', async () => {
    await sb.control.configure('notion', NOTION_LEGACY);
    const tokens = await exchange((await consent()).code!);
    expect(tokens.body.refresh_token).toBeNull();
    expect(tokens.body).not.toHaveProperty('expires_in');
  });

  it('serves the bot user at /v1/users/me and needs Notion-Version', async () => {
    const tokens = await exchange((await consent()).code!);
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const noVersion = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/users/me`, auth);
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.code).toBe('missing_version');
    const me = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/users/me`, { ...auth, ...VERSION });
    expect(me.body).toMatchObject({ object: 'user', type: 'bot', id: tokens.body.bot_id });
    const users = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/users`, { ...auth, ...VERSION });
    expect(users.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
  });

  it('answers 429 rate_limited with Retry-After', async () => {
    const tokens = await exchange((await consent()).code!);
    await sb.control.rateLimit({ endpoint: 'notion.users', limit: 0, windowSec: 1 });
    const limited = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/users`, {
      ...VERSION,
      authorization: `Bearer ${tokens.body.access_token}`,
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toMatchObject({ object: 'error', status: 429, code: 'rate_limited' });
  });

  it('introspects a live token as active and a revoked one as inactive', async () => {
    const tokens = await exchange((await consent()).code!);
    const introspect = () =>
      postJson(sb.endpoints.notion.introspectionUrl!, { token: tokens.body.access_token }, BASIC);
    expect((await introspect()).body.active).toBe(true);
    await sb.control.revoke({ accessToken: tokens.body.access_token });
    expect((await introspect()).body.active).toBe(false);
  });
});
