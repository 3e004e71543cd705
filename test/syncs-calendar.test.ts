import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runStatement, statement } from '../src/db/client.ts';
import { googleCollectionOf } from '../src/sandbox/datasets/collection-kind.ts';
import { renderEvent, SYNC_TOKEN_LIFETIME_MS } from '../src/sandbox/providers/google-calendar.ts';
import { findSync } from '../src/syncs/registry.ts';
import { getRun, requestRun } from '../src/syncs/run-store.ts';
import { executeRunSlice } from '../src/syncs/runner.ts';
import { useSandboxTether } from './harness/sandbox-tether.ts';
import { liveRecords, readAll, runToEnd, waitForRun } from './harness/syncs.ts';

// The Calendar sync end to end: a whole tether, its pg-boss workers and the records API against
// the sandbox's generated calendar. After every run the live records must equal the calendar.

const SYNC = 'calendar-events';
const s = useSandboxTether(
  [
    { key: 'calendar', provider: 'google-calendar', sandboxProvider: 'google' },
    {
      key: 'google-mail-only',
      provider: 'google',
      sandboxProvider: 'google',
      scopes: ['openid', 'email', 'https://www.googleapis.com/auth/gmail.readonly'],
    },
  ],
  { endUserPrefix: 'calendar-user' },
);
let n = 0;

async function accountId(): Promise<string> {
  return (await s.control.accounts()).google[0]!.sub;
}

/** A new connection (its own records) on a freshly sized calendar. */
async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await s.control.sizeDataset('google', 'events', {
    account: await accountId(),
    count,
    seed: `cal-${++n}`,
    ...extra,
  });
  return s.connect('calendar');
}

const run = (id: string) => runToEnd(s.t, id, SYNC);
const records = (id: string) => liveRecords(s.t, id, 'events', (data) => data.updated);

/** The calendar's live events as the sandbox holds them, id → updated. */
async function calendar(): Promise<Record<string, unknown>> {
  const events = googleCollectionOf(s.sandboxState, 'events', await accountId())!;
  return Object.fromEntries(
    events.indexes(0, events.size(), {}).map((index) => {
      const event = renderEvent(events, index, 'x@example.org');
      return [event.id, event.updated];
    }),
  );
}

const change = async (input: { added?: number; updated?: number; deleted?: number }, seed: string) =>
  s.control.changeDataset('google', 'events', { account: await accountId(), seed, ...input });

