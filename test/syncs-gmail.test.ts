import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStatement, statement } from '../src/db/client.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE } from '../src/jobs/queues.ts';
import { HISTORY_RETENTION_MS } from '../src/sandbox/datasets/gmail-mailbox.ts';
import { mailboxOf } from '../src/sandbox/datasets/kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import { getRun, requestRun, type SyncRunRow } from '../src/syncs/run-store.ts';
import { executeRunSlice } from '../src/syncs/runner.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The Gmail sync end to end: a whole tether, its pg-boss workers and the records API against
// the sandbox's generated mailbox. After every run the live records must equal the mailbox.

const SYNC = 'gmail-messages';

interface Item {
  id: string;
  data: Record<string, unknown>;
  lastAction: string;
  deletedAt: string | null;
}

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let accountId: string;
let n = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether();
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'gmail',
    provider: 'gmail',
    sandboxProvider: 'google',
  });
  accountId = (await sandbox.control.accounts()).google[0]!.sub;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

/** A new connection (its own records) on a freshly sized mailbox. */
async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await sandbox.control.sizeDataset('google', 'messages', {
    account: accountId,
    count,
    seed: `seed-${++n}`,
    ...extra,
  });
  const { connectionId } = await connectThroughSandbox(t, sandbox.control, {
    integration: 'gmail',
    endUserId: `user-${n}`,
  });
  return connectionId!;
}

async function runToEnd(connectionId: string): Promise<SyncRunRow> {
  const run = await t.syncs.startRun({ connectionId, syncName: SYNC, trigger: 'test' });
  return waitForRun(run.id);
}

async function waitForRun(id: string): Promise<SyncRunRow> {
  for (let i = 0; i < 600; i++) {
    const run = await getRun(t.database.db, id);
    if (run && run.status !== 'running') return run;
    await sleep(100);
  }
  throw new Error(`run ${id} did not finish`);
}

async function readAll(connectionId: string, cursor?: string): Promise<{ items: Item[]; cursor?: string }> {
  const items: Item[] = [];
  for (;;) {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/records/messages?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      headers: t.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    items.push(...body.items);
    cursor = body.nextCursor ?? cursor;
    if (!body.hasMore) return { items, cursor };
  }
}

/** The live records, by id → historyId, and the mailbox's messages the same way. */
async function liveRecords(connectionId: string): Promise<Record<string, unknown>> {
  const { items } = await readAll(connectionId);
  return Object.fromEntries(items.filter((i) => !i.deletedAt).map((i) => [i.id, i.data.historyId]));
}
function mailbox(): Record<string, string> {
  const box = mailboxOf(sandbox.server.state, accountId)!;
  return Object.fromEntries(
    box.newest(box.size(), box.size()).map((index) => {
      const m = box.message(index);
      return [m.id, m.historyId];
    }),
  );
}

