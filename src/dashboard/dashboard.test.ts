import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startEventReceiver } from '../../test/harness/event-receiver.ts';
import { connectThroughSandbox } from '../../test/harness/sandbox-connect.ts';
import { useSandboxTether } from '../../test/harness/sandbox-tether.ts';
import { createWebhookIntegration, waitForEvent } from '../../test/harness/webhooks.ts';

// The operator dashboard, driven as a browser would: forms, cookies and redirects. Its pages read
// through tether's own API, so what they show is checked against the state the API reports.

const ADMIN_PASSWORD = 'a long admin password';
const env = useSandboxTether([{ key: 'google', provider: 'google' }], {
  endUserPrefix: 'dash',
  env: { TETHER_ADMIN_PASSWORD: ADMIN_PASSWORD },
});

type Answer = { statusCode: number; headers: Record<string, unknown>; body: string };

function setCookies(res: Answer): string[] {
  const header = res.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
}
const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;
const hidden = (body: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(body)?.[1];

/** Opens the sign-in form and signs in with `secret`; the answer and the session cookie. */
async function signIn(secret: string): Promise<{ res: Answer; cookie?: string; csrf?: string }> {
  const form = await env.t.app.inject({ method: 'GET', url: '/dashboard/sign-in' });
  const formCookie = cookiePair(setCookies(form)[0]!);
  const res = await env.t.app.inject({
    method: 'POST',
    url: '/dashboard/sign-in',
    headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: hidden(form.body, '_csrf')!, secret }).toString(),
  });
  const session = setCookies(res).find((c) => c.startsWith('tether_dashboard='));
  if (!session || res.statusCode !== 303) return { res };
  const cookie = cookiePair(session);
  const home = await env.t.app.inject({ method: 'GET', url: '/dashboard', headers: { cookie } });
  return { res, cookie, csrf: hidden(home.body, '_csrf') };
}

const get = (url: string, cookie?: string) =>
  env.t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
