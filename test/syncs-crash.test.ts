import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, runStatement, statement } from '../src/db/client.ts';
import { makeMailbox } from '../src/sandbox/datasets/gmail-mailbox.ts';
import type { SyncRunRow } from '../src/syncs/run-store.ts';
import { createPostgresDatabase, dropPostgresDatabase, testPostgresUrl } from './harness/database.ts';
import { spawnTether, type TetherProcess } from './harness/process.ts';
import {
  connectOverHttp,
  freePort,
  type RecordItem,
  readRecordsInto,
  type SandboxProcess,
  sendGmailPush,
  spawnSandbox,
} from './harness/sandbox-process.ts';

// A Gmail sync whose tether is SIGKILLed mid-run. The sandbox runs alone (`tether sandbox`), so
// the provider outlives tether; a new tether process on the same database (the same PGlite data
// dir after the kill, or the same PostgreSQL) resumes the run from its last committed page, and
// the records then equal the mailbox exactly: every message once, nothing else, the same data.

const COUNT = 6000; // 12 list pages of 500
const SEED = 'crash';
const apiKey = `tk_test_${randomBytes(12).toString('hex')}`;
const encryptionKey = randomBytes(32).toString('base64');
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

let sandbox: SandboxProcess;
let databaseUrl: string | undefined;
const tetherDataDir = tempDir('tether-crash-');
const running = new Set<TetherProcess>();

beforeAll(async () => {
  sandbox = await spawnSandbox(tempDir('tether-crash-sandbox-'));
  if (testPostgresUrl) databaseUrl = await createPostgresDatabase(testPostgresUrl);
}, 150_000);
afterAll(async () => {
  for (const t of running) if (t.child.exitCode === null) t.child.kill('SIGKILL');
  await sandbox?.stop();
  if (testPostgresUrl && databaseUrl) await dropPostgresDatabase(testPostgresUrl, databaseUrl);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startTether(port: number): Promise<TetherProcess> {
  const t = await spawnTether(
    {
      PORT: String(port),
      TETHER_SANDBOX_URL: sandbox.sandboxUrl,
      TETHER_API_KEY: apiKey,
      TETHER_ENCRYPTION_KEYS: encryptionKey,
      // A killed worker's run is taken over once its lease lapses: short here, so the test is.
      TETHER_SYNC_LEASE_MS: '3000',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { TETHER_DATA_DIR: tetherDataDir }),
    },
    120_000,
  );
  running.add(t);
  return t;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function readRuns(): Promise<SyncRunRow[]> {
  const database = databaseUrl
    ? await openDatabase({ url: databaseUrl })
    : await openDatabase({ dataDir: tetherDataDir });
  try {
    return await runStatement<SyncRunRow>(database.db, statement('select * from sync_runs'), []);
  } finally {
    await database.close();
  }
}

describe('a Gmail sync killed mid-run', () => {
  it('resumes in a new tether process from the last checkpoint, ending with exactly the mailbox', {
    timeout: 300_000,
  }, async () => {
    const control = sandbox.control;
    const ada = (await control.accounts()).google[0]!;
    const sized = await control.sizeDataset('google', 'messages', {
      account: ada.sub,
      count: COUNT,
      seed: SEED,
    });
    // Slow enough that the kill lands between pages.
    await control.latency('google.gmail.batch', 150);

    const port = await freePort();
    const first = await startTether(port);
    const connectionId = await connectOverHttp(first.url, apiKey, control, {
      integration: 'sandbox-gmail',
      endUserId: 'crash-1',
    });
    await sendGmailPush(sandbox.sandboxUrl, first.url, ada.email, String(sized.historyId));
    // The fourth list call comes after the third page was committed with its checkpoint.
    await waitFor('three pages are stored', async () =>
      (await control.callCount('google.gmail.messages.list')) >= 4 ? true : undefined,
    );
    first.child.kill('SIGKILL');
    const listedBeforeTheKill = await control.callCount('google.gmail.messages.list');
    expect(await first.stop()).toBe(null);
    running.delete(first);
    await control.resetCalls();
    expect(listedBeforeTheKill).toBeLessThan(12);

    const second = await startTether(port);
    // Nobody asks again: the dead worker's job is handed out anew (no heartbeat), and the run
    // is resumed once its lease has lapsed.
    const records = new Map<string, RecordItem>();
    let cursor: string | undefined;
    await waitFor(
      'every message is stored',
      async () => {
        cursor = await readRecordsInto(
          second.url,
          apiKey,
          `connections/${connectionId}/records/messages`,
          records,
          cursor,
        );
        return records.size >= COUNT ? true : undefined;
      },
      240_000,
    ).catch((error) => {
      throw new Error(`${error.message} (${records.size} of ${COUNT}); tether said:\n${second.output()}`);
    });
    await sleep(2000); // the run's outcome is committed right after its last page
    expect(await second.stop()).toBe(0);
    running.delete(second);

    // Resumed, not started over: the new process listed only the pages after the checkpoint
    // (a fresh pass lists all 12), and every page was committed once across both processes.
    const runs = await readRuns();
    const counts = (await control.calls(0)).counts;
    const listedAfter = counts['google.gmail.messages.list'] ?? 0;
    expect(listedAfter, JSON.stringify({ counts, runs })).toBeGreaterThan(0);
    expect(listedAfter).toBeLessThanOrEqual(12 - 3);
    expect(runs[0]?.pages).toBe(12);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      status: 'succeeded',
      imported: COUNT,
      updated: 0,
      deleted: 0,
      failed: 0,
    });

    const mailbox = makeMailbox(
      { accountId: ada.sub, email: ada.email, count: COUNT, seed: SEED },
      Date.now(),
    );
    const expected = new Map(
      Array.from({ length: COUNT }, (_, index) => {
        const m = mailbox.message(index);
        return [
          m.id,
          {
            id: m.id,
            threadId: m.threadId,
            labelIds: m.labelIds,
            snippet: m.snippet,
            historyId: m.historyId,
            subject: m.subject,
          },
        ];
      }),
    );
    expect(records.size).toBe(COUNT);
    expect([...records.values()].filter((r) => r.deletedAt !== null || r.lastAction !== 'added')).toEqual([]);
    for (const [id, want] of expected) expect(records.get(id)?.data, id).toMatchObject(want);
  });
});
