import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStatement, statement } from '../src/db/client.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE } from '../src/jobs/queues.ts';
import { mailboxOf } from '../src/sandbox/datasets/kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import type { SyncRunView } from '../src/syncs/run-view.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The sync control routes and the schedule, end to end: a whole tether (its clock movable), its
// pg-boss workers, the Gmail sync against the sandbox's generated mailbox.

const SYNC = 'gmail-messages';
const MINUTE = 60_000;

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let accountId: string;
let clockOffsetMs = 0;
let n = 0;
const now = () => new Date(Date.now() + clockOffsetMs);

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether({ now });
  const gmail = { provider: 'gmail', sandboxProvider: 'google' } as const;
  await createSandboxIntegration(t, sandbox.server.url, { key: 'gmail', ...gmail });
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'gmail-15m',
    ...gmail,
    options: { syncs: { [SYNC]: { frequency: '15m' } } },
  });
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'gmail-off',
    ...gmail,
    options: { syncs: { [SYNC]: { enabled: false } } },
  });
  // Google with its default scopes (profile): no Gmail scope, so no sync.
  await createSandboxIntegration(t, sandbox.server.url, { key: 'google-profile', provider: 'google' });
  accountId = (await sandbox.control.accounts()).google[0]!.sub;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

async function connected(count: number, options: { integration?: string; malformedEvery?: number } = {}) {
  await sandbox.control.sizeDataset('google', 'messages', {
    account: accountId,
    count,
    seed: `control-${++n}`,
    ...(options.malformedEvery ? { malformedEvery: options.malformedEvery } : {}),
  });
  const { connectionId } = await connectThroughSandbox(t, sandbox.control, {
    integration: options.integration ?? 'gmail',
    endUserId: `control-user-${n}`,
  });
  return connectionId!;
}

function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  return t.app.inject({ method, url: `/v1${url}`, headers: t.auth, ...(payload ? { payload } : {}) });
}

async function waitForRun(id: string): Promise<SyncRunView> {
  for (let i = 0; i < 600; i++) {
    const res = await api('GET', `/sync-runs/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    if (res.json().status !== 'running') return res.json();
    await sleep(100);
  }
  throw new Error(`run ${id} did not finish`);
}

async function runNow(connectionId: string): Promise<SyncRunView> {
  const res = await api('POST', `/connections/${connectionId}/syncs/${SYNC}/run`);
  expect(res.statusCode, res.body).toBe(202);
  return waitForRun(res.json().id);
}

async function syncOf(connectionId: string) {
  const res = await api('GET', `/connections/${connectionId}/syncs`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.find((s: { name: string }) => s.name === SYNC);
}

async function runsOf(connectionId: string): Promise<SyncRunView[]> {
  const res = await api('GET', `/sync-runs?connectionId=${connectionId}&limit=100`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

async function auditActions(connectionId: string): Promise<string[]> {
  const res = await api('GET', `/audit?subjectType=connection&subjectId=${connectionId}&limit=100`);
  return res.json().items.map((e: { action: string }) => e.action);
}

function expectError(
  res: { statusCode: number; json(): unknown; body: string },
  status: number,
  code: string,
) {
  expect(res.statusCode, res.body).toBe(status);
  expect((res.json() as { error: { code: string } }).error.code).toBe(code);
}

/** The live records by id → historyId, and the sandbox mailbox's messages the same way. */
async function liveRecords(connectionId: string, cursor?: string) {
  const items: { id: string; data: { historyId: string }; lastAction: string; deletedAt: string | null }[] =
    [];
  for (;;) {
    const res = await api(
      'GET',
      `/connections/${connectionId}/records/messages?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    );
    const body = res.json();
    items.push(...body.items);
    cursor = body.nextCursor ?? cursor;
    if (!body.hasMore) return { items, cursor };
  }
}
function mailbox(): Record<string, string> {
  const box = mailboxOf(sandbox.server.state, accountId)!;
  return Object.fromEntries(
    box.newest(box.size(), box.size()).map((index) => [box.message(index).id, box.message(index).historyId]),
  );
}
async function matchesMailbox(connectionId: string) {
  const { items } = await liveRecords(connectionId);
  expect(Object.fromEntries(items.filter((i) => !i.deletedAt).map((i) => [i.id, i.data.historyId]))).toEqual(
    mailbox(),
  );
}

