import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { connections, connectSessions } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';

describe('the connect flow', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether();
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'xero',
      provider: 'xero',
      scopes: ['offline_access', 'accounting.transactions'],
    });
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  const newSession = async (endUserId: string, redirectUrl?: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: t.auth,
      payload: { integration: 'xero', endUserId, ...(redirectUrl ? { redirectUrl } : {}) },
    });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; url: string; expiresAt: string };
  };
  const start = async (url: string) => t.app.inject({ method: 'GET', url: new URL(url).pathname });

  it('connects a Xero account with its tenants, sealed credentials and an audit entry', async () => {
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: 'xero',
      endUserId: 'alice',
    });
    expect(result.status).toBe(200);
    expect(result.body).toContain('Connected');
    const view = (
      await t.app.inject({ method: 'GET', url: `/v1/connections/${result.connectionId}`, headers: t.auth })
    ).json();
    expect(view).toMatchObject({
      integration: 'xero',
      provider: 'xero',
      endUserId: 'alice',
      status: 'connected',
    });
    expect(view.metadata.tenants.length).toBeGreaterThan(0);
    const [row] = await t.database.db
      .select()
      .from(connections)
      .where(eq(connections.id, result.connectionId!));
    expect(row!.credentialsSealed).toMatch(/^tsv1\./);
    const audit = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/audit?subjectId=${result.connectionId}`,
        headers: t.auth,
      })
    ).json();
    expect(audit.items.map((i: { action: string }) => i.action)).toContain('connection.created');
  });

  it('sends state and a PKCE S256 challenge to the provider', async () => {
    const session = await newSession('pkce-user');
    const res = await start(session.url);
    const authorize = new URL(res.headers.location as string);
    expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:0/oauth/callback');
  });

  it('updates the existing connection when the same account reconnects', async () => {
    const first = await connectThroughSandbox(t, sandbox.control, { integration: 'xero', endUserId: 'bob' });
    const second = await connectThroughSandbox(t, sandbox.control, { integration: 'xero', endUserId: 'bob' });
    expect(second.connectionId).toBe(first.connectionId);
    const rows = await t.database.db.select().from(connections).where(eq(connections.endUserId, 'bob'));
    expect(rows).toHaveLength(1);
  });

  it('shows a clear page and fails the session when the person declines', async () => {
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: 'xero',
      endUserId: 'carol',
      decision: 'deny',
    });
    expect(result.status).toBe(400);
    expect(result.body).toContain('declined to connect Xero');
    expect(result.connectionId).toBeUndefined();
    const [session] = await t.database.db
      .select()
      .from(connectSessions)
      .where(eq(connectSessions.endUserId, 'carol'));
    expect(session).toMatchObject({ status: 'failed', error: { code: 'access_denied' } });
  });

  it('refuses a reused state', async () => {
    const result = await connectThroughSandbox(t, sandbox.control, {
      integration: 'xero',
      endUserId: 'dave',
    });
    expect(result.status).toBe(200);
    const replay = await t.app.inject({ method: 'GET', url: result.callbackUrl });
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('already used');
  });

  it('refuses a forged state and a missing one', async () => {
    const forged = await t.app.inject({
      method: 'GET',
      url: '/oauth/callback?code=abc&state=forged-state-value',
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('does not belong');
    expect((await t.app.inject({ method: 'GET', url: '/oauth/callback?code=abc' })).statusCode).toBe(400);
  });

  it('refuses an expired session, at the start and at the callback', async () => {
    const session = await newSession('erin');
    await t.database.db
      .update(connectSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connectSessions.id, session.id));
    const res = await start(session.url);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('expired');

    const late = await newSession('erin-late');
    const authorize = await start(late.url);
    const redirect = await sandbox.control.authorize(authorize.headers.location as string, {
      decision: 'approve',
    });
    await t.database.db
      .update(connectSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connectSessions.id, late.id));
    const callback = new URL(redirect.location);
    const answer = await t.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
    expect(answer.statusCode).toBe(410);
    const [row] = await t.database.db.select().from(connectSessions).where(eq(connectSessions.id, late.id));
    expect(row!.status).toBe('expired');
  });

  it('fails the exchange when the PKCE verifier does not match the challenge', async () => {
    const session = await newSession('frank');
    const authorize = await start(session.url);
    const redirect = await sandbox.control.authorize(authorize.headers.location as string, {
      decision: 'approve',
    });
    await t.database.db
      .update(connectSessions)
      .set({
        codeVerifierSealed: t.sealer.seal('x'.repeat(64), sealContext.connectSessionCodeVerifier(session.id)),
      })
      .where(eq(connectSessions.id, session.id));
    const callback = new URL(redirect.location);
    const res = await t.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
    expect(res.statusCode).toBe(502);
    expect(res.body).toContain('did not complete the sign-in');
    const [row] = await t.database.db
      .select()
      .from(connectSessions)
      .where(eq(connectSessions.id, session.id));
    expect(row).toMatchObject({ status: 'failed', error: { code: 'exchange_failed' } });
  });

  it('sends the person back to the app’s redirect URL with the connection id', async () => {
    const session = await newSession('grace', 'https://app.example.com/connected');
    const authorize = await start(session.url);
    const redirect = await sandbox.control.authorize(authorize.headers.location as string, {
      decision: 'approve',
    });
    const callback = new URL(redirect.location);
    const res = await t.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
    expect(res.statusCode).toBe(302);
    const back = new URL(res.headers.location as string);
    expect(back.origin + back.pathname).toBe('https://app.example.com/connected');
    expect(back.searchParams.get('connectionId')).toMatch(/^conn_/);
    expect(back.searchParams.get('status')).toBe('connected');
  });

  it('answers an unknown connect link with a 404 page and unknown integrations with 404', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/connect/not-a-real-token' })).statusCode).toBe(404);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: t.auth,
      payload: { integration: 'nope', endUserId: 'x' },
    });
    expect(res.statusCode).toBe(404);
  });
});
