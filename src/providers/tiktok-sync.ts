import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { SyncContext, SyncDefinition, SyncItem, SyncPage } from '../syncs/definition.ts';
import { readSyncJson } from './sync-response.ts';

/**
 * TikTok `videos`: the user's videos with their view, like, comment and share counts. No change
 * feed and no modified time, so every run is a full pass over POST /v2/video/list/, newest first,
 * 20 at a time by the millisecond `cursor` TikTok hands back; when a pass completes without a
 * failed record the videos it did not see become tombstones.
 */

export interface TiktokCheckpoint {
  /** A pass in progress; null: the next run starts one. */
  pass: { id: string; cursor: number | null } | null;
}

const MODEL = 'videos';
const MAX_COUNT = 20;
const DISPLAY = 'TikTok';
const FIELDS =
  'id,title,video_description,create_time,cover_image_url,share_url,embed_link,duration,height,width,like_count,comment_count,share_count,view_count';

const Count = z.number().int().nonnegative();
const Video = z.object({
  id: z.string().regex(/^\d+$/),
  title: z.string().optional(),
  video_description: z.string().optional(),
  create_time: z.number().int().positive(),
  cover_image_url: z.string().optional(),
  share_url: z.string().optional(),
  embed_link: z.string().optional(),
  duration: z.number().int().nonnegative().optional(),
  height: z.number().int().optional(),
  width: z.number().int().optional(),
  like_count: Count,
  comment_count: Count,
  share_count: Count,
  view_count: Count,
});
const Answer = z.object({
  data: z.object({
    videos: z.array(z.unknown()).default([]),
    cursor: z.number().int().optional(),
    has_more: z.boolean().optional(),
  }),
  error: z.object({ code: z.string(), message: z.string().optional() }),
});
const Head = z.object({ id: z.string().min(1) });

function mapVideo(raw: unknown) {
  const v = Video.parse(raw);
  return {
    data: {
      id: v.id,
      title: v.title ?? null,
      description: v.video_description ?? null,
      createdAt: new Date(v.create_time * 1000).toISOString(),
      coverImageUrl: v.cover_image_url ?? null,
      shareUrl: v.share_url ?? null,
      embedLink: v.embed_link ?? null,
      duration: v.duration ?? null,
      height: v.height ?? null,
      width: v.width ?? null,
      likeCount: v.like_count,
      commentCount: v.comment_count,
      shareCount: v.share_count,
      viewCount: v.view_count,
    },
  };
}

async function call(ctx: SyncContext, path: string, body: unknown, what: string) {
  const response = await ctx.request(`${path}?fields=${FIELDS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await readSyncJson(response, Answer, DISPLAY, what);
  if (answer.error.code !== 'ok')
    throw new AppError('bad_gateway', `${DISPLAY} answered ${answer.error.code} to ${what}.`);
  return answer.data;
}

const itemsOf = (videos: unknown[]): SyncItem[] =>
  videos.flatMap((raw) => {
    const head = Head.safeParse(raw);
    return head.success ? [{ kind: 'record' as const, model: MODEL, id: head.data.id, raw }] : [];
  });

async function* run(
  ctx: SyncContext,
  checkpoint: TiktokCheckpoint | null,
): AsyncGenerator<SyncPage<TiktokCheckpoint>> {
  const pass = checkpoint?.pass ?? { id: randomBytes(8).toString('hex'), cursor: null };
  let cursor = pass.cursor;
  for (;;) {
    const data = await call(
      ctx,
      'v2/video/list/',
      { max_count: MAX_COUNT, ...(cursor === null ? {} : { cursor }) },
      'video/list',
    );
    const complete = data.has_more !== true || data.cursor === undefined;
    cursor = data.cursor ?? null;
    yield {
      items: itemsOf(data.videos),
      checkpoint: { pass: complete ? null : { id: pass.id, cursor } },
      fullPass: { id: pass.id, models: [MODEL], complete },
    };
    if (complete) return;
  }
}

/** Videos by id (video/query, 20 at a time); one TikTok no longer returns is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const found = new Map<string, SyncItem>();
  for (let at = 0; at < ids.length; at += MAX_COUNT) {
    const data = await call(
      ctx,
      'v2/video/query/',
      { filters: { video_ids: ids.slice(at, at + MAX_COUNT) } },
      'video/query',
    );
    for (const item of itemsOf(data.videos)) found.set(item.id, item);
  }
  return ids.map((id) => found.get(id) ?? { kind: 'deleted', model: MODEL, id });
}

export const tiktokVideosSync: SyncDefinition<TiktokCheckpoint> = {
  name: 'tiktok-videos',
  models: [{ name: MODEL, map: mapVideo }],
  defaultFrequencyMinutes: 360,
  scopes: ['video.list'],
  run,
  refetch,
};