describe('GET /v1/connections/:id/syncs', () => {
  it('lists the syncs a connection offers with their default frequency, no run yet, due at once', async () => {
    const id = await connected(5);
    const res = await api('GET', `/connections/${id}/syncs`);
    expect(res.statusCode, res.body).toBe(200);
    const [sync] = res.json().items;
    expect(sync).toMatchObject({
      name: SYNC,
      models: ['messages'],
      frequency: '1h',
      enabled: true,
      lastRun: null,
    });
    expect(Math.abs(Date.parse(sync.nextRunAt) - now().getTime())).toBeLessThan(5000);
  });

  it("takes the integration's frequency, offers nothing the scopes do not grant, and 404s an unknown connection", async () => {
    expect((await syncOf(await connected(5, { integration: 'gmail-15m' }))).frequency).toBe('15m');
    const profile = await connected(1, { integration: 'google-profile' });
    expect((await api('GET', `/connections/${profile}/syncs`)).json()).toEqual({ items: [] });
    expectError(await api('GET', '/connections/con_missing/syncs'), 404, 'not_found');
  });
});

describe('POST /v1/connections/:id/syncs/:sync/run', () => {
  it('answers 202 with the run, joins it when asked again, and plans the next run one frequency later', async () => {
    const id = await connected(900);
    await sandbox.control.latency('google.gmail.messages.list', 300);
    const first = await api('POST', `/connections/${id}/syncs/${SYNC}/run`);
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toMatchObject({ connectionId: id, sync: SYNC, status: 'running', trigger: 'api' });
    const again = await api('POST', `/connections/${id}/syncs/${SYNC}/run`);
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);

    const done = await waitForRun(first.json().id);
    expect(done).toMatchObject({
      status: 'succeeded',
      counts: { imported: 900, updated: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 },
      error: null,
    });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    const sync = await syncOf(id);
    expect(sync.lastRun).toMatchObject({ id: done.id, status: 'succeeded' });
    expect(Date.parse(sync.nextRunAt) - now().getTime()).toBeGreaterThan(55 * MINUTE);
    expect(await runsOf(id)).toHaveLength(1);
    expect((await auditActions(id)).filter((a) => a === 'sync.run_requested')).toHaveLength(2);
    await matchesMailbox(id);
  });

  it('answers 404 unknown_sync for a sync the connection does not offer', async () => {
    const id = await connected(1);
    expectError(await api('POST', `/connections/${id}/syncs/calendar-events/run`), 404, 'unknown_sync');
    const profile = await connected(1, { integration: 'google-profile' });
    expectError(await api('POST', `/connections/${profile}/syncs/${SYNC}/run`), 404, 'unknown_sync');
    expectError(await api('POST', `/connections/con_missing/syncs/${SYNC}/run`), 404, 'not_found');
  });

  it('answers 409 for a disconnected connection and one that needs reauthorization, and starts nothing', async () => {
    const gone = await connected(1);
    expect((await api('DELETE', `/connections/${gone}`)).statusCode).toBe(200);
    expectError(await api('POST', `/connections/${gone}/syncs/${SYNC}/run`), 409, 'not_connected');

    const revoked = await connected(1);
    await sandbox.control.revoke({ accessToken: (await t.tokens.getAccessToken(revoked)).accessToken });
    expectError(await api('POST', `/connections/${revoked}/refresh`), 409, 'reauthorization_required');
    expectError(
      await api('POST', `/connections/${revoked}/syncs/${SYNC}/run`),
      409,
      'reauthorization_required',
    );
    expectError(
      await api('POST', `/connections/${revoked}/syncs/${SYNC}/reset`),
      409,
      'reauthorization_required',
    );
    expect(await runsOf(gone)).toEqual([]);
    expect(await runsOf(revoked)).toEqual([]);
    expect((await syncOf(revoked)).nextRunAt).toBeNull();
  });
});

