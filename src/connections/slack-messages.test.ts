import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';

describe('Slack messages through an incoming webhook', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let user = 0;

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether();
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'slack',
      provider: 'slack',
      scopes: ['incoming-webhook'],
    });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  const connect = async () => {
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: 'slack',
      endUserId: `slack-${++user}`,
    });
    expect(result.status, result.body).toBe(200);
    const hooks = await sandbox.control.slackWebhooks();
    return { id: result.connectionId!, hook: hooks.at(-1)! };
  };
  const post = (id: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/v1/connections/${id}/slack/messages`, headers: t.auth, payload });

  it('posts a message and keeps the webhook URL out of every answer', async () => {
    const { id, hook } = await connect();
    const res = await post(id, { text: 'hello' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true, attempts: 1 });
    const view = await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth });
    expect(view.body).not.toContain(hook.secret);
    expect(t.logs.text()).not.toContain(hook.secret);
  });

  it('retries a 429 and a 5xx, then delivers', async () => {
    const { id } = await connect();
    await sandbox.control.failNext('slack.webhook', 429, { times: 1, headers: { 'retry-after': '0' } });
    await sandbox.control.failNext('slack.webhook', 500, { times: 1, body: 'rollup_error' });
    const res = await post(id, { text: 'again' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().attempts).toBe(3);
  });

  it.each([
    ['archived', 410],
    ['revoked', 403],
    ['removed', 404],
  ] as const)(
    'marks the connection reauthorization_required when the webhook is %s (%i)',
    async (state, _status) => {
      const { id, hook } = await connect();
      await sandbox.control.setSlackWebhookState(hook.id, state);
      const res = await post(id, { text: 'lost' });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('reauthorization_required');
      const view = (
        await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth })
      ).json();
      expect(view.status).toBe('reauthorization_required');
    },
  );

  it('answers 400 validation_failed when Slack refuses the payload, and keeps the connection', async () => {
    const { id } = await connect();
    await sandbox.control.failNext('slack.webhook', 400, { times: 1, body: 'invalid_blocks' });
    const res = await post(id, { text: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    const view = (
      await t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: t.auth })
    ).json();
    expect(view.status).toBe('connected');
  });

  it('answers 429 rate_limited with a Retry-After when Slack still rate limits after the retries', async () => {
    const { id } = await connect();
    await sandbox.control.failNext('slack.webhook', 429, { times: 3, headers: { 'retry-after': '0' } });
    const res = await post(id, { text: 'x' });
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('rate_limited');
    expect(res.headers['retry-after']).toBe('30');
  });

  it('answers 502 bad_gateway when Slack fails every attempt', async () => {
    const { id } = await connect();
    await sandbox.control.failNext('slack.webhook', 503, { times: 3 });
    const res = await post(id, { text: 'x' });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('bad_gateway');
  });

  it('refuses an empty message before calling Slack', async () => {
    const { id } = await connect();
    const res = await post(id, {});
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
  });
});