describe('Calendar sync', () => {
  it('copies the calendar in full, then follows its sync token: additions, updates and cancelled events as tombstones', async () => {
    const id = await connected(1200);
    const full = await run(id);
    expect(full).toMatchObject({ status: 'succeeded', imported: 1200, failed: 0, error: null });
    expect(await records(id)).toEqual(await calendar());
    const { cursor } = await readAll(s.t, id, 'events');

    await change({ added: 5, updated: 3, deleted: 4 }, 'c1');
    const calls = await s.control.callCount('google.calendar.events.list');
    const incremental = await run(id);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 5, updated: 3, deleted: 4 });
    // One page of changes, read with the sync token: no full listing.
    expect(await s.control.callCount('google.calendar.events.list')).toBe(calls + 1);
    expect(await records(id)).toEqual(await calendar());

    // A reader that kept its cursor gets exactly the changes, tombstones included.
    const changes = (await readAll(s.t, id, 'events', cursor)).items;
    expect(changes.map((i) => i.lastAction).sort()).toEqual([
      ...Array(5).fill('added'),
      ...Array(4).fill('deleted'),
      ...Array(3).fill('updated'),
    ]);
    const again = await run(id);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0 });
  });

  it('Calendar 410 ends in a correct full copy', async () => {
    const id = await connected(700);
    expect((await run(id)).status).toBe('succeeded');
    await change({ added: 2, updated: 2, deleted: 3 }, 'gone');
    // A month later the sync token no longer holds (and the access token has expired too).
    await s.control.advanceClock(SYNC_TOKEN_LIFETIME_MS + 86_400_000);
    const calls = await s.control.callCount('google.calendar.events.list');
    const resync = await run(id);
    expect(resync).toMatchObject({ status: 'succeeded', imported: 2, updated: 2, deleted: 3, failed: 0 });
    // The expired access token's 401, the 410, then the two pages of a full listing.
    expect(await s.control.callCount('google.calendar.events.list')).toBe(calls + 4);
    expect(await records(id)).toEqual(await calendar());

    // A calendar replaced under the same account: a 410 again, and the copy follows it exactly.
    await s.control.sizeDataset('google', 'events', { account: await accountId(), count: 40, seed: 'other' });
    const replaced = await run(id);
    expect(replaced).toMatchObject({ status: 'succeeded', imported: 40, deleted: 699 });
    expect(await records(id)).toEqual(await calendar());
    // And the next run is incremental again.
    await change({ deleted: 1 }, 'after');
    expect(await run(id)).toMatchObject({ status: 'succeeded', deleted: 1, imported: 0 });
    expect(await records(id)).toEqual(await calendar());
  });

  it('stores the good events of a page with malformed ones, lists those, and imports them once fixed', async () => {
    const id = await connected(300, { malformedEvery: 50 });
    const partial = await run(id);
    expect(partial).toMatchObject({ status: 'partial', imported: 294, failed: 6, deleted: 0 });
    const failed = await runStatement<{ error: { code: string } }>(
      s.t.database.db,
      statement('select error from sync_failed_records where connection_id = $1'),
      [id],
    );
    expect(failed.map((f) => f.error.code)).toEqual(Array(6).fill('invalid_record'));
    await s.control.sizeDataset('google', 'events', {
      account: await accountId(),
      count: 300,
      seed: `cal-${n}`,
    });
    const fixed = await run(id);
    expect(fixed).toMatchObject({ status: 'succeeded', imported: 6, failed: 0 });
    expect(await records(id)).toEqual(await calendar());
  });

  it('waits out 429 and retries 5xx of events.list instead of failing the run', async () => {
    const id = await connected(600);
    await s.control.failNext('google.calendar.events.list', 429, {
      times: 1,
      headers: { 'retry-after': '1' },
    });
    await s.control.failNext('google.calendar.events.list', 500, { times: 2 });
    expect(await run(id)).toMatchObject({ status: 'succeeded', imported: 600 });
    expect(await records(id)).toEqual(await calendar());
  });

  it('resumes a full pass stopped after its first page from that page, nothing lost or doubled', async () => {
    const id = await connected(1600);
    const { run: started } = await requestRun(s.t.database.db, {
      connectionId: id,
      syncName: SYNC,
      trigger: 'test',
    });
    const deps = {
      db: s.t.database.db,
      tokens: s.t.tokens,
      sealer: s.t.sealer,
      runtime: { fetch: (url: string | URL, init?: RequestInit) => fetch(url, init), now: () => new Date() },
      logger: s.t.logger,
    };
    const stopping = new AbortController();
    await s.control.latency('google.calendar.events.list', 300);
    const slice = executeRunSlice(deps, started.id, {
      owner: 'worker-a',
      leaseMs: 60_000,
      sliceMs: 60_000,
      stopping: stopping.signal,
    });
    for (let i = 0; i < 300 && ((await getRun(s.t.database.db, started.id))?.pages ?? 0) < 1; i++)
      await sleep(50);
    stopping.abort();
    expect(await slice).toBe('paused');
    const paused = (await getRun(s.t.database.db, started.id))!;
    expect(paused.imported).toBeGreaterThan(0);
    expect(paused.imported).toBeLessThan(1600);
    await s.control.clearFaults();
    const calls = await s.control.callCount('google.calendar.events.list');

    const resumed = await s.t.syncs.startRun({ connectionId: id, syncName: SYNC, trigger: 'test' });
    expect(resumed.id).toBe(started.id);
    expect(await waitForRun(s.t, started.id)).toMatchObject({
      status: 'succeeded',
      imported: 1600,
      unchanged: 0,
    });
    // Only the pages after the committed one were fetched again.
    expect(await s.control.callCount('google.calendar.events.list')).toBe(calls + 4 - paused.pages);
    expect(await records(id)).toEqual(await calendar());
  });

  it('is not offered by a connection whose integration lacks a Calendar scope', async () => {
    const id = await s.connect('google-mail-only');
    await expect(
      s.t.syncs.startRun({ connectionId: id, syncName: SYNC, trigger: 'test' }),
    ).rejects.toMatchObject({
      code: 'unknown_sync',
    });
    const scopes = ['openid', 'email', 'https://www.googleapis.com/auth/gmail.readonly'];
    expect(findSync('google', 'gmail-messages', scopes)).toBeDefined();
    expect(findSync('google', SYNC, scopes)).toBeUndefined();
    expect(
      findSync('google', SYNC, [...scopes, 'https://www.googleapis.com/auth/calendar.readonly']),
    ).toBeDefined();
  });
});