describe('PATCH /v1/connections/:id/syncs/:sync', () => {
  it('changes the frequency (a shorter one at once), disables and re-enables, inherits again on null', async () => {
    const id = await connected(1);
    await runNow(id);
    const res = await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { frequency: '15m' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: SYNC, frequency: '15m', enabled: true });
    const next = Date.parse(res.json().nextRunAt) - now().getTime();
    expect(next).toBeLessThanOrEqual(15 * MINUTE);
    expect(next).toBeGreaterThan(14 * MINUTE);

    expect(
      (await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { frequency: '120m' })).json().frequency,
    ).toBe('2h');
    const off = await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { enabled: false });
    expect(off.json()).toMatchObject({ enabled: false, nextRunAt: null, frequency: '2h' });
    const back = await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { enabled: null, frequency: null });
    expect(back.json()).toMatchObject({ enabled: true, frequency: '1h' });
    expect((await auditActions(id)).filter((a) => a === 'sync.settings_changed')).toHaveLength(4);
  });

  it('refuses bad frequencies, empty and unknown fields with 400, and an unknown sync with 404', async () => {
    const id = await connected(1);
    for (const frequency of ['15', '0m', '31d', '1w', '1.5h', ' 1h', 15, ''])
      expectError(
        await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { frequency }),
        400,
        'validation_failed',
      );
    expectError(await api('PATCH', `/connections/${id}/syncs/${SYNC}`, {}), 400, 'validation_failed');
    expectError(
      await api('PATCH', `/connections/${id}/syncs/${SYNC}`, { frequency: '1h', every: '1h' }),
      400,
      'validation_failed',
    );
    expectError(await api('PATCH', `/connections/${id}/syncs/nope`, { enabled: false }), 404, 'unknown_sync');
    expect((await syncOf(id)).frequency).toBe('1h');
  });

  it('refuses an integration setting for a sync its provider does not have, or a bad frequency there', async () => {
    const post = (syncs: unknown) =>
      api('POST', '/integrations', {
        key: `bad-syncs-${++n}`,
        provider: 'gmail',
        clientId: 'id',
        clientSecret: 'secret',
        syncs,
      });
    expectError(await post({ 'calendar-events': { frequency: '1h' } }), 400, 'validation_failed');
    expectError(await post({ [SYNC]: { frequency: 'hourly' } }), 400, 'validation_failed');
    expectError(await post({ [SYNC]: { frequency: '1h', every: '1h' } }), 400, 'validation_failed');
    expect((await post({ [SYNC]: { frequency: '1d', enabled: false } })).statusCode).toBe(201);
  });
});

describe('POST /v1/connections/:id/syncs/:sync/reset', () => {
  it('forgets the checkpoint and runs a full pass that keeps the records: a reader sees only what changed', async () => {
    const id = await connected(600);
    await runNow(id);
    const { cursor } = await liveRecords(id);
    await sandbox.control.changeDataset('google', 'messages', {
      account: accountId,
      updated: 2,
      deleted: 3,
      seed: 'reset',
    });
    const lists = await sandbox.control.callCount('google.gmail.messages.list');
    const res = await api('POST', `/connections/${id}/syncs/${SYNC}/reset`);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'running', trigger: 'reset' });
    const done = await waitForRun(res.json().id);
    expect(done).toMatchObject({
      status: 'succeeded',
      counts: { imported: 0, updated: 2, deleted: 3, unchanged: 595 },
    });
    // A full pass (list pages), not history.
    expect(await sandbox.control.callCount('google.gmail.messages.list')).toBe(lists + 2);
    const changes = (await liveRecords(id, cursor)).items.map((i) => i.lastAction).sort();
    expect(changes).toEqual(['deleted', 'deleted', 'deleted', 'updated', 'updated']);
    await matchesMailbox(id);
    expect(await auditActions(id)).toContain('sync.reset');
  });

  it('answers 409 sync_running while a run is going on, and leaves that run alone', async () => {
    const id = await connected(1100);
    await sandbox.control.latency('google.gmail.messages.list', 400);
    const running = (await api('POST', `/connections/${id}/syncs/${SYNC}/run`)).json();
    expectError(await api('POST', `/connections/${id}/syncs/${SYNC}/reset`), 409, 'sync_running');
    expect(await waitForRun(running.id)).toMatchObject({ status: 'succeeded', counts: { imported: 1100 } });
    expectError(await api('POST', `/connections/${id}/syncs/nope/reset`), 404, 'unknown_sync');
  });
});