describe('Gmail sync', () => {
  it('copies the mailbox in full, then follows its history: additions, updates and deletes as tombstones', async () => {
    const id = await connected(1200);
    const full = await runToEnd(id);
    expect(full).toMatchObject({ status: 'succeeded', imported: 1200, failed: 0, error: null });
    expect(await liveRecords(id)).toEqual(mailbox());
    const { cursor } = await readAll(id);

    await sandbox.control.changeDataset('google', 'messages', {
      account: accountId,
      added: 5,
      updated: 3,
      deleted: 4,
      seed: 'c1',
    });
    const calls = await sandbox.control.callCount('google.gmail.messages.list');
    const incremental = await runToEnd(id);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 5, updated: 3, deleted: 4 });
    expect(await sandbox.control.callCount('google.gmail.messages.list')).toBe(calls);
    expect(await liveRecords(id)).toEqual(mailbox());

    // A reader that kept its cursor gets exactly the changes, tombstones included.
    const changes = (await readAll(id, cursor)).items;
    expect(changes.map((i) => i.lastAction).sort()).toEqual([
      ...Array(5).fill('added'),
      ...Array(4).fill('deleted'),
      ...Array(3).fill('updated'),
    ]);
    const again = await runToEnd(id);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0 });
  });

  it("announces each run with a records cursor that reads exactly the run's changes", async () => {
    const id = await connected(250);
    const announced = async (runId: string) => {
      const [event] = await runStatement<{ type: string; data: { records: { cursor: string } } }>(
        t.database.db,
        statement(`select type, data from outbound_events where data->>'runId' = $1`),
        [runId],
      );
      expect(event?.type).toBe('sync.completed');
      return event!.data.records.cursor;
    };
    const full = await runToEnd(id);
    expect((await readAll(id, await announced(full.id))).items).toHaveLength(250);

    await sandbox.control.changeDataset('google', 'messages', {
      account: accountId,
      added: 4,
      updated: 3,
      deleted: 2,
      seed: 'announced',
    });
    const incremental = await runToEnd(id);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 4, deleted: 2 });
    const { items } = await readAll(id, await announced(incremental.id));
    // The run's 9 changes and nothing from the full run before it.
    expect(items).toHaveLength(9);
    expect(items.filter((i) => i.lastAction === 'deleted')).toHaveLength(2);
  });

  it('stores the good records of a page with malformed ones, lists those with their error, and imports them once fixed', async () => {
    const id = await connected(300, { malformedEvery: 50 });
    const partial = await runToEnd(id);
    expect(partial).toMatchObject({ status: 'partial', imported: 294, failed: 6 });
    const failed = await runStatement<{ external_id: string; error: { code: string } }>(
      t.database.db,
      statement('select external_id, error from sync_failed_records where connection_id = $1'),
      [id],
    );
    expect(failed).toHaveLength(6);
    expect(failed.every((f) => f.error.code === 'invalid_record')).toBe(true);

    await sandbox.control.sizeDataset('google', 'messages', {
      account: accountId,
      count: 300,
      seed: `seed-${n}`,
    });
    const fixed = await runToEnd(id);
    expect(fixed).toMatchObject({ status: 'succeeded', imported: 6, failed: 0 });
    expect(await liveRecords(id)).toEqual(mailbox());
    const left = await runStatement(
      t.database.db,
      statement('select 1 from sync_failed_records where connection_id = $1'),
      [id],
    );
    expect(left).toHaveLength(0);
  });

  it('turns a history id Gmail no longer keeps (404) into a full pass that ends in an exact copy', async () => {
    const id = await connected(700);
    expect((await runToEnd(id)).status).toBe('succeeded');
    await sandbox.control.changeDataset('google', 'messages', {
      account: accountId,
      added: 2,
      deleted: 3,
      seed: 'gone',
    });
    // A week and a day later: the history is gone and the access token has expired at Google.
    await sandbox.control.advanceClock(HISTORY_RETENTION_MS + 86_400_000);
    const lists = await sandbox.control.callCount('google.gmail.messages.list');
    const resync = await runToEnd(id);
    expect(resync).toMatchObject({ status: 'succeeded', imported: 2, deleted: 3 });
    expect(await sandbox.control.callCount('google.gmail.messages.list')).toBe(lists + 2);
    expect(await liveRecords(id)).toEqual(mailbox());
  });

  it('waits out 429 with Retry-After and retries 5xx instead of failing the run', async () => {
    const id = await connected(250);
    await sandbox.control.failNext('google.gmail.batch', 429, { times: 2, headers: { 'retry-after': '1' } });
    await sandbox.control.failNext('google.gmail.messages.list', 503, { times: 1 });
    await sandbox.control.failNext('google.gmail.messages.get', 500, { times: 3 });
    const run = await runToEnd(id);
    expect(run).toMatchObject({ status: 'succeeded', imported: 250, failed: 0 });
    expect(await liveRecords(id)).toEqual(mailbox());
  });

  it('stops with reauthorization_required when the grant is revoked, and stores nothing more', async () => {
    const id = await connected(10);
    await sandbox.control.revoke({ accountId, provider: 'google' });
    const run = await runToEnd(id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('reauthorization_required');
  });

  it('resumes a run whose worker stopped mid-run from its last committed page, nothing lost or doubled', async () => {
    const id = await connected(1600);
    const { run } = await requestRun(t.database.db, { connectionId: id, syncName: SYNC, trigger: 'test' });
    const deps = {
      db: t.database.db,
      tokens: t.tokens,
      sealer: t.sealer,
      runtime: makeRuntime(),
      logger: t.logger,
    };
    // A worker that stops after its first page (as a process told to stop, or one whose lease lapses).
    const stopping = new AbortController();
    await sandbox.control.latency('google.gmail.messages.list', 300);
    const first = executeRunSlice(deps, run.id, {
      owner: 'worker-a',
      leaseMs: 60_000,
      sliceMs: 60_000,
      stopping: stopping.signal,
    });
    for (let i = 0; i < 300 && ((await getRun(t.database.db, run.id))?.pages ?? 0) < 1; i++) await sleep(50);
    stopping.abort();
    expect(await first).toBe('paused');
    const paused = (await getRun(t.database.db, run.id))!;
    expect(paused).toMatchObject({ status: 'running', owner: null });
    expect(paused.imported).toBeGreaterThan(0);
    expect(paused.imported).toBeLessThan(1600);
    await sandbox.control.clearFaults();

    const resumed = await t.syncs.startRun({ connectionId: id, syncName: SYNC, trigger: 'test' });
    expect(resumed.id).toBe(run.id);
    const done = await waitForRun(run.id);
    expect(done).toMatchObject({ status: 'succeeded', imported: 1600, unchanged: 0 });
    expect(await liveRecords(id)).toEqual(mailbox());
  });

  it('lets a reader paging the records API during a full sync see every record exactly once', async () => {
    const id = await connected(2500);
    const run = await t.syncs.startRun({ connectionId: id, syncName: SYNC, trigger: 'test' });
    const seen = new Map<string, unknown>();
    let cursor: string | undefined;
    const page = async () => {
      const got = await readAll(id, cursor);
      for (const item of got.items) {
        expect(seen.has(item.id), `${item.id} seen twice`).toBe(false);
        seen.set(item.id, item.data.historyId);
      }
      cursor = got.cursor;
    };
    // On embedded PGlite, inject and the queries resolve as microtasks only: a loop of them never
    // lets the event loop run the sync's HTTP calls (nor any timer), so yield between reads.
    while ((await getRun(t.database.db, run.id))?.status === 'running') {
      await page();
      await setImmediate();
    }
    await page();
    expect(Object.fromEntries(seen)).toEqual(mailbox());
  });

  it('runs the mailbox sync when Gmail push queues a syncs.gmail-mailbox job', async () => {
    const id = await connected(20);
    const email = (await sandbox.control.accounts()).google[0]!.email;
    await t.boss.send(GMAIL_MAILBOX_SYNC_QUEUE, {
      integrationKey: 'pubsub',
      emailAddress: email,
      historyId: '1',
    });
    let run: SyncRunRow | undefined;
    for (let i = 0; i < 200 && !run; i++) {
      [run] = await runStatement<SyncRunRow>(
        t.database.db,
        statement(`select * from sync_runs where connection_id = $1 and trigger = 'push'`),
        [id],
      );
      if (!run) await sleep(100);
    }
    expect(run).toBeDefined();
    expect((await waitForRun(run!.id)).status).toBe('succeeded');
  });
});

function makeRuntime() {
  return { fetch: (url: string | URL, init?: RequestInit) => fetch(url, init), now: () => new Date() };
}
