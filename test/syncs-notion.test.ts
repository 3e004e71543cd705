import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSetOf } from '../src/sandbox/datasets/record-set-kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import { notionLimitKey, renderPage } from '../src/sandbox/providers/notion-api.ts';
import { getRun } from '../src/syncs/run-store.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { liveRecords, readAll, runToEnd, waitForRun } from './harness/syncs.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The Notion pages sync end to end: search newest edit first down to the watermark, archived
// pages as tombstones, about 3 requests a second kept.

const SYNC = 'notion-pages';

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let userId: string;
let n = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether();
  await createSandboxIntegration(t, sandbox.server.url, { key: 'notion', provider: 'notion' });
  userId = (await sandbox.control.accounts()).notion[0]!.id;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await sandbox.control.sizeDataset('notion', 'pages', {
    account: userId,
    count,
    seed: `seed-${++n}`,
    ...extra,
  });
  const { connectionId, status, body } = await connectThroughSandbox(t, sandbox.control, {
    integration: 'notion',
    endUserId: `user-${n}`,
  });
  expect(status, body).toBe(200);
  return connectionId!;
}

/** The live pages: id → title. */
function pages(): Record<string, string> {
  const set = recordSetOf(sandbox.server.state, 'notion', 'pages', userId)!;
  const out: Record<string, string> = {};
  for (let index = 0; index < set.size(); index++) {
    const p = renderPage(set, set.state(index)) as {
      id: string;
      archived: boolean;
      properties: { title: { title: { plain_text: string }[] } };
    };
    if (!p.archived) out[p.id] = p.properties.title.title[0]!.plain_text;
  }
  return out;
}
const records = (id: string) => liveRecords(t, id, 'pages', (d) => d.title);

describe('Notion pages sync', () => {
  it('copies every page, then reads down to the watermark only: edits, new pages, archived ones as tombstones', async () => {
    const id = await connected(250);
    const full = await runToEnd(t, id, SYNC);
    expect(full).toMatchObject({ status: 'succeeded', imported: 250, failed: 0, error: null });
    expect(await records(id)).toEqual(pages());
    const { cursor } = await readAll(t, id, 'pages');

    await sandbox.control.advanceClock(120_000);
    await sandbox.control.changeDataset('notion', 'pages', {
      account: userId,
      added: 3,
      updated: 2,
      deleted: 4,
      seed: 'c1',
    });
    const calls = await sandbox.control.callCount('notion.search');
    const incremental = await runToEnd(t, id, SYNC);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 3, updated: 2, deleted: 4 });
    expect((await sandbox.control.callCount('notion.search')) - calls).toBe(1);
    expect(await records(id)).toEqual(pages());
    const changes = (await readAll(t, id, 'pages', cursor)).items;
    expect(changes.filter((c) => c.lastAction === 'deleted')).toHaveLength(4);
    const again = await runToEnd(t, id, SYNC);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0 });
  });

  it('keeps to about 3 requests a second, so Notion never answers 429', async () => {
    const id = await connected(1400);
    const started = Date.now();
    const run = await runToEnd(t, id, SYNC);
    expect(run).toMatchObject({ status: 'succeeded', imported: 1400 });
    // 14 search calls at 3 a second: at least 4 seconds, and not one refused.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    const grants = sandbox.server.state.grants.list().filter((g) => g.provider === 'notion');
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.map((g) => sandbox.server.state.keyedLimits.refused(notionLimitKey(g.id)))).toEqual(
      grants.map(() => 0),
    );
    expect(await records(id)).toEqual(pages());
  });

  it('stores the good pages beside malformed ones and imports those once fixed', async () => {
    const id = await connected(150, { malformedEvery: 30 });
    const partial = await runToEnd(t, id, SYNC);
    expect(partial).toMatchObject({ status: 'partial', imported: 145, failed: 5 });
    await sandbox.control.sizeDataset('notion', 'pages', { account: userId, count: 150, seed: `seed-${n}` });
    const fixed = await runToEnd(t, id, SYNC);
    expect(fixed).toMatchObject({ status: 'succeeded', imported: 5, failed: 0 });
    expect(await records(id)).toEqual(pages());
  });

  it('resumes a pass that failed mid-way; a cursor Notion no longer takes reads from the top again', async () => {
    const id = await connected(450);
    await sandbox.control.latency('notion.search', 200);
    const run = await t.syncs.startRun({ connectionId: id, syncName: SYNC, trigger: 'test' });
    for (let i = 0; i < 200 && ((await getRun(t.database.db, run.id))?.pages ?? 0) < 1; i++) await sleep(25);
    await sandbox.control.failNext('notion.search', 503, { times: 4 });
    const failed = await waitForRun(t, run.id);
    expect(failed.status).toBe('failed');
    expect(failed.imported).toBeGreaterThan(0);
    expect(failed.imported).toBeLessThan(450);
    await sandbox.control.clearFaults();
    await sandbox.control.failNext('notion.search', 400, {
      times: 1,
      body: { object: 'error', status: 400, code: 'validation_error', message: 'start_cursor is invalid' },
    });
    const whole = await runToEnd(t, id, SYNC);
    expect(whole.status).toBe('succeeded');
    expect(await records(id)).toEqual(pages());
    // And the watermark holds: nothing new, one search call.
    const calls = await sandbox.control.callCount('notion.search');
    expect((await runToEnd(t, id, SYNC)).status).toBe('succeeded');
    expect((await sandbox.control.callCount('notion.search')) - calls).toBe(1);
  });
});
