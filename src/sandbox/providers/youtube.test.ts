import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, type Loose, type SandboxFixture, startSandboxFixture } from '../testing.ts';
import { googleAccessToken } from './google-testing.ts';

describe('youtube sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let accountId: string;
  let api: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('youtube-test');
    api = `${sb.endpoints.google.apiBaseUrl}/youtube/v3`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    accountId = (await sb.control.accounts()).google[0]!.sub;
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/youtube.readonly');
  });
  const call = (path: string) => get(`${api}${path}`, { authorization: `Bearer ${token}` });
  const size = (count: number) =>
    sb.control.sizeDataset('google', 'videos', { account: accountId, count, seed: 'v1' });

  async function uploads(playlistId: string): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await call(
        `/playlistItems?part=contentDetails&maxResults=50&playlistId=${playlistId}${pageToken ? `&pageToken=${pageToken}` : ''}`,
      );
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      ids.push(...page.body.items.map((i: Loose) => i.contentDetails.videoId));
      pageToken = page.body.nextPageToken;
    } while (pageToken);
    return ids;
  }

  it('answers the channel of mine=true with its statistics and uploads playlist, only the parts asked for', async () => {
    await size(120);
    const res = await call('/channels?part=snippet,statistics,contentDetails&mine=true');
    expect(res.status).toBe(200);
    const [channel] = res.body.items;
    expect(channel.id).toMatch(/^UC[\w-]{22}$/);
    expect(channel.statistics).toMatchObject({
      videoCount: '120',
      viewCount: expect.stringMatching(/^\d+$/),
      subscriberCount: expect.stringMatching(/^\d+$/),
    });
    expect(channel.contentDetails.relatedPlaylists.uploads).toBe(`UU${channel.id.slice(2)}`);
    const statsOnly = (await call('/channels?part=statistics&mine=true')).body.items[0];
    expect(Object.keys(statsOnly).sort()).toEqual(['etag', 'id', 'kind', 'statistics']);
    expect((await call('/channels?mine=true')).status).toBe(400);
    expect((await call('/channels?part=statistics')).status).toBe(400);
    expect((await call('/channels?part=bogus&mine=true')).body.error.errors[0].reason).toBe('unknownPart');
  });

  it('pages the uploads newest first, and videos.list gives statistics that move with updates', async () => {
    await size(120);
    const channel = (await call('/channels?part=contentDetails&mine=true')).body.items[0];
    const playlist = channel.contentDetails.relatedPlaylists.uploads;
    const ids = await uploads(playlist);
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    const first = (await call(`/videos?part=snippet,statistics&id=${ids.slice(0, 50).join(',')}`)).body.items;
    expect(first).toHaveLength(50);
    expect(first[0].snippet.publishedAt > first[49].snippet.publishedAt).toBe(true);
    expect(first[0].statistics.viewCount).toMatch(/^\d+$/);
    expect((await call(`/videos?part=statistics&id=${ids.slice(0, 51).join(',')}`)).status).toBe(400);
    expect((await call(`/playlistItems?part=contentDetails&playlistId=UUnope`)).status).toBe(404);

    await sb.control.changeDataset('google', 'videos', {
      account: accountId,
      updated: 120,
      deleted: 0,
      seed: 'u',
    });
    const after = (await call(`/videos?part=statistics&id=${ids[0]}`)).body.items[0];
    expect(Number(after.statistics.viewCount)).toBeGreaterThan(Number(first[0].statistics.viewCount));
    await sb.control.changeDataset('google', 'videos', {
      account: accountId,
      deleted: 3,
      seed: 'd',
    });
    const now = await uploads(playlist);
    expect(now).toHaveLength(117);
    // A deleted video is left out of videos.list, as YouTube does.
    const gone = ids.filter((id) => !now.includes(id));
    expect(gone).toHaveLength(3);
    expect((await call(`/videos?part=statistics&id=${gone.join(',')}`)).body.items).toEqual([]);
  });
});
