import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredentials } from '../src/connections/credentials.ts';
import { connections } from '../src/db/schema.ts';
import { NOTION_LEGACY } from '../src/sandbox/index.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// Connections that hold no refresh token, through tether's HTTP API against the sandbox: Slack
// without token rotation and legacy Notion integrations get tokens that never expire, and a
// Google account that consents again without prompt=consent gets no new refresh token (the one
// tether already holds keeps working at Google). None of them is a lost grant while its token
// works; one whose token expires or is rejected with no way to renew it is.

let t: TestTether;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;

beforeAll(async () => {
  t = await startTestTether();
  sandbox = await startSandbox();
  // Notion's legacy integrations: no expires_in, refresh_token null.
  await sandbox.control.configure('notion', NOTION_LEGACY);
  for (const provider of ['slack', 'notion', 'google']) {
    await createSandboxIntegration(t, sandbox.server.url, { key: provider, provider });
  }
  // Gmail on the same Google client, as sandbox-gmail is beside sandbox-google.
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'gmail',
    provider: 'gmail',
    sandboxProvider: 'google',
  });
  // An integration whose own prompt replaces the consent tether asks for.
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'gmail-no-consent',
    provider: 'gmail',
    sandboxProvider: 'google',
    options: { extraAuthorizeParams: { prompt: 'select_account' } },
  });
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});

const row = async (id: string) =>
  (await t.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: t.auth, ...(payload ? { payload } : {}) });
const connect = async (integration: string, endUserId: string) => {
  const result = await connectThroughSandbox(t, sandbox.control, { integration, endUserId });
  expect(result.status, result.body).toBe(200);
  return result.connectionId!;
};

describe('a forced refresh of a token that never expires and has no refresh token', () => {
  it.each([
    [
      'Slack without token rotation',
      'slack',
      (id: string) => inject('POST', `/v1/connections/${id}/slack/messages`, { text: 'still here' }),
    ],
    ['a legacy Notion integration', 'notion', (id: string) => inject('GET', `/v1/proxy/${id}/v1/users`)],
  ] as const)('keeps %s connected with its token', async (_name, integration, use) => {
    const id = await connect(integration, `never-expires-${integration}`);
    const before = await row(id);
    expect(before.expiresAt, 'the token never expires').toBeNull();
    expect(openCredentials(t.sealer, before)!.refreshToken).toBeNull();

    const res = await inject('POST', `/v1/connections/${id}/refresh`);
    expect(res.json().error?.code, res.body).not.toBe('reauthorization_required');
    expect(res.statusCode, res.body).toBeLessThan(500);
    const after = await row(id);
    expect(after.status).toBe('connected');
    expect(openCredentials(t.sealer, after)?.accessToken).toBe(
      openCredentials(t.sealer, before)!.accessToken,
    );
    const used = await use(id);
    expect(used.statusCode, used.body).toBe(200);
  });
});

describe('a Google account that connects again while connected', () => {
  it('keeps the refresh token tether holds when Google sends no new one, so the connection can still refresh', async () => {
    const id = await connect('google', 'google-twice');
    const { refreshToken } = openCredentials(t.sealer, await row(id))!;
    expect(refreshToken, 'the first consent gives a refresh token').toEqual(expect.any(String));

    // Same account, same client, no prompt=consent: Google answers without a refresh token, and
    // the first one still works at Google.
    expect(await connect('google', 'google-twice')).toBe(id);
    const grant = (await sandbox.control.grants()).find((g) =>
      g.refreshTokens.some((r) => r.value === refreshToken),
    )!;
    expect(grant.refreshTokens.find((r) => r.value === refreshToken)!.revokedAt).toBeNull();

    expect(openCredentials(t.sealer, await row(id))!.refreshToken).toBe(refreshToken);
    const res = await inject('POST', `/v1/connections/${id}/refresh`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('connected');
  });
});

describe('a Google account that already consented to the client through another integration', () => {
  const view = async (id: string) => (await inject('GET', `/v1/connections/${id}`)).json();

  it('asks for consent when tether holds no refresh token for the end user, so one comes back', async () => {
    const google = await connect('google', 'gmail-after-google');
    expect(openCredentials(t.sealer, await row(google))!.refreshToken).toEqual(expect.any(String));

    const gmail = await connect('gmail', 'gmail-after-google');
    expect(openCredentials(t.sealer, await row(gmail))!.refreshToken).toEqual(expect.any(String));
    expect(await view(gmail)).toMatchObject({ status: 'connected', refreshable: true, lastError: null });
    expect((await inject('POST', `/v1/connections/${gmail}/refresh`)).statusCode).toBe(200);
  });

  describe('when the integration’s own prompt keeps Google from sending a refresh token', () => {
    let id: string;
    let page: string;
    beforeAll(async () => {
      await connect('google', 'no-consent');
      const result = await connectThroughSandbox(t, sandbox.control, {
        integration: 'gmail-no-consent',
        endUserId: 'no-consent',
      });
      expect(result.status, result.body).toBe(200);
      id = result.connectionId!;
      page = result.body;
    });

    it('shows the operator it cannot renew, naming extraAuthorizeParams, and not the end user', async () => {
      expect(openCredentials(t.sealer, await row(id))!.refreshToken).toBeNull();
      const current = await view(id);
      expect(current).toMatchObject({ status: 'connected', refreshable: false });
      expect(current.lastError.code).toBe('no_refresh_token');
      expect(current.lastError.message).toContain('extraAuthorizeParams');
      expect(page).not.toMatch(/extraAuthorizeParams|prompt|refresh token/i);
      const refresh = await inject('POST', `/v1/connections/${id}/refresh`);
      expect(refresh.statusCode, refresh.body).toBe(409);
      expect(refresh.json().error.code).toBe('refresh_not_supported');
    });

    it('becomes reauthorization_required when Google rejects its access token', async () => {
      const { accessToken } = openCredentials(t.sealer, await row(id))!;
      await sandbox.control.revoke({ accessToken });
      const res = await inject('GET', `/v1/proxy/${id}/gmail/v1/users/me/profile`);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error.code).toBe('reauthorization_required');
      const after = await row(id);
      expect(after.status).toBe('reauthorization_required');
      expect(after.credentialsSealed).toBeNull();
      expect((await view(id)).refreshable).toBe(false);
    });
  });

  it('becomes reauthorization_required once its access token expires', async () => {
    await connect('google', 'expires');
    const id = await connect('gmail-no-consent', 'expires');
    expect((await view(id)).refreshable).toBe(false);
    await t.database.db
      .update(connections)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connections.id, id));
    const res = await inject('GET', `/v1/connections/${id}/access-token`);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('reauthorization_required');
    expect((await row(id)).status).toBe('reauthorization_required');
  });
});
