import type { Browser, Page } from 'playwright-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, freePort, launchBrowser, screenshot } from '../harness/browser.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from '../harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../harness/tether.ts';
import { createWebhookIntegration, waitForEvent } from '../harness/webhooks.ts';

// The dashboard in a real browser (Debian's chromium through playwright-core), against a
// listening tether and a standalone sandbox: the connect flow goes through the real OAuth
// redirects. A screenshot of each page lands in test-output/screenshots/.

const ADMIN_PASSWORD = 'browser test admin password';
const STRIPE_SECRET = 'whsec_browser_test';

describe.skipIf(!browserAvailable())('dashboard in a browser', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sandbox = await startSandbox();
    t = await startTestTether({
      listen: true,
      env: { PORT: String(port), TETHER_ADMIN_PASSWORD: ADMIN_PASSWORD, TETHER_WEBHOOK_MAX_ATTEMPTS: '1' },
    });
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'gmail',
      provider: 'gmail',
      sandboxProvider: 'google',
    });
    await createWebhookIntegration(t, { key: 'stripe', provider: 'stripe', webhookSecrets: [STRIPE_SECRET] });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sandbox?.close();
  });

  it('signs in', async () => {
    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await screenshot(page, 'sign-in');
    await page.fill('input[name=secret]', ADMIN_PASSWORD);
    await page.click('button:has-text("Sign in")');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Overview');
    await screenshot(page, 'overview');
  });

  it('connects a sandbox Google account through the real OAuth redirect and shows it connected', async () => {
    await page.goto(`${base}/dashboard/connections`);
    await page.click('summary:has-text("Connect a new account")');
    await page.selectOption('select[name=integration]', 'google');
    await page.fill('input[name=endUserId]', 'browser-user-1');
    await page.click('button:has-text("Create connect link")');
    await screenshot(page, 'connect-link');
    await page.click('a.connect-link');
    await expect.poll(() => page.content()).toContain('SANDBOX');
    await screenshot(page, 'sandbox-consent');
    await page.click('button[value=approve]');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Connected to Google');
    expect(await page.locator('main p').first().textContent()).toMatch(
      /Your Google account \S+@\S+ is connected/,
    );
    await screenshot(page, 'connect-result');
    await page.goto(`${base}/dashboard/connections?status=connected`);
    expect(await page.locator('td', { hasText: 'browser-user-1' }).count()).toBe(1);
    await screenshot(page, 'connections');
  });

  it('shows reauthorization required, with the reason, after the grant is revoked at the provider', async () => {
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/connections?endUserId=browser-user-1',
      headers: t.auth,
    });
    const connection = list.json().items[0];
    await sandbox.control.revoke({ accountId: connection.providerAccountId, provider: 'google' });
    await page.goto(`${base}/dashboard/connections/${connection.id}`);
    await page.click('button:has-text("Refresh now")');
    await expect.poll(() => page.locator('.badge').first().textContent()).toBe('reauthorization required');
    expect(await page.locator('.notice.error').textContent()).toContain(
      'The account owner must connect again',
    );
    await screenshot(page, 'connection-reauthorization-required');
  });

  it('replays a failed webhook from the inbox', async () => {
    // A payment event whose object has no id: its effect refuses it, and with one attempt it is dead.
    const body = JSON.stringify({
      id: 'evt_browser_dead',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: { object: { object: 'payment_intent', amount: 100 } },
    });
    const stripe = new Stripe('sk_test_unused');
    const answer = await fetch(`${base}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({
          payload: body,
          secret: STRIPE_SECRET,
        }),
      },
      body,
    });
    expect(answer.status).toBe(200);
    await waitForEvent(t, { eventId: 'evt_browser_dead' }, 'dead');
    await page.goto(`${base}/dashboard/inbox?status=dead`);
    await page.click('a:has-text("evt_browser_dead")');
    await screenshot(page, 'inbox-event');
    await page.click('button:has-text("Replay")');
    await expect.poll(() => page.locator('.notice').textContent()).toContain('queued to be processed again');
    await screenshot(page, 'inbox-replayed');
    await page.goto(`${base}/dashboard/audit?action=webhook.replayed`);
    expect(await page.locator('td', { hasText: 'webhook.replayed' }).count()).toBe(1);
    await screenshot(page, 'audit-log');
  });

  it("runs a sync from a connection's page and shows the run's counts", async () => {
    const account = (await sandbox.control.accounts()).google[1]!.sub;
    await sandbox.control.sizeDataset('google', 'messages', { account, count: 120, seed: 'browser' });
    const { connectionId } = await connectThroughSandbox(t, sandbox.control, {
      integration: 'gmail',
      endUserId: 'browser-sync',
      account,
    });
    await page.goto(`${base}/dashboard/connections/${connectionId}`);
    await page.click('button:has-text("Run now")');
    await expect.poll(() => page.locator('.notice').textContent()).toContain('sync run was started');
    await screenshot(page, 'connection-syncs');
    await expect
      .poll(
        async () => {
          await page.goto(`${base}/dashboard/sync-runs?connectionId=${connectionId}`);
          return page.locator('td .badge').first().textContent();
        },
        { timeout: 30_000 },
      )
      .toBe('succeeded');
    await screenshot(page, 'sync-runs');
    await page.click(`a[href^="/dashboard/sync-runs/"]`);
    expect(await page.locator('.card', { hasText: 'imported' }).locator('.figure').textContent()).toBe('120');
    await screenshot(page, 'sync-run');
    await page.goto(`${base}/dashboard/connections/${connectionId}?model=messages`);
    expect(await page.locator('h2', { hasText: 'Records: messages' }).count()).toBe(1);
    await screenshot(page, 'connection-records');
  });

  it('fits a phone: no page is wider than the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.context().addCookies(await page.context().cookies());
    for (const path of [
      '/dashboard',
      '/dashboard/connections',
      '/dashboard/inbox',
      '/dashboard/sync-runs',
      '/dashboard/subscriptions',
      '/dashboard/audit',
    ]) {
      await phone.goto(`${base}${path}`);
      const width = await phone.evaluate('document.documentElement.scrollWidth');
      expect(width, path).toBeLessThanOrEqual(390);
      await screenshot(phone, `phone${path.replaceAll('/', '-')}`);
    }
    await phone.close();
  });
});