const post = (
  url: string,
  cookie: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  env.t.app.inject({
    method: 'POST',
    url,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(form).toString(),
  });
const connection = async (id: string) =>
  (await env.t.app.inject({ method: 'GET', url: `/v1/connections/${id}`, headers: env.t.auth })).json();

describe('dashboard sign-in', () => {
  it('sends a visitor without a session to the sign-in page, with the security headers', async () => {
    const res = await get('/dashboard/connections');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/dashboard/sign-in');
    const page = await get('/dashboard/sign-in');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('signs in with the API key into an HttpOnly, SameSite, expiring cookie', async () => {
    const { res, cookie } = await signIn(env.t.auth.authorization.replace('Bearer ', ''));
    expect(res.statusCode, res.body).toBe(303);
    const session = setCookies(res).find((c) => c.startsWith('tether_dashboard='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Max-Age=28800/);
    expect(session).toMatch(/; Path=\/dashboard/);
    const home = await get('/dashboard', cookie);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<h1>Overview</h1>');
  });

  it('signs in with TETHER_ADMIN_PASSWORD too, and refuses a wrong secret', async () => {
    expect((await signIn(ADMIN_PASSWORD)).cookie).toBeDefined();
    const wrong = await signIn('not the password at all');
    expect(wrong.res.statusCode).toBe(401);
    expect(wrong.cookie).toBeUndefined();
    expect(wrong.res.body).toContain('not the API key or the admin password');
  });

  it('refuses a sign-in form posted without its own token (login CSRF)', async () => {
    const res = await env.t.app.inject({
      method: 'POST',
      url: '/dashboard/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ secret: ADMIN_PASSWORD }).toString(),
    });
    expect(res.statusCode).toBe(403);
    expect(setCookies(res).some((c) => c.startsWith('tether_dashboard='))).toBe(false);
  });

  it('ends a session on sign-out and when it expires', async () => {
    const a = await signIn(ADMIN_PASSWORD);
    const out = await post('/dashboard/sign-out', a.cookie!, { _csrf: a.csrf! });
    expect(out.statusCode).toBe(303);
    expect((await get('/dashboard', a.cookie)).statusCode).toBe(303);

    const b = await signIn(ADMIN_PASSWORD);
    await env.t.database.withSession((s) =>
      s.query(`update dashboard_sessions set expires_at = now() - interval '1 second'`),
    );
    expect((await get('/dashboard', b.cookie)).headers.location).toBe('/dashboard/sign-in');
  });
});

describe('dashboard actions', () => {
  it("refuses an action without the CSRF token, with another session's token, or from another origin", async () => {
    const id = await env.connect('google');
    const mine = await signIn(ADMIN_PASSWORD);
    const theirs = await signIn(ADMIN_PASSWORD);
    const url = `/dashboard/connections/${id}/disconnect`;
    expect((await post(url, mine.cookie!, {})).statusCode).toBe(403);
    expect((await post(url, mine.cookie!, { _csrf: theirs.csrf! })).statusCode).toBe(403);
    expect(
      (await post(url, mine.cookie!, { _csrf: mine.csrf! }, { origin: 'https://evil.example' })).statusCode,
    ).toBe(403);
    expect((await connection(id)).status).toBe('connected');
    // The same form with its token works.
    const ok = await post(url, mine.cookie!, { _csrf: mine.csrf! });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/dashboard/connections/${id}?done=disconnected`);
    expect((await connection(id)).status).toBe('disconnected');
  });

  it('lists connections with their status and refreshes one on request', async () => {
    const id = await env.connect('google');
    const { cookie, csrf } = await signIn(ADMIN_PASSWORD);
    const list = await get('/dashboard/connections?status=connected', cookie);
    expect(list.body).toContain(`/dashboard/connections/${id}`);
    const before = (await connection(id)).lastRefreshAt;
    const res = await post(`/dashboard/connections/${id}/refresh`, cookie!, { _csrf: csrf! });
    expect(res.headers.location).toBe(`/dashboard/connections/${id}?done=refreshed`);
    const after = await connection(id);
    expect(after.lastRefreshAt).not.toBe(before);
    const page = await get(res.headers.location as string, cookie);
    expect(page.body).toContain('The access token was refreshed.');
    expect(page.body).toContain('connected');
  });

  it('shows why a connection needs reconnecting, in plain words, and makes a connect link for it', async () => {
    const id = await env.connect('google');
    await env.control.revoke({ accountId: (await connection(id)).providerAccountId, provider: 'google' });
    const { cookie, csrf } = await signIn(ADMIN_PASSWORD);
    const refresh = await post(`/dashboard/connections/${id}/refresh`, cookie!, { _csrf: csrf! });
    expect(refresh.headers.location).toBe(`/dashboard/connections/${id}?failed=reauthorization_required`);
    expect((await connection(id)).status).toBe('reauthorization_required');
    const page = await get(refresh.headers.location as string, cookie);
    expect(page.body).toContain('reauthorization required');
    expect(page.body).toContain('The account owner must connect again');
    const reconnect = await post(`/dashboard/connections/${id}/reconnect`, cookie!, { _csrf: csrf! });
    expect(reconnect.statusCode).toBe(200);
    expect(reconnect.body).toMatch(/href="http[^"]+\/connect\/[^"]+"/);
  });

  it('escapes what end users and providers control', async () => {
    const endUserId = '<img src=x onerror=alert(1)>';
    const result = await connectThroughSandbox(env.t, env.control, { integration: 'google', endUserId });
    expect(result.status).toBe(200);
    const { cookie } = await signIn(ADMIN_PASSWORD);
    const page = await get(`/dashboard/connections/${result.connectionId}`, cookie);
    expect(page.body).not.toContain(endUserId);
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('answers a page for a connection that does not exist with 404, not a 500', async () => {
    const { cookie } = await signIn(ADMIN_PASSWORD);
    const res = await get('/dashboard/connections/conn_missing', cookie);
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('notice error');
  });
});

describe('dashboard webhook inbox', () => {
  it('shows an event with its secrets redacted and replays it', async () => {
    const secret = 'whsec_dashboard_test';
    await createWebhookIntegration(env.t, {
      key: 'stripe-dash',
      provider: 'stripe',
      webhookSecrets: [secret],
    });
    const body = JSON.stringify({
      id: 'evt_dash_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: {
        object: {
          id: 'pi_dash_1',
          object: 'payment_intent',
          client_secret: 'pi_dash_secret_XYZ',
          amount: 500,
        },
      },
    });
    const stripe = new Stripe('sk_test_unused');
    const received = await env.t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe-dash',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret }),
      },
      payload: body,
    });
    expect(received.statusCode).toBe(200);
    const row = await waitForEvent(env.t, { eventId: 'evt_dash_1' });
    const { cookie, csrf } = await signIn(ADMIN_PASSWORD);
    const list = await get('/dashboard/inbox?status=processed', cookie);
    expect(list.body).toContain('evt_dash_1');
    const page = await get(`/dashboard/inbox/${row.id}`, cookie);
    expect(page.body).toContain('pi_dash_1');
    expect(page.body).not.toContain('pi_dash_secret_XYZ');
    const replay = await post(`/dashboard/inbox/${row.id}/replay`, cookie!, { _csrf: csrf! });
    expect(replay.headers.location).toBe(`/dashboard/inbox/${row.id}?done=replayed`);
    await waitForEvent(env.t, { eventId: 'evt_dash_1' });
    const audit = await env.t.app.inject({
      method: 'GET',
      url: `/v1/audit?action=webhook.replayed&subjectId=${row.id}`,
      headers: env.t.auth,
    });
    expect(audit.json().items).toHaveLength(1);
  });
});

describe('dashboard event subscriptions', () => {
  it('shows a subscription with its deliveries, retries one, rotates the secret, recovers and disables', async () => {
    const receiver = await startEventReceiver();
    try {
      const created = await env.t.app.inject({
        method: 'POST',
        url: '/v1/event-subscriptions',
        headers: env.t.auth,
        payload: { url: receiver.url, events: ['connection.created'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const subscription = created.json();
      await env.connect('google');
      await receiver.waitFor(1, 20_000);
      const { cookie, csrf } = await signIn(ADMIN_PASSWORD);
      expect((await get('/dashboard/subscriptions', cookie)).body).toContain(subscription.id);
      // The receiver has the request before tether records its answer: retrying in between is a
      // 409 (an attempt in flight), so wait for the recorded success.
      let delivery: { id: string; eventId: string; status: string } | undefined;
      for (let i = 0; i < 100 && delivery?.status !== 'succeeded'; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        const deliveries = await env.t.app.inject({
          method: 'GET',
          url: `/v1/event-subscriptions/${subscription.id}/deliveries`,
          headers: env.t.auth,
        });
        delivery = deliveries.json().items[0];
      }
      if (!delivery) throw new Error('no delivery listed');
      const page = await get(`/dashboard/subscriptions/${subscription.id}`, cookie);
      expect(page.body).toContain(delivery.eventId);
      expect(page.body).not.toContain(subscription.secret);
      const retried = await post(`/dashboard/deliveries/${delivery.id}/retry`, cookie!, {
        _csrf: csrf!,
        subscription: subscription.id,
      });
      expect(retried.headers.location).toBe(
        `/dashboard/subscriptions/${subscription.id}?done=delivery_retried`,
      );
      const rotated = await post(`/dashboard/subscriptions/${subscription.id}/rotate-secret`, cookie!, {
        _csrf: csrf!,
      });
      expect(rotated.statusCode).toBe(200);
      expect(rotated.body).toMatch(/whsec_[A-Za-z0-9+/=]+/);
      const recovered = await post(`/dashboard/subscriptions/${subscription.id}/recover`, cookie!, {
        _csrf: csrf!,
        since: '2020-01-01T00:00',
      });
      expect(recovered.headers.location).toBe(`/dashboard/subscriptions/${subscription.id}?done=recovered`);
      const disabled = await post(`/dashboard/subscriptions/${subscription.id}/disable`, cookie!, {
        _csrf: csrf!,
      });
      expect(disabled.headers.location).toBe(
        `/dashboard/subscriptions/${subscription.id}?done=subscription_updated`,
      );
      const after = await env.t.app.inject({
        method: 'GET',
        url: `/v1/event-subscriptions/${subscription.id}`,
        headers: env.t.auth,
      });
      expect(after.json().enabled).toBe(false);
    } finally {
      await receiver.close();
    }
  });
});
