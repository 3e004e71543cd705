import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SandboxProcess, spawnSandbox } from './harness/sandbox-process.ts';

// `tether sandbox` as people start it: its own process, listed by --help, stopped by SIGTERM with
// exit code 0, and what it was told (datasets, clients, its webhook secrets) still there after a
// restart on the same data dir.

const dataDir = mkdtempSync(join(tmpdir(), 'tether-sandbox-alone-'));
const started: SandboxProcess[] = [];
afterAll(() => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('tether sandbox', () => {
  it('is listed by tether --help', () => {
    const help = execFileSync(process.execPath, ['src/main.ts', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^ {2}sandbox +serve the provider sandbox alone at http:\/\/HOST:PORT\/sandbox/m);
  });

  it('serves the sandbox alone, stops on SIGTERM and keeps its state across a restart', {
    timeout: 300_000,
  }, async () => {
    const first = await spawnSandbox(dataDir);
    started.push(first);
    expect(first.output()).toContain(`TETHER_SANDBOX_URL=${first.sandboxUrl}`);
    const ada = (await first.control.accounts()).google[0]!;
    const sized = await first.control.sizeDataset('google', 'messages', {
      account: ada.sub,
      count: 30,
      seed: 's',
    });
    const changed = await first.control.changeDataset('google', 'messages', {
      account: ada.email,
      added: 2,
      updated: 1,
      deleted: 1,
      seed: 'c',
    });
    expect(changed.historyId).not.toBe(sized.historyId);
    await first.control.registerClient({ provider: 'xero', clientId: 'my-app', clientSecret: 'my-secret' });
    const secrets = (
      (await (await fetch(`${first.sandboxUrl}/_control/webhooks/config`)).json()) as { secrets: unknown }
    ).secrets;
    expect(secrets).toMatchObject({ stripe: expect.stringMatching(/^whsec_/) });
    expect(await first.stop()).toBe(0);

    const second = await spawnSandbox(dataDir);
    started.push(second);
    expect(
      await second.control.sizeDataset('google', 'messages', { account: ada.sub, count: 30, seed: 's' }),
    ).toEqual(changed);
    const clients = (await (await fetch(`${second.sandboxUrl}/_control/clients`)).json()) as {
      clientId: string;
    }[];
    expect(clients.map((c) => c.clientId)).toContain('my-app');
    expect(
      ((await (await fetch(`${second.sandboxUrl}/_control/webhooks/config`)).json()) as { secrets: unknown })
        .secrets,
    ).toEqual(secrets);
    expect(await second.stop()).toBe(0);
  });
});
