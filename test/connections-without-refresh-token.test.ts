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
// tether already holds keeps working at Google). None of them is a lost grant.

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
