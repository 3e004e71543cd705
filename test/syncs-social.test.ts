import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSetOf } from '../src/sandbox/datasets/record-set-kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import { renderMedia } from '../src/sandbox/providers/instagram-api.ts';
import { renderVideo } from '../src/sandbox/providers/tiktok-api.ts';
import { getRun } from '../src/syncs/run-store.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { liveRecords, readAll, runToEnd, waitForRun } from './harness/syncs.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The Instagram media and TikTok videos syncs end to end. Neither provider has a change feed:
// every run is a full pass, counts that changed are updates, and a post or video the completed
// pass did not see becomes a tombstone; a pass with a failed record deletes nothing.

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let instagramId: string;
let instagramUsername: string;
let tiktokId: string;
let n = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether();
  await createSandboxIntegration(t, sandbox.server.url, { key: 'instagram', provider: 'instagram' });
  await createSandboxIntegration(t, sandbox.server.url, {
    key: 'tiktok',
    provider: 'tiktok',
    scopes: ['user.info.basic', 'video.list'],
  });
  const accounts = await sandbox.control.accounts();
  instagramId = accounts.instagram[0]!.userId;
  instagramUsername = accounts.instagram[0]!.username;
  tiktokId = accounts.tiktok[0]!.openId;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

const cases = [
  {
    name: 'Instagram media',
    provider: 'instagram',
    sync: 'instagram-media',
    model: 'media',
    account: () => instagramId,
    /** The live items as the records should hold them: id → counts. */
    expected(): Record<string, string> {
      const set = recordSetOf(sandbox.server.state, 'instagram', 'media', instagramId)!;
      const out: Record<string, string> = {};
      for (const index of set.newest(set.size(), set.size())) {
        const m = renderMedia(set, set.state(index), instagramUsername);
        out[m.id as string] = `${m.like_count}/${m.comments_count}`;
      }
      return out;
    },
    pick: (d: Record<string, unknown>) => `${d.likeCount}/${d.commentsCount}`,
    listEndpoint: 'instagram.media',
    pageSize: 100,
    staleCursor: { error: { message: 'Invalid parameter', type: 'OAuthException', code: 100 } },
  },
  {
    name: 'TikTok videos',
    provider: 'tiktok',
    sync: 'tiktok-videos',
    model: 'videos',
    account: () => tiktokId,
    expected(): Record<string, string> {
      const set = recordSetOf(sandbox.server.state, 'tiktok', 'videos', tiktokId)!;
      const out: Record<string, string> = {};
      for (const index of set.newest(set.size(), set.size())) {
        const v = renderVideo(set, set.state(index));
        out[v.id as string] = `${v.view_count}/${v.like_count}`;
      }
      return out;
    },
    pick: (d: Record<string, unknown>) => `${d.viewCount}/${d.likeCount}`,
    listEndpoint: 'tiktok.video.list',
    pageSize: 20,
    // A millisecond timestamp does not go stale.
    staleCursor: undefined,
  },
] as const;

describe.each(cases)('$name sync', (c) => {
  async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
    await sandbox.control.sizeDataset(c.provider, c.model, {
      account: c.account(),
      count,
      seed: `seed-${++n}`,
      ...extra,
    });
    const { connectionId, status, body } = await connectThroughSandbox(t, sandbox.control, {
      integration: c.provider,
      endUserId: `user-${n}`,
    });
    expect(status, body).toBe(200);
    return connectionId!;
  }
  const records = (id: string) => liveRecords(t, id, c.model, c.pick);

  it('copies everything in a full pass, then finds new counts, new items and deletions in the next', async () => {
    const id = await connected(130);
    const calls = await sandbox.control.callCount(c.listEndpoint);
    const full = await runToEnd(t, id, c.sync);
    expect(full).toMatchObject({ status: 'succeeded', imported: 130, failed: 0, deleted: 0, error: null });
    expect((await sandbox.control.callCount(c.listEndpoint)) - calls).toBe(Math.ceil(130 / c.pageSize));
    expect(await records(id)).toEqual(c.expected());
    const { cursor } = await readAll(t, id, c.model);

    await sandbox.control.changeDataset(c.provider, c.model, {
      account: c.account(),
      added: 3,
      updated: 4,
      deleted: 5,
      seed: 'c1',
    });
    const next = await runToEnd(t, id, c.sync);
    expect(next).toMatchObject({ status: 'succeeded', imported: 3, updated: 4, deleted: 5, unchanged: 121 });
    expect(await records(id)).toEqual(c.expected());
    const changes = (await readAll(t, id, c.model, cursor)).items;
    expect(changes.map((i) => i.lastAction).sort()).toEqual([
      ...Array(3).fill('added'),
      ...Array(5).fill('deleted'),
      ...Array(4).fill('updated'),
    ]);
  });

  it('deletes nothing after a pass with malformed records, then imports them and deletes once whole', async () => {
    const id = await connected(60, { malformedEvery: 20 });
    const partial = await runToEnd(t, id, c.sync);
    expect(partial).toMatchObject({ status: 'partial', imported: 57, failed: 3 });
    await sandbox.control.changeDataset(c.provider, c.model, {
      account: c.account(),
      deleted: 4,
      seed: 'd1',
    });
    // Still malformed: the pass is partial again and deletes nothing.
    const still = await runToEnd(t, id, c.sync);
    expect(still).toMatchObject({ status: 'partial', deleted: 0 });
    await sandbox.control.sizeDataset(c.provider, c.model, {
      account: c.account(),
      count: 60,
      seed: `seed-${n}`,
    });
    const fixed = await runToEnd(t, id, c.sync);
    expect(fixed).toMatchObject({ status: 'succeeded', failed: 0 });
    expect(fixed.deleted).toBeGreaterThan(0);
    expect(await records(id)).toEqual(c.expected());
  });

  it('deletes nothing when a full pass fails mid-way; the next complete pass does (a stale cursor restarts it)', async () => {
    const id = await connected(3 * c.pageSize + 5);
    expect((await runToEnd(t, id, c.sync)).status).toBe('succeeded');
    await sandbox.control.changeDataset(c.provider, c.model, {
      account: c.account(),
      deleted: 5,
      seed: 'gone',
    });
    // The provider fails the pass after its first page is stored.
    await sandbox.control.latency(c.listEndpoint, 300);
    const run = await t.syncs.startRun({ connectionId: id, syncName: c.sync, trigger: 'test' });
    for (let i = 0; i < 200 && ((await getRun(t.database.db, run.id))?.pages ?? 0) < 1; i++) await sleep(25);
    await sandbox.control.failNext(c.listEndpoint, 503, { times: 4 });
    const failed = await waitForRun(t, run.id);
    expect(failed).toMatchObject({ status: 'failed', deleted: 0 });
    expect(failed.pages).toBeGreaterThanOrEqual(1);
    expect(Object.keys(await records(id))).toHaveLength(3 * c.pageSize + 5);
    await sandbox.control.clearFaults();
    if (c.staleCursor) {
      // Resumed later, the pass's cursor no longer holds: the pass starts again by itself.
      await sandbox.control.failNext(c.listEndpoint, 400, { times: 1, body: c.staleCursor });
    }
    const whole = await runToEnd(t, id, c.sync);
    expect(whole).toMatchObject({ status: 'succeeded', deleted: 5 });
    expect(await records(id)).toEqual(c.expected());
  });
});
