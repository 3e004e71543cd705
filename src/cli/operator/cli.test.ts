import { spawn } from 'node:child_process';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeConnectLink,
  connectThroughSandbox,
  createSandboxIntegration,
  startSandbox,
} from '../../../test/harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from '../../../test/harness/tether.ts';
import { waitForEvent } from '../../../test/harness/webhooks.ts';

// The operator CLI as a person or a script runs it: a real `tether` process talking to a
// listening tether over HTTP. Each case checks what it prints and its exit code.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const main = new URL('../../main.ts', import.meta.url).pathname;

describe('tether operator CLI', () => {
  let t: TestTether;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let connectionId: string;
  let env: Record<string, string>;

  /** `tether <args>`, with TETHER_URL and TETHER_API_KEY set; `onLine` sees stdout as it comes. */
  function tether(
    args: string[],
    options: { env?: Record<string, string>; onOutput?: (text: string) => void } = {},
  ) {
    return new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [main, ...args], {
        env: { PATH: process.env.PATH!, ...env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        options.onOutput?.(stdout);
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    t = await startTestTether({ listen: true });
    await createSandboxIntegration(t, sandbox.server.url, { key: 'google', provider: 'google' });
    await createSandboxIntegration(t, sandbox.server.url, {
      key: 'gmail',
      provider: 'gmail',
      sandboxProvider: 'google',
    });
    connectionId = (
      await connectThroughSandbox(t, sandbox.control, { integration: 'google', endUserId: 'cli-1' })
    ).connectionId!;
    env = { TETHER_URL: t.url, TETHER_API_KEY: t.auth.authorization.slice('Bearer '.length) };
  });
  afterAll(async () => {
    await t?.close();
    await sandbox?.close();
  });

  it('prints tables for people and JSON for scripts', async () => {
    const table = await tether(['connections', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PROVIDER/);
    expect(table.stdout).toMatch(new RegExp(`${connectionId}\\s+connected\\s+google`));
    const json = await tether(['connections', 'list', '--json', '--status', 'connected']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((c: { id: string }) => c.id)).toContain(connectionId);
    const show = await tether(['connections', 'show', connectionId]);
    expect(show.stdout).toMatch(/^status\s+connected$/m);
    const integrations = JSON.parse((await tether(['integrations', 'list', '--json'])).stdout);
    expect(integrations.map((i: { key: string }) => i.key)).toContain('google');
  });

  it('refreshes and disconnects a connection', async () => {
    const other = (
      await connectThroughSandbox(t, sandbox.control, { integration: 'google', endUserId: 'cli-2' })
    ).connectionId!;
    const refreshed = await tether(['connections', 'refresh', other, '--json']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(JSON.parse(refreshed.stdout).status).toBe('connected');
    const gone = await tether(['connections', 'disconnect', other]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/^status\s+disconnected$/m);
  });

  it('exits 1 with one line naming the error code when tether refuses', async () => {
    const missing = await tether(['connections', 'show', 'conn_missing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^tether: not_found: /);
    const wrongKey = await tether(['connections', 'list'], {
      env: { TETHER_API_KEY: 'tk_wrong_wrong_wrong' },
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^tether: unauthorized: /);
    const down = await tether(['connections', 'list'], { env: { TETHER_URL: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach tether/);
  });

  it('exits 2 on bad usage, and --help is complete', async () => {
    expect((await tether(['connections', 'show'])).code).toBe(2);
    expect((await tether(['connections', 'list', '--bogus'])).code).toBe(2);
    expect((await tether(['connections', 'list', '--limit', 'ten'])).code).toBe(2);
    expect((await tether(['connections', 'frobnicate'])).code).toBe(2);
    const help = await tether(['connections', 'list', '--help']);
    expect(help.code).toBe(0);
    for (const option of [
      '--status',
      '--integration',
      '--end-user',
      '--limit',
      '--url',
      '--api-key',
      '--json',
    ])
      expect(help.stdout).toContain(option);
    const all = await tether(['--help'], { env: {} });
    expect(all.code).toBe(0);
    for (const command of [
      'serve',
      'migrate',
      'keys rotate',
      'connections list',
      'connect <integration>',
      'audit tail',
    ])
      expect(all.stdout).toContain(command);
  });

  /** Runs `tether connect` and answers the consent page of the link it prints. */
  async function connectWith(endUserId: string, decision: 'approve' | 'deny') {
    let completing: Promise<unknown> | undefined;
    const run = await tether(['connect', 'google', '--end-user', endUserId, '--timeout', '20'], {
      onOutput: (text) => {
        const url = /(http:\/\/\S+\/connect\/\S+)\n/.exec(text)?.[1];
        if (url)
          completing ??= completeConnectLink(t, sandbox.control, url, {
            integration: 'google',
            endUserId,
            decision,
          });
      },
    });
    await completing;
    return run;
  }

  it('connect prints the link and waits for the outcome', async () => {
    const connected = await connectWith('cli-3', 'approve');
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toMatch(/connected: conn_/);
    const denied = await connectWith('cli-4', 'deny');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/failed: access_denied/);
  }, 60_000);

  it("lists a connection's syncs, runs one to its end with progress, and shows the run", async () => {
    const account = (await sandbox.control.accounts()).google[0]!.sub;
    await sandbox.control.sizeDataset('google', 'messages', { account, count: 250, seed: 'cli' });
    const gmail = (
      await connectThroughSandbox(t, sandbox.control, { integration: 'gmail', endUserId: 'cli-sync' })
    ).connectionId!;
    const list = await tether(['syncs', 'list', gmail]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/gmail-messages\s+messages\s+true/);
    const run = await tether(['syncs', 'run', gmail, 'gmail-messages']);
    expect(run.code, run.stderr).toBe(0);
    // Not a terminal: plain progress lines, the last one the end.
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^succeeded\s+\d+ pages, 250 records \(250 new/);
    const runs = JSON.parse((await tether(['sync-runs', 'list', '--connection', gmail, '--json'])).stdout);
    expect(runs[0]).toMatchObject({ sync: 'gmail-messages', status: 'succeeded', counts: { imported: 250 } });
    const show = await tether(['sync-runs', 'show', runs[0].id]);
    expect(show.stdout).toMatch(/^imported\s+250$/m);
    expect((await tether(['syncs', 'run', gmail, 'no-such-sync'])).stderr).toMatch(/^tether: unknown_sync: /);
    const reset = await tether(['syncs', 'reset', gmail, 'gmail-messages', '--json']);
    expect(reset.code, reset.stderr).toBe(0);
  }, 60_000);

  it('adds, lists and removes event subscriptions', async () => {
    const added = await tether([
      'subscriptions',
      'add',
      '--endpoint',
      'http://127.0.0.1:9/hooks',
      '--events',
      'sync.completed,sync.failed',
      '--json',
    ]);
    expect(added.code, added.stderr).toBe(0);
    const subscription = JSON.parse(added.stdout);
    expect(subscription.secret).toMatch(/^whsec_/);
    const list = await tether(['subscriptions', 'list']);
    expect(list.stdout).toMatch(
      new RegExp(`${subscription.id}\\s+http://127.0.0.1:9/hooks\\s+sync.completed,sync.failed\\s+true`),
    );
    expect(list.stdout).not.toContain(subscription.secret);
    const bad = await tether(['subscriptions', 'add', '--endpoint', 'ftp://x', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tether: (validation_failed|invalid_event_url): /);
    expect((await tether(['subscriptions', 'add'])).code).toBe(2);
    expect((await tether(['subscriptions', 'remove', subscription.id])).code).toBe(0);
  });

  it('adds, shows and removes an integration', async () => {
    const added = await tether([
      'integrations',
      'add',
      '--key',
      'stripe-cli',
      '--provider',
      'stripe',
      '--body',
      '{"webhookSecrets":["whsec_cli_test"]}',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^key\s+stripe-cli$/m);
    const shown = JSON.parse((await tether(['integrations', 'show', 'stripe-cli', '--json'])).stdout);
    expect(shown).toMatchObject({ key: 'stripe-cli', provider: 'stripe' });
    expect(JSON.stringify(shown)).not.toContain('whsec_cli_test');
    const refused = await tether(['integrations', 'add', '--key', 'x', '--provider', 'nope']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tether: validation_failed: /);
    expect((await tether(['integrations', 'add', '--body', '{not json'])).code).toBe(2);
    expect((await tether(['integrations', 'remove', 'stripe-cli'])).stdout).toBe('removed stripe-cli\n');
    expect((await tether(['integrations', 'show', 'stripe-cli'])).code).toBe(1);
  });

  it('lists, shows and replays inbound events', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/v1/integrations',
      headers: t.auth,
      payload: { key: 'stripe-events', provider: 'stripe', webhookSecrets: ['whsec_cli_events'] },
    });
    const body = JSON.stringify({
      id: 'evt_cli_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: { object: { id: 'pi_cli_1', object: 'payment_intent', amount: 100, currency: 'usd' } },
    });
    const stripe = new Stripe('sk_test_unused');
    const received = await t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe-events',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({
          payload: body,
          secret: 'whsec_cli_events',
        }),
      },
      payload: body,
    });
    expect(received.statusCode).toBe(200);
    const row = await waitForEvent(t, { eventId: 'evt_cli_1' });
    const list = await tether(['events', 'list', '--integration', 'stripe-events']);
    expect(list.stdout).toMatch(new RegExp(`${row.id}\\s+processed\\s+stripe\\s+payment_intent.succeeded`));
    const shown = JSON.parse((await tether(['events', 'show', row.id, '--json'])).stdout);
    expect(shown).toMatchObject({ eventId: 'evt_cli_1', payload: { id: 'evt_cli_1' } });
    const replayed = await tether(['events', 'replay', row.id]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/^status\s+pending$/m);
    expect((await tether(['events', 'replay', 'evt_missing'])).stderr).toMatch(/^tether: not_found: /);
  });

  it('tails the audit log, and --follow prints new entries as they come', async () => {
    const audit = await tether(['audit', 'tail', '--limit', '3']);
    expect(audit.code).toBe(0);
    expect(audit.stdout.trim().split('\n')).toHaveLength(3);
    for (const line of audit.stdout.trim().split('\n'))
      expect(line).toMatch(/^\S+Z\s+\S+\s+[a-z_]+\.[a-z_.]+/);
    const created = await tether(['audit', 'tail', '--action', 'connection.created', '--limit', '1']);
    expect(created.stdout).toMatch(/connection\.created\s+connection conn_/);

    const child = spawn(
      process.execPath,
      [main, 'audit', 'tail', '--follow', '--action', 'connection.created', '--limit', '1'],
      {
        env: { PATH: process.env.PATH!, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    try {
      await expect.poll(() => output.split('\n').filter(Boolean).length, { timeout: 15_000 }).toBe(1);
      const fresh = await connectThroughSandbox(t, sandbox.control, {
        integration: 'google',
        endUserId: 'cli-follow',
      });
      await expect.poll(() => output, { timeout: 15_000 }).toContain(fresh.connectionId!);
    } finally {
      child.kill('SIGTERM');
    }
  }, 45_000);
});
