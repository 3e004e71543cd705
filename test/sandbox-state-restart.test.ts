import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { makeLogger } from '../src/logger.ts';
import { startTether, type Tether } from '../src/runtime.ts';
import { SandboxControl } from '../src/sandbox/index.ts';
import { connectThroughSandbox } from './harness/sandbox-connect.ts';
import type { TestTether } from './harness/tether.ts';

// `npm start` twice on one data dir: the embedded sandbox keeps its grants, tokens and datasets
// in the data dir (sandbox.json), so a connection made before the restart still refreshes after
// it instead of turning reauthorization_required. Always the embedded default: that is the case.

const dataDir = mkdtempSync(join(tmpdir(), 'tether-sandbox-state-'));
const apiKey = `tk_test_${randomBytes(12).toString('hex')}`;
const encryptionKey = randomBytes(32).toString('base64');
const auth = { authorization: `Bearer ${apiKey}` };
let running: Tether | undefined;
afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function start(): Promise<Tether> {
  const config = loadConfig({
    TETHER_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TETHER_API_KEY: apiKey,
    TETHER_ENCRYPTION_KEYS: encryptionKey,
    TETHER_SHUTDOWN_TIMEOUT_MS: '3000',
  });
  expect(config.sandbox).toBe(true);
  running = await startTether(config, {
    logger: makeLogger({ level: 'silent' }),
    jobPollingIntervalSeconds: 0.5,
  });
  return running;
}

async function stop(t: Tether): Promise<void> {
  await t.stop();
  running = undefined;
}

describe('the embedded sandbox across a restart', () => {
  it('keeps the grant, so the connection refreshes after the restart', { timeout: 120_000 }, async () => {
    const first = await start();
    const control = new SandboxControl(`${first.url}/sandbox`);
    const { connectionId, status } = await connectThroughSandbox(
      { app: first.app, auth } as TestTether,
      control,
      {
        integration: 'sandbox-google',
        endUserId: 'restart-1',
      },
    );
    expect(status).toBe(200);
    const account = (await control.accounts()).google[0]!.sub;
    await control.sizeDataset('google', 'messages', { account, count: 40, seed: 'kept' });
    const changed = await control.changeDataset('google', 'messages', {
      account,
      added: 3,
      updated: 2,
      deleted: 1,
      seed: 'c',
    });
    const before = await first.app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/access-token`,
      headers: auth,
    });
    expect(before.statusCode, before.body).toBe(200);
    await stop(first);
    expect(JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8'))).toMatchObject({ version: 1 });

    const second = await start();
    const again = new SandboxControl(`${second.url}/sandbox`);
    // A refresh now: the sandbox must still know the refresh token it issued before the restart.
    const refreshed = await second.app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/refresh`,
      headers: auth,
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json()).toMatchObject({ status: 'connected' });
    const token = await second.app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/access-token`,
      headers: auth,
    });
    expect(token.statusCode, token.body).toBe(200);
    expect(token.json().accessToken).not.toBe(before.json().accessToken);
    // The token works against the restored sandbox's API.
    const profile = await fetch(`${second.url}/sandbox/google/gmail/v1/users/me/profile`, {
      headers: { authorization: `Bearer ${token.json().accessToken}` },
    });
    expect(profile.status).toBe(200);
    // The dataset is the same, changes included: sizing it as before changes nothing.
    expect(await again.sizeDataset('google', 'messages', { account, count: 40, seed: 'kept' })).toEqual(
      changed,
    );
    expect((await again.grants()).filter((g) => g.accountId === account && !g.revokedAt)).toHaveLength(1);
    await stop(second);
  });
});