describe('GET /v1/sync-runs and failed records', () => {
  it('lists a partial run with its failed records, paged, and a sample on the run', async () => {
    const id = await connected(300, { malformedEvery: 50 });
    const run = await runNow(id);
    expect(run).toMatchObject({ status: 'partial', counts: { imported: 294, failed: 6 } });

    const one = await api('GET', `/sync-runs/${run.id}`);
    expect(one.json().failedRecords).toHaveLength(6);
    expect(one.json().failedRecords[0]).toMatchObject({
      model: 'messages',
      error: { code: 'invalid_record' },
    });

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api(
        'GET',
        `/connections/${id}/syncs/${SYNC}/failed-records?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.statusCode, page.body).toBe(200);
      for (const f of page.json().items) {
        expect(f).toMatchObject({
          model: 'messages',
          lastRunId: run.id,
          attempts: 1,
          error: { code: 'invalid_record' },
        });
        ids.push(f.id);
      }
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(ids.sort()).toEqual(
      one
        .json()
        .failedRecords.map((f: { id: string }) => f.id)
        .sort(),
    );
    expectError(
      await api('GET', `/connections/${id}/syncs/${SYNC}/failed-records?cursor=bogus`),
      400,
      'invalid_cursor',
    );
    expectError(await api('GET', `/connections/${id}/syncs/nope/failed-records`), 404, 'unknown_sync');
  });

  it('filters runs by connection and status, newest first, paged by cursor; 404s an unknown run', async () => {
    const id = await connected(3);
    const first = await runNow(id);
    const second = await runNow(id);
    const listed = await runsOf(id);
    expect(listed.map((r) => r.id)).toEqual([second.id, first.id]);
    const page = (await api('GET', `/sync-runs?connectionId=${id}&limit=1`)).json();
    expect(page.items.map((r: SyncRunView) => r.id)).toEqual([second.id]);
    const rest = (await api('GET', `/sync-runs?connectionId=${id}&limit=1&cursor=${page.nextCursor}`)).json();
    expect(rest).toMatchObject({ items: [{ id: first.id }], nextCursor: null });
    const partial = (await api('GET', '/sync-runs?status=partial&limit=100')).json().items as SyncRunView[];
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((r) => r.status === 'partial')).toBe(true);
    expect((await api('GET', `/sync-runs?connectionId=${id}&status=partial`)).json().items).toEqual([]);
    expect((await api('GET', `/sync-runs?connectionId=${id}&sync=${SYNC}`)).json().items).toHaveLength(2);
    expect((await api('GET', `/sync-runs?connectionId=${id}&sync=other`)).json().items).toEqual([]);
    expectError(await api('GET', '/sync-runs?status=done'), 400, 'validation_failed');
    expectError(await api('GET', '/sync-runs?cursor=bogus'), 400, 'invalid_cursor');
    expectError(await api('GET', '/sync-runs/run_missing'), 404, 'not_found');
  });
});

describe('the sync schedule', () => {
  /** Runs the schedule once and waits for the runs it started on `ids` to finish. */
  async function tick(ids: string[]) {
    await t.syncSchedule.tick();
    for (const id of ids) {
      const running = (await runsOf(id)).find((r) => r.status === 'running');
      if (running) await waitForRun(running.id);
    }
  }
  const scheduledRuns = async (id: string) => (await runsOf(id)).filter((r) => r.trigger === 'schedule');

  it('runs a new connection at once, then each sync when its frequency has passed, and no disabled one', async () => {
    const hourly = await connected(5);
    const quarterly = await connected(5, { integration: 'gmail-15m' });
    const disabled = await connected(5);
    expect(
      (await api('PATCH', `/connections/${disabled}/syncs/${SYNC}`, { enabled: false })).statusCode,
    ).toBe(200);
    const offForIntegration = await connected(5, { integration: 'gmail-off' });
    expect(await syncOf(offForIntegration)).toMatchObject({ enabled: false, nextRunAt: null });
    const ids = [hourly, quarterly, disabled, offForIntegration];

    await tick(ids);
    expect(await scheduledRuns(hourly)).toHaveLength(1);
    expect(await scheduledRuns(quarterly)).toHaveLength(1);
    expect(await scheduledRuns(disabled)).toHaveLength(0);
    expect(await scheduledRuns(offForIntegration)).toHaveLength(0);
    expect((await scheduledRuns(hourly))[0]!.status).toBe('succeeded');

    // Nothing is due yet.
    await tick(ids);
    expect((await scheduledRuns(hourly)).length + (await scheduledRuns(quarterly)).length).toBe(2);

    clockOffsetMs += 16 * MINUTE;
    await tick(ids);
    expect(await scheduledRuns(hourly)).toHaveLength(1);
    expect(await scheduledRuns(quarterly)).toHaveLength(2);

    clockOffsetMs += 45 * MINUTE;
    await tick(ids);
    expect(await scheduledRuns(hourly)).toHaveLength(2);
    expect(await scheduledRuns(disabled)).toHaveLength(0);
    expect(await scheduledRuns(offForIntegration)).toHaveLength(0);

    // Enabled again: it is due (its planned time passed while it was off).
    await api('PATCH', `/connections/${disabled}/syncs/${SYNC}`, { enabled: true });
    clockOffsetMs += 61 * MINUTE;
    await tick(ids);
    expect(await scheduledRuns(disabled)).toHaveLength(1);
  });

  it('never starts a connection that cannot sync', async () => {
    const gone = await connected(2);
    expect((await api('DELETE', `/connections/${gone}`)).statusCode).toBe(200);
    clockOffsetMs += 2 * 60 * MINUTE;
    await t.syncSchedule.tick();
    expect(await runsOf(gone)).toEqual([]);
  });

  it('is a pg-boss cron job every minute', async () => {
    const schedules = await t.boss.getSchedules();
    expect(schedules.find((s) => s.name === 'syncs.schedule')).toBeUndefined(); // off in the test harness
    const live = await startTestTether({ syncScheduleCron: true });
    try {
      expect((await live.boss.getSchedules()).find((s) => s.name === 'syncs.schedule')?.cron).toBe(
        '* * * * *',
      );
    } finally {
      await live.close();
    }
  });
});

describe('Gmail push', () => {
  it('runs the enabled connections of the mailbox and not a disabled one', async () => {
    const enabled = await connected(3);
    const disabled = await connected(3);
    await api('PATCH', `/connections/${disabled}/syncs/${SYNC}`, { enabled: false });
    const email = (await sandbox.control.accounts()).google[0]!.email;
    await t.boss.send(GMAIL_MAILBOX_SYNC_QUEUE, {
      integrationKey: 'pubsub',
      emailAddress: email,
      historyId: '1',
    });
    let pushed: SyncRunView | undefined;
    for (let i = 0; i < 200 && !pushed; i++) {
      pushed = (await runsOf(enabled)).find((r) => r.trigger === 'push');
      if (!pushed) await sleep(100);
    }
    expect(pushed).toBeDefined();
    for (const run of (await api('GET', '/sync-runs?status=running&limit=500')).json().items)
      await waitForRun(run.id);
    expect(await runsOf(disabled)).toEqual([]);
  });
});

describe('a token expiring mid-sync', () => {
  // This connection's refreshes, from tether's audit: the sandbox's count of token calls also has
  // the keep-alive's refreshes of earlier tests' connections, whose tokens tether's moved clock
  // has expired (its cron fires whenever a minute turns).
  const refreshesOf = async (id: string) =>
    (
      await runStatement<{ n: number }>(
        t.database.db,
        statement(
          "select count(*)::int as n from audit_log where action = 'connection.refreshed' and subject_id = $1",
        ),
        [id],
      )
    )[0]!.n;
  const tokenCalls = () => sandbox.control.callCount('google.token');
  // Runs the schedule started for earlier tests' connections would refresh their tokens too.
  beforeAll(async () => {
    for (const run of (await api('GET', '/sync-runs?status=running&limit=500')).json().items)
      await waitForRun(run.id);
  });

  it('is replaced through the token lifecycle when Google stops accepting it, and the run carries on', async () => {
    const id = await connected(1600);
    const before = (await t.tokens.getAccessToken(id)).accessToken;
    const calls = await tokenCalls();
    await sandbox.control.latency('google.gmail.messages.list', 500);
    const started = (await api('POST', `/connections/${id}/syncs/${SYNC}/run`)).json();
    await waitForPages(started.id, 1);
    await sandbox.control.expireAccessToken(before);

    const done = await waitForRun(started.id);
    expect(done).toMatchObject({ status: 'succeeded', counts: { imported: 1600, failed: 0 } });
    expect(await refreshesOf(id)).toBe(1);
    expect(await tokenCalls()).toBeGreaterThanOrEqual(calls + 1);
    expect((await t.tokens.getAccessToken(id)).accessToken).not.toBe(before);
    await matchesMailbox(id);
  });

  it("is refreshed ahead of its expiry when tether's clock passes it mid-run, once", async () => {
    const id = await connected(1600);
    const before = (await t.tokens.getAccessToken(id)).accessToken;
    const calls = await tokenCalls();
    await sandbox.control.latency('google.gmail.messages.list', 500);
    const started = (await api('POST', `/connections/${id}/syncs/${SYNC}/run`)).json();
    await waitForPages(started.id, 1);
    clockOffsetMs += 2 * 60 * MINUTE; // past the token's hour

    const done = await waitForRun(started.id);
    expect(done).toMatchObject({ status: 'succeeded', counts: { imported: 1600, failed: 0 } });
    expect(await refreshesOf(id)).toBe(1);
    expect(await tokenCalls()).toBeGreaterThanOrEqual(calls + 1);
    expect((await t.tokens.getAccessToken(id)).accessToken).not.toBe(before);
    await matchesMailbox(id);
  });

  async function waitForPages(runId: string, pages: number) {
    for (let i = 0; i < 300; i++) {
      const [row] = await runStatement<{ pages: number }>(
        t.database.db,
        statement('select pages from sync_runs where id = $1'),
        [runId],
      );
      if ((row?.pages ?? 0) >= pages) return;
      await sleep(50);
    }
    throw new Error(`run ${runId} committed no page`);
  }
});
