import { describe, expect, it } from 'vitest';
import { googleCollectionOf } from '../src/sandbox/datasets/collection-kind.ts';
import { channelIdOf, renderVideo } from '../src/sandbox/providers/youtube.ts';
import { useSandboxTether } from './harness/sandbox-tether.ts';
import { liveRecords, runToEnd } from './harness/syncs.ts';

// The YouTube sync end to end: no change feed, so every run is a full pass over the channel's
// uploads; a video the pass no longer sees becomes a tombstone only after a complete, clean pass.

const SYNC = 'youtube-stats';
const s = useSandboxTether([{ key: 'youtube', provider: 'youtube', sandboxProvider: 'google' }], {
  endUserPrefix: 'youtube-user',
});
let n = 0;

const accountId = async () => (await s.control.accounts()).google[0]!.sub;

async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await s.control.sizeDataset('google', 'videos', {
    account: await accountId(),
    count,
    seed: `yt-${++n}`,
    ...extra,
  });
  return s.connect('youtube');
}

const run = (id: string) => runToEnd(s.t, id, SYNC);
const videoRecords = (id: string) => liveRecords(s.t, id, 'videos', (data) => data.viewCount);

/** The channel's live videos, id → views. */
async function videos(): Promise<Record<string, unknown>> {
  const account = await accountId();
  const all = googleCollectionOf(s.sandboxState, 'videos', account)!;
  return Object.fromEntries(
    all.indexes(0, all.size(), {}).map((index) => {
      const video = renderVideo(all, index, account) as { id: string; statistics: { viewCount: string } };
      return [video.id, Number(video.statistics.viewCount)];
    }),
  );
}

const change = async (input: { added?: number; updated?: number; deleted?: number }, seed: string) =>
  s.control.changeDataset('google', 'videos', { account: await accountId(), seed, ...input });

describe('YouTube sync', () => {
  it('copies the channel and its videos with their statistics, then follows them by full passes', async () => {
    const id = await connected(130);
    const full = await run(id);
    expect(full).toMatchObject({ status: 'succeeded', imported: 131, failed: 0, error: null });
    expect(await videoRecords(id)).toEqual(await videos());
    const channels = await liveRecords(s.t, id, 'channels', (data) => data.videoCount);
    expect(channels).toEqual({ [`UC${channelIdOf(await accountId())}`]: 130 });

    await change({ added: 3 }, 'a1');
    await change({ updated: 5, deleted: 4 }, 'c1');
    const next = await run(id);
    // The channel's counts moved too: it is one of the updates.
    expect(next).toMatchObject({ status: 'succeeded', imported: 3, updated: 6, deleted: 4, failed: 0 });
    expect(await videoRecords(id)).toEqual(await videos());
    expect(Object.values(await liveRecords(s.t, id, 'channels', (data) => data.videoCount))).toEqual([129]);

    const quiet = await run(id);
    expect(quiet).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0, unchanged: 130 });
    expect(await s.control.callCount('google.youtube.channels.list')).toBe(3);
  });

  it('deletes nothing after a pass with failed records, and catches up once they are fixed', async () => {
    const id = await connected(100);
    expect((await run(id)).status).toBe('succeeded');
    await change({ deleted: 5 }, 'd1');
    // Make every 30th video malformed: the next pass is partial and must not delete the five.
    await s.control.sizeDataset('google', 'videos', {
      account: await accountId(),
      count: 100,
      seed: `yt-${n}`,
      malformedEvery: 30,
    });
    const partial = await run(id);
    expect(partial.status).toBe('partial');
    expect(partial.deleted).toBe(0);
    expect(partial.failed).toBeGreaterThan(0);
    expect(Object.keys(await videoRecords(id))).toHaveLength(100);

    await s.control.sizeDataset('google', 'videos', {
      account: await accountId(),
      count: 100,
      seed: `yt-${n}`,
    });
    const fixed = await run(id);
    expect(fixed).toMatchObject({ status: 'succeeded', deleted: 5, failed: 0 });
    expect(await videoRecords(id)).toEqual(await videos());
  });
});
