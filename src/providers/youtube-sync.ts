import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { SyncContext, SyncDefinition, SyncItem } from '../syncs/definition.ts';
import { RawItems, readGoogleJson } from './google-sync-http.ts';

/**
 * YouTube `channels` and `videos`: the account's channel and its uploads, with their statistics.
 * YouTube has no change feed, so every run is a full pass:
 *
 *   channels.list?mine=true (the channel, its uploads playlist) ──▶ playlistItems.list pages of
 *   50 ──▶ videos.list?part=snippet,statistics for each page's ids ──▶ … last page: the channel
 *   and videos the pass did not see become tombstones (only after a complete, clean pass)
 *
 * Statistics are data: a video whose counts moved is `updated`, one that did not is unchanged.
 * A run that stops mid-pass resumes the same pass from its page token; the pass after a complete
 * one starts from the channel again.
 */

export type YoutubeCheckpoint =
  | { phase: 'pass'; passId: string; uploads: string; pageToken: string }
  | { phase: 'done' };

const MODELS = ['channels', 'videos'] as const;
const PAGE = 50;
const PARTS = 'snippet,statistics,contentDetails';

const Count = z
  .string()
  .regex(/^\d{1,19}$/)
  .transform(Number);
const Channel = z.object({
  id: z.string().min(1),
  snippet: z.object({
    title: z.string(),
    description: z.string().optional(),
    customUrl: z.string().optional(),
    publishedAt: z.iso.datetime({ offset: true }),
    country: z.string().optional(),
  }),
  contentDetails: z.object({ relatedPlaylists: z.object({ uploads: z.string().min(1) }) }),
  statistics: z.object({
    viewCount: Count,
    subscriberCount: Count.optional(),
    hiddenSubscriberCount: z.boolean().optional(),
    videoCount: Count,
  }),
});
const Video = z.object({
  id: z.string().min(1),
  snippet: z.object({
    channelId: z.string(),
    title: z.string(),
    description: z.string().optional(),
    publishedAt: z.iso.datetime({ offset: true }),
  }),
  contentDetails: z.object({ duration: z.string() }).optional(),
  statistics: z.object({
    viewCount: Count.optional(),
    likeCount: Count.optional(),
    commentCount: Count.optional(),
    favoriteCount: Count.optional(),
  }),
});

const ChannelList = z.object({
  items: z.array(z.looseObject({ id: z.string(), contentDetails: z.looseObject({}).optional() })).default([]),
});
const PlaylistPage = z.object({
  items: z.array(z.object({ contentDetails: z.object({ videoId: z.string().min(1) }) })).default([]),
  nextPageToken: z.string().optional(),
});
const VideoList = z.object({ items: RawItems.default([]) });

function mapChannel(raw: unknown) {
  const c = Channel.parse(raw);
  return {
    data: {
      id: c.id,
      title: c.snippet.title,
      description: c.snippet.description ?? null,
      customUrl: c.snippet.customUrl ?? null,
      publishedAt: c.snippet.publishedAt,
      country: c.snippet.country ?? null,
      uploadsPlaylistId: c.contentDetails.relatedPlaylists.uploads,
      viewCount: c.statistics.viewCount,
      subscriberCount: c.statistics.hiddenSubscriberCount ? null : (c.statistics.subscriberCount ?? null),
      videoCount: c.statistics.videoCount,
    },
  };
}

function mapVideo(raw: unknown) {
  const v = Video.parse(raw);
  return {
    data: {
      id: v.id,
      channelId: v.snippet.channelId,
      title: v.snippet.title,
      description: v.snippet.description ?? null,
      publishedAt: v.snippet.publishedAt,
      duration: v.contentDetails?.duration ?? null,
      // A count the owner hides is absent: null, not 0.
      viewCount: v.statistics.viewCount ?? null,
      likeCount: v.statistics.likeCount ?? null,
      commentCount: v.statistics.commentCount ?? null,
      favoriteCount: v.statistics.favoriteCount ?? null,
    },
  };
}

