import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, freePort, launchBrowser, screenshot } from '../harness/browser.ts';
import { createSandboxIntegration, startSandbox } from '../harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../harness/tether.ts';

// @tether/client's browser helper on a host app's page (its own origin), in chromium: the
// connect link opens in a popup, the person approves at the sandbox, and the helper resolves with
// the new connection once tether sends the popup back to the host's redirectUrl.

describe.skipIf(!browserAvailable())('connectInPopup', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let host: Server;
  let hostUrl: string;
  let browser: Browser;
  const helper = stripTypeScriptTypes(
    readFileSync(new URL('../../packages/client/src/browser.ts', import.meta.url), 'utf8'),
  );

  beforeAll(async () => {
    sandbox = await startSandbox();
    const port = await freePort();
    t = await startTestTether({ listen: true, env: { PORT: String(port) } });
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
    host = createServer(async (req, res) => {
      if (req.url === '/browser.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(helper);
        return;
      }
      if (req.url?.startsWith('/done')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>done</p>');
        return;
      }
      // The host app's server makes the connect session (it holds the API key).
      const session = await t.app.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: t.auth,
        payload: { integration: 'google', endUserId: 'popup-user', redirectUrl: `${hostUrl}/done` },
      });
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<!doctype html><button id="connect">Connect Google</button>
<script type="module">
import { connectInPopup } from '/browser.js';
document.getElementById('connect').onclick = async () => {
  const outcome = await connectInPopup(${JSON.stringify(session.json().url)});
  document.body.dataset.outcome = JSON.stringify(outcome);
};
</script>`);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostUrl = `http://127.0.0.1:${(host.address() as { port: number }).port}`;
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => host?.close(resolve));
    await t?.close();
    await sandbox?.close();
  });

  it('resolves with the connection once the person approves in the popup, and closes it', async () => {
    const page = await browser.newPage();
    await page.goto(hostUrl);
    const popupOpened = page.waitForEvent('popup');
    await page.click('#connect');
    const popup = await popupOpened;
    await popup.waitForSelector('button[value=approve]');
    await screenshot(popup, 'connect-popup-consent');
    await popup.click('button[value=approve]');
    await expect.poll(() => page.evaluate('document.body.dataset.outcome'), { timeout: 20_000 }).toBeTruthy();
    const outcome = JSON.parse((await page.evaluate('document.body.dataset.outcome')) as string);
    expect(outcome).toMatchObject({ status: 'connected', connectionId: expect.stringMatching(/^conn_/) });
    expect(popup.isClosed()).toBe(true);
    const connection = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${outcome.connectionId}`,
      headers: t.auth,
    });
    expect(connection.json()).toMatchObject({ status: 'connected', endUserId: 'popup-user' });
  });
});
