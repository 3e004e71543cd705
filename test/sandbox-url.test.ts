import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrations } from '../src/db/schema.ts';
import { type SandboxServer, sandboxEndpoints } from '../src/sandbox/index.ts';
import { STANDALONE_STATE_FILE, startStandaloneSandbox } from '../src/sandbox/standalone.ts';
import { makeWebhookSandboxClient } from '../src/sandbox/webhooks/index.ts';
import { freePort } from './harness/sandbox-process.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// TETHER_SANDBOX_URL: tether mounts no sandbox, seeds its sandbox integrations against the one
// running alone, and trusts the webhook secrets that sandbox holds (told by its control API).

const dataDir = mkdtempSync(join(tmpdir(), 'tether-sandbox-url-'));
let sandbox: SandboxServer;
let t: TestTether;
let base: string;

beforeAll(async () => {
  sandbox = await startStandaloneSandbox({ host: '127.0.0.1', port: 0, dataDir });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestTether({ listen: true, env: { TETHER_SANDBOX_URL: sandbox.url, PORT: String(port) } });
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function processed(key: string): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const rows = await t.database.withSession((s) =>
      s.query<{ status: string }>('select status from webhook_events where integration_key = $1', [key]),
    );
    if (rows.length > 0 && rows.every((r) => r.status === 'processed')) return rows.map((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [];
}

describe('tether against a sandbox running alone', () => {
  it('mounts no sandbox of its own and points the sandbox integrations at the one given', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/sandbox/_control/accounts' })).statusCode).toBe(404);
    const rows = await t.database.db.select().from(integrations);
    const google = rows.find((r) => r.key === 'sandbox-google')!;
    const given = Object.fromEntries(
      Object.entries(sandboxEndpoints(sandbox.url).google).filter(([, url]) => url !== undefined),
    );
    expect(google.endpoints).toEqual(given);
    expect(Object.values(given).every((url) => String(url).startsWith(sandbox.url))).toBe(true);
    const pubsub = rows.find((r) => r.key === 'sandbox-gmail-pubsub')!;
    expect(pubsub.endpoints).toMatchObject({ jwksUrl: `${sandbox.url}/google/oauth2/v3/certs` });
  });

  it('accepts what the sandbox sends, signed with the secrets the sandbox holds and tells', async () => {
    const senders = makeWebhookSandboxClient(sandbox.url);
    const config = await senders.config();
    expect(config.secrets).toBeDefined();
    const target = (key: string) => `${base}/webhooks/${key}`;
    const sends = {
      'sandbox-stripe': () =>
        senders.send('stripe', { target: target('sandbox-stripe'), events: [{ type: 'invoice.paid' }] }),
      'sandbox-docusign-connect': () =>
        senders.send('docusign-connect', {
          target: target('sandbox-docusign-connect'),
          events: [{ event: 'envelope-completed' }],
        }),
      'sandbox-paypal': () =>
        senders.send('paypal', {
          target: target('sandbox-paypal'),
          events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
        }),
      'sandbox-gmail-pubsub': () =>
        senders.send('gmail-pubsub', {
          target: target('sandbox-gmail-pubsub'),
          events: [{ emailAddress: 'ada@example.com', historyId: 77 }],
        }),
    };
    for (const [key, send] of Object.entries(sends)) {
      const report = await send();
      expect(
        report.attempts.map((a) => a.status),
        `${key}: ${report.attempts[0]?.body}`,
      ).toEqual([200]);
      expect(await processed(key)).toEqual(['processed']);
    }
    // The sandbox keeps them in its data dir, so a restart of it keeps tether's trust.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const saved = JSON.parse(readFileSync(join(dataDir, STANDALONE_STATE_FILE), 'utf8'));
    expect(saved.webhookSecrets).toEqual(config.secrets);
  });

  it('refuses to start when the sandbox does not answer, saying where it looked', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}/sandbox`;
    await expect(startTestTether({ env: { TETHER_SANDBOX_URL: nowhere } })).rejects.toThrow(
      /could not reach the sandbox at TETHER_SANDBOX_URL.*tether sandbox/,
    );
  });
});
