import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectThroughSandbox,
  cookiesFrom,
  createSandboxIntegration,
  startSandbox,
} from '../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { connections, connectSessions } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';

const APP = 'https://app.example.com';

describe('the connect flow', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether({ env: { TETHER_ALLOWED_REDIRECT_ORIGINS: APP } });
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
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; url: string; expiresAt: string };
  };
  const start = async (url: string) => t.app.inject({ method: 'GET', url: new URL(url).pathname });
  /** Opens the connect link in a browser and consents at the sandbox: the callback path and the browser's cookie. */
  const consent = async (url: string, decision: 'approve' | 'deny' = 'approve') => {
    const opened = await start(url);
    expect(opened.statusCode, opened.body).toBe(302);
    const redirect = await sandbox.control.authorize(opened.headers.location as string, { decision });
    const callback = new URL(redirect.location);
    return { callbackPath: `${callback.pathname}${callback.search}`, cookie: cookiesFrom(opened) };
  };
  const finish = (callbackPath: string, cookie?: string) =>
    t.app.inject({ method: 'GET', url: callbackPath, headers: cookie ? { cookie } : {} });
  const sessionRow = async (id: string) =>
    (await t.database.db.select().from(connectSessions).where(eq(connectSessions.id, id)))[0]!;
  const connectionsOf = (endUserId: string) =>
    t.database.db.select().from(connections).where(eq(connections.endUserId, endUserId));
  const outcome = async (id: string) =>
    t.app.inject({ method: 'GET', url: `/v1/connect-sessions/${id}`, headers: t.auth });

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
    expect(result.body).toContain('access_denied');
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
    const replay = await finish(result.callbackUrl, result.cookie);
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('state_reused');
  });

  it('refuses a forged state and a missing one', async () => {
    const forged = await finish('/oauth/callback?code=abc&state=forged-state-value');
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('state_unknown');
    const missing = await finish('/oauth/callback?code=abc');
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('missing_state');
  });

  it('refuses an expired session, at the start and at the callback', async () => {
    const session = await newSession('erin');
    await t.database.db
      .update(connectSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connectSessions.id, session.id));
    const res = await start(session.url);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('session_expired');

    const late = await newSession('erin-late');
    const { callbackPath, cookie } = await consent(late.url);
    await t.database.db
      .update(connectSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(connectSessions.id, late.id));
    const answer = await finish(callbackPath, cookie);
    expect(answer.statusCode).toBe(410);
    expect((await sessionRow(late.id)).status).toBe('expired');
  });

  it('fails the exchange when the PKCE verifier does not match the challenge', async () => {
    const session = await newSession('frank');
    const { callbackPath, cookie } = await consent(session.url);
    await t.database.db
      .update(connectSessions)
      .set({
        codeVerifierSealed: t.sealer.seal('x'.repeat(64), sealContext.connectSessionCodeVerifier(session.id)),
      })
      .where(eq(connectSessions.id, session.id));
    const res = await finish(callbackPath, cookie);
    expect(res.statusCode).toBe(502);
    expect(res.body).toContain('exchange_failed');
    expect(await sessionRow(session.id)).toMatchObject({
      status: 'failed',
      error: { code: 'exchange_failed' },
    });
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

  describe('bound to the browser that opened the link', () => {
    it('gives that browser a short-lived HttpOnly, SameSite=Lax cookie scoped to the callback', async () => {
      const session = await newSession('cookie-attrs');
      const opened = await start(session.url);
      const header = String(opened.headers['set-cookie']);
      expect(header).toMatch(new RegExp(`^tether_connect_${session.id}=[\\w-]{43};`));
      const attributes = header.split(';').map((a) => a.trim().toLowerCase());
      expect(attributes).toContain('httponly');
      expect(attributes).toContain('samesite=lax');
      expect(attributes).toContain('path=/oauth/callback');
      // Served over http here: Secure would make the browser drop it (https: see connect-cookie.test.ts).
      expect(attributes).not.toContain('secure');
      const maxAge = Number(attributes.find((a) => a.startsWith('max-age='))!.slice('max-age='.length));
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(600);
    });

    it('completes with the cookie and clears it', async () => {
      const session = await newSession('cookie-ok');
      const { callbackPath, cookie } = await consent(session.url);
      const res = await finish(callbackPath, cookie);
      expect(res.statusCode, res.body).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(
        new RegExp(`^tether_connect_${session.id}=; Path=/oauth/callback; Max-Age=0;`),
      );
      expect(await connectionsOf('cookie-ok')).toHaveLength(1);
      expect(t.logs.text()).not.toContain(cookie.split('=')[1]!);
    });

    it('refuses the same authorize URL finished in another browser, and links nothing', async () => {
      const session = await newSession('cookie-victim', `${APP}/back`);
      const { callbackPath, cookie } = await consent(session.url);
      const elsewhere = await finish(callbackPath);
      expect(elsewhere.statusCode).toBe(400);
      expect(elsewhere.headers['content-type']).toMatch(/^text\/html/);
      expect(elsewhere.body).toContain('data-code="browser_mismatch"');
      expect(await connectionsOf('cookie-victim')).toHaveLength(0);
      expect(await sessionRow(session.id)).toMatchObject({
        status: 'failed',
        error: { code: 'browser_mismatch' },
      });
      // The state is spent: the right browser cannot finish it afterwards either.
      expect((await finish(callbackPath, cookie)).statusCode).toBe(400);
      expect(await connectionsOf('cookie-victim')).toHaveLength(0);
    });

    it('refuses a cookie from another session, under its own name or renamed', async () => {
      const other = await newSession('cookie-other');
      const otherCookie = cookiesFrom(await start(other.url));
      const otherValue = otherCookie.split('=')[1]!;

      const first = await newSession('cookie-swapped');
      const a = await consent(first.url);
      const asIs = await finish(a.callbackPath, otherCookie);
      expect(asIs.statusCode).toBe(400);
      expect(asIs.body).toContain('browser_mismatch');

      const second = await newSession('cookie-renamed');
      const b = await consent(second.url);
      const renamed = await finish(b.callbackPath, `tether_connect_${second.id}=${otherValue}`);
      expect(renamed.statusCode).toBe(400);
      expect(renamed.body).toContain('browser_mismatch');

      expect(await connectionsOf('cookie-swapped')).toHaveLength(0);
      expect(await connectionsOf('cookie-renamed')).toHaveLength(0);
    });

    it('keeps two flows in one browser apart', async () => {
      const one = await newSession('two-tabs-1');
      const two = await newSession('two-tabs-2');
      const first = await consent(one.url);
      const second = await consent(two.url);
      const jar = `${first.cookie}; ${second.cookie}`;
      expect((await finish(first.callbackPath, jar)).statusCode).toBe(200);
      expect((await finish(second.callbackPath, jar)).statusCode).toBe(200);
    });
  });

  describe('with a redirectUrl', () => {
    const backFrom = (res: { statusCode: number; headers: Record<string, unknown> }) => {
      expect(res.statusCode).toBe(302);
      return new URL(res.headers.location as string);
    };

    it('sends the person back with the connection id, keeping the app’s own query parameters', async () => {
      const session = await newSession('grace', `${APP}/connected?from=onboarding`);
      const { callbackPath, cookie } = await consent(session.url);
      const back = backFrom(await finish(callbackPath, cookie));
      expect(back.origin + back.pathname).toBe(`${APP}/connected`);
      expect(back.searchParams.get('from')).toBe('onboarding');
      expect(back.searchParams.get('status')).toBe('connected');
      expect(back.searchParams.get('connectionId')).toMatch(/^conn_/);
      const view = (await outcome(session.id)).json();
      expect(view).toMatchObject({
        id: session.id,
        status: 'connected',
        connectionId: back.searchParams.get('connectionId'),
      });
      expect(view.error).toBeUndefined();
    });

    it('sends the person back with status=error when they decline at the consent page', async () => {
      const session = await newSession('heidi', `${APP}/back?step=2`);
      const { callbackPath, cookie } = await consent(session.url, 'deny');
      const back = backFrom(await finish(callbackPath, cookie));
      expect(back.searchParams.get('step')).toBe('2');
      expect(back.searchParams.get('status')).toBe('error');
      expect(back.searchParams.get('code')).toBe('access_denied');
      expect(back.searchParams.get('connectionId')).toBeNull();
      expect((await outcome(session.id)).json()).toMatchObject({
        status: 'failed',
        error: { code: 'access_denied', message: expect.any(String) },
      });
    });

    it('sends the person back with status=error when the code exchange fails', async () => {
      const session = await newSession('ivan', `${APP}/back`);
      const { callbackPath, cookie } = await consent(session.url);
      await t.database.db
        .update(connectSessions)
        .set({
          codeVerifierSealed: t.sealer.seal(
            'y'.repeat(64),
            sealContext.connectSessionCodeVerifier(session.id),
          ),
        })
        .where(eq(connectSessions.id, session.id));
      const back = backFrom(await finish(callbackPath, cookie));
      expect(back.searchParams.get('code')).toBe('exchange_failed');
      expect((await outcome(session.id)).json()).toMatchObject({
        status: 'failed',
        error: { code: 'exchange_failed' },
      });
      expect(await connectionsOf('ivan')).toHaveLength(0);
    });

    it('sends the person back with status=error when the link has expired', async () => {
      const session = await newSession('judy', `${APP}/back`);
      await t.database.db
        .update(connectSessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(connectSessions.id, session.id));
      const back = backFrom(await start(session.url));
      expect(back.searchParams.get('status')).toBe('error');
      expect(back.searchParams.get('code')).toBe('session_expired');
      expect((await outcome(session.id)).json()).toMatchObject({
        status: 'failed',
        error: { code: 'session_expired' },
      });
    });

    it('refuses a redirectUrl outside TETHER_ALLOWED_REDIRECT_ORIGINS', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: t.auth,
        payload: { integration: 'xero', endUserId: 'mallory', redirectUrl: 'https://evil.example.net/x' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('validation_failed');
      expect(res.json().error.message).toContain('redirectUrl');
    });
  });

  describe('GET /v1/connect-sessions/:id', () => {
    it('is pending until the person finishes, then connected with the connection id', async () => {
      const session = await newSession('kate');
      expect((await outcome(session.id)).json()).toEqual({
        id: session.id,
        integration: 'xero',
        endUserId: 'kate',
        status: 'pending',
        expiresAt: session.expiresAt,
        createdAt: expect.any(String),
      });
      const { callbackPath, cookie } = await consent(session.url);
      expect((await outcome(session.id)).json().status).toBe('pending');
      expect((await finish(callbackPath, cookie)).statusCode).toBe(200);
      const [connection] = await connectionsOf('kate');
      expect((await outcome(session.id)).json()).toMatchObject({
        status: 'connected',
        connectionId: connection!.id,
      });
    });

    it('says failed with session_expired for a session nobody finished in time', async () => {
      const session = await newSession('leo');
      await t.database.db
        .update(connectSessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(connectSessions.id, session.id));
      expect((await outcome(session.id)).json()).toMatchObject({
        status: 'failed',
        error: { code: 'session_expired' },
      });
    });

    it('is in the OpenAPI document with its outcome schema', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const route = doc.paths['/v1/connect-sessions/{id}'].get;
      expect(route.summary).toEqual(expect.any(String));
      expect(route.responses['200'].content['application/json'].schema.properties.status.enum).toEqual([
        'pending',
        'connected',
        'failed',
      ]);
    });

    it('answers 404 not_found for an unknown id', async () => {
      const res = await outcome('cs_unknown');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    });

    it('keeps a failed session failed: its link cannot be started again', async () => {
      const session = await newSession('mia');
      const { callbackPath, cookie } = await consent(session.url, 'deny');
      expect((await finish(callbackPath, cookie)).statusCode).toBe(400);
      const again = await start(session.url);
      expect(again.statusCode).toBe(410);
      expect(again.body).toContain('session_used');
      expect((await outcome(session.id)).json().status).toBe('failed');
    });
  });
});

describe('connect sessions in production', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({ env: { NODE_ENV: 'production' } });
    const sandbox = await startSandbox();
    try {
      await createSandboxIntegration(t, sandbox.server.url, { key: 'xero', provider: 'xero' });
    } finally {
      await sandbox.close();
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (redirectUrl?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: t.auth,
      payload: { integration: 'xero', endUserId: 'prod-user', ...(redirectUrl ? { redirectUrl } : {}) },
    });

  it('refuses any redirectUrl while TETHER_ALLOWED_REDIRECT_ORIGINS is unset, naming redirectUrl', async () => {
    const res = await create('https://app.example.com/back');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.json().error.message).toContain('redirectUrl');
    expect((await create()).statusCode).toBe(201);
  });
});
