import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { slackTokenRotation } from '../settings.ts';
import {
  basicAuth,
  postForm,
  postJson,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-slack-client', 'sandbox-slack-secret') };

describe('slack sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('slack-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const install = async (scope = 'incoming-webhook,chat:write') => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.slack.authorizationUrl, {
        client_id: 'sandbox-slack-client',
        scope,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        state: 's1',
      }),
    );
    return postForm(sb.endpoints.slack.tokenUrl, { code: consent.code!, redirect_uri: REDIRECT_URI }, BASIC);
  };
  const authTest = (token: string) =>
    postForm(`${sb.endpoints.slack.apiBaseUrl}/auth.test`, {}, { authorization: `Bearer ${token}` });

  it('installs with a never-expiring bot token and an incoming webhook, then revokes', async () => {
    const tokens = await install();
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      ok: true,
      token_type: 'bot',
      scope: 'incoming-webhook,chat:write',
      team: { name: 'Sandbox Team' },
    });
    expect(tokens.body.access_token).toMatch(/^xoxb-/);
    expect(tokens.body).not.toHaveProperty('expires_in');
    expect(tokens.body).not.toHaveProperty('refresh_token');
    expect(tokens.body.incoming_webhook).toMatchObject({
      channel: '#general',
      channel_id: expect.stringMatching(/^C/),
    });
    expect(tokens.body.incoming_webhook.url).toMatch(
      new RegExp(`^${sb.server.url}/slack/services/T[0-9A-Z]+/B[0-9A-Z]+/`),
    );

    expect((await authTest(tokens.body.access_token)).body).toMatchObject({
      ok: true,
      team_id: tokens.body.team.id,
    });
    const revoked = await postForm(`${sb.endpoints.slack.revocationUrl}`, {
      token: tokens.body.access_token,
    });
    expect(revoked.body).toEqual({ ok: true, revoked: true });
    expect((await authTest(tokens.body.access_token)).body).toEqual({ ok: false, error: 'token_revoked' });
    const post = await postJson(tokens.body.incoming_webhook.url, { text: 'hi' });
    expect(post.status).toBe(403);
    expect(post.body).toBe('invalid_token');
  });

  it('rotates tokens when token rotation is on', async () => {
    await sb.control.configure('slack', slackTokenRotation(true));
    const tokens = await install('chat:write');
    expect(tokens.body).toMatchObject({ ok: true, expires_in: 43_200 });
    expect(tokens.body.access_token).toMatch(/^xoxe\.xoxb-1-/);
    expect(tokens.body.refresh_token).toMatch(/^xoxe-1-/);
    const refresh = (token: string) =>
      postForm(sb.endpoints.slack.tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BASIC);
    const next = await refresh(tokens.body.refresh_token);
    expect(next.body).toMatchObject({
      ok: true,
      expires_in: 43_200,
      refresh_token: expect.stringMatching(/^xoxe-1-/),
    });
    expect((await refresh(tokens.body.refresh_token)).body).toEqual({
      ok: false,
      error: 'invalid_refresh_token',
    });
    await sb.control.advanceClock(43_200_000);
    expect((await authTest(next.body.access_token)).body).toEqual({ ok: false, error: 'token_expired' });
  });

  it('answers client errors with HTTP 200 and ok:false, and accepts credentials in the body', async () => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.slack.authorizationUrl, {
        client_id: 'sandbox-slack-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
      }),
    );
    const wrong = await postForm(sb.endpoints.slack.tokenUrl, {
      code: consent.code!,
      client_id: 'sandbox-slack-client',
      client_secret: 'nope',
    });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toEqual({ ok: false, error: 'bad_client_secret' });
    const right = await postForm(sb.endpoints.slack.tokenUrl, {
      code: consent.code!,
      redirect_uri: REDIRECT_URI,
      client_id: 'sandbox-slack-client',
      client_secret: 'sandbox-slack-secret',
    });
    expect(right.body.ok).toBe(true);
  });

  it('serves the incoming webhook: ok, invalid_payload, archived, removed and rate limited', async () => {
    const { body } = await install();
    const url = body.incoming_webhook.url as string;
    const ok = await postJson(url, { text: 'Deploy finished' });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('ok');
    expect((await postJson(url, { username: 'no text' })).body).toBe('invalid_payload');
    expect((await postForm(url, { payload: JSON.stringify({ text: 'form style' }) })).status).toBe(200);

    await sb.control.rateLimit({ endpoint: 'slack.webhook', limit: 0, windowSec: 30 });
    const limited = await postJson(url, { text: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    await sb.control.clearRateLimits();

    const [hook] = await sb.control.slackWebhooks();
    expect(hook!.messages).toHaveLength(2);
    await sb.control.setSlackWebhookState(hook!.id, 'archived');
    const archived = await postJson(url, { text: 'x' });
    expect([archived.status, archived.body]).toEqual([410, 'channel_is_archived']);
    await sb.control.setSlackWebhookState(hook!.id, 'removed');
    const removed = await postJson(url, { text: 'x' });
    expect([removed.status, removed.body]).toEqual([404, 'no_service']);
    await sb.control.setSlackWebhookState(hook!.id, 'revoked');
    const revoked = await postJson(url, { text: 'x' });
    expect([revoked.status, revoked.body]).toEqual([403, 'invalid_token']);
  });

  it('answers Web API rate limits with 429, Retry-After and ratelimited', async () => {
    const tokens = await install('chat:write');
    await sb.control.rateLimit({ endpoint: 'slack.auth.test', limit: 0, windowSec: 5 });
    const limited = await authTest(tokens.body.access_token);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ ok: false, error: 'ratelimited' });
  });
});