async function videosById(ctx: SyncContext, ids: readonly string[]) {
  const found = new Map<string, unknown>();
  for (let at = 0; at < ids.length; at += PAGE) {
    const query = new URLSearchParams({
      part: PARTS,
      id: ids.slice(at, at + PAGE).join(','),
      maxResults: '50',
    });
    const list = await readGoogleJson(
      await ctx.request(`youtube/v3/videos?${query}`),
      VideoList,
      'videos.list',
    );
    for (const item of list.items) found.set(item.id, item);
  }
  return found;
}

async function* run(ctx: SyncContext, checkpoint: YoutubeCheckpoint | null) {
  let cp = checkpoint?.phase === 'pass' ? checkpoint : undefined;
  const items: SyncItem[] = [];
  if (!cp) {
    const query = new URLSearchParams({ part: PARTS, mine: 'true' });
    const list = await readGoogleJson(
      await ctx.request(`youtube/v3/channels?${query}`),
      ChannelList,
      'channels.list',
    );
    const channel = list.items[0];
    if (!channel) throw new AppError('not_found', 'This YouTube account has no channel.');
    items.push({ kind: 'record', model: 'channels', id: channel.id, raw: channel });
    const uploads = Channel.shape.contentDetails.safeParse(channel.contentDetails);
    if (!uploads.success) {
      // Without its uploads playlist the videos cannot be listed: the pass cannot complete.
      throw new AppError('bad_gateway', 'YouTube answered channels.list without the uploads playlist.');
    }
    cp = {
      phase: 'pass',
      passId: randomBytes(8).toString('hex'),
      uploads: uploads.data.relatedPlaylists.uploads,
      pageToken: '',
    };
  }
  for (;;) {
    const query = new URLSearchParams({
      part: 'contentDetails',
      playlistId: cp.uploads,
      maxResults: String(PAGE),
    });
    if (cp.pageToken) query.set('pageToken', cp.pageToken);
    const page = await readGoogleJson(
      await ctx.request(`youtube/v3/playlistItems?${query}`),
      PlaylistPage,
      'playlistItems.list',
    );
    const ids = page.items.map((item) => item.contentDetails.videoId);
    const videos = await videosById(ctx, ids);
    for (const [id, raw] of videos) items.push({ kind: 'record', model: 'videos', id, raw });
    const complete = page.nextPageToken === undefined;
    const next: YoutubeCheckpoint = complete ? { phase: 'done' } : { ...cp, pageToken: page.nextPageToken! };
    yield { items: items.splice(0), checkpoint: next, fullPass: { id: cp.passId, models: MODELS, complete } };
    if (next.phase === 'done') return;
    cp = next;
  }
}

/** Channels or videos by id again (failed records of an earlier run); one not answered is gone. */
async function refetch(ctx: SyncContext, model: string, ids: readonly string[]): Promise<SyncItem[]> {
  let found: Map<string, unknown>;
  if (model === 'videos') found = await videosById(ctx, ids);
  else {
    const query = new URLSearchParams({ part: PARTS, id: ids.join(',') });
    const list = await readGoogleJson(
      await ctx.request(`youtube/v3/channels?${query}`),
      ChannelList,
      'channels.list',
    );
    found = new Map(list.items.map((item) => [item.id, item]));
  }
  return ids.map((id): SyncItem => {
    const raw = found.get(id);
    return raw === undefined ? { kind: 'deleted', model, id } : { kind: 'record', model, id, raw };
  });
}

export const youtubeStatsSync: SyncDefinition<YoutubeCheckpoint> = {
  name: 'youtube-stats',
  models: [
    { name: 'channels', map: mapChannel },
    { name: 'videos', map: mapVideo },
  ],
  defaultFrequencyMinutes: 24 * 60,
  scopes: [
    'https://www.googleapis.com/auth/youtube.readonly',
    'https://www.googleapis.com/auth/youtube',
    'https://www.googleapis.com/auth/youtube.force-ssl',
  ],
  run,
  refetch,
};
