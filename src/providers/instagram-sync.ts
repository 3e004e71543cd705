import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SyncContext, SyncDefinition, SyncItem, SyncPage } from '../syncs/definition.ts';
import { readSyncJson } from './sync-response.ts';

/**
 * Instagram `media`: the professional account's posts with their like and comment counts.
 * Instagram has no change feed and no modified time (counts change silently), so every run is a
 * full pass over GET /me/media, newest first, by the `after` cursor: the records store keeps what
 * changed by content hash, and when a pass completes without a failed record the posts it did
 * not see (deleted on Instagram) become tombstones.
 */

export interface InstagramCheckpoint {
  /** A pass in progress; null: the next run starts one. */
  pass: { id: string; after: string | null } | null;
}

const MODEL = 'media';
const LIMIT = 100;
const DISPLAY = 'Instagram';
const FIELDS =
  'id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,username,like_count,comments_count';

/** Graph API times: 2024-01-01T00:00:37+0000. */
const GraphTime = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/)
  .transform((value) => new Date(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).toISOString());
const Media = z.object({
  id: z.string().regex(/^\d+$/),
  caption: z.string().optional(),
  media_type: z.enum(['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM']),
  media_url: z.string().optional(),
  permalink: z.string(),
  thumbnail_url: z.string().optional(),
  timestamp: GraphTime,
  username: z.string(),
  like_count: z.number().int().nonnegative(),
  comments_count: z.number().int().nonnegative(),
});
const Page = z.object({
  data: z.array(z.unknown()),
  paging: z
    .object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() })
    .optional(),
});
const Head = z.object({ id: z.string().min(1) });

function mapMedia(raw: unknown) {
  const m = Media.parse(raw);
  return {
    data: {
      id: m.id,
      caption: m.caption ?? null,
      mediaType: m.media_type,
      mediaUrl: m.media_url ?? null,
      permalink: m.permalink,
      thumbnailUrl: m.thumbnail_url ?? null,
      timestamp: m.timestamp,
      username: m.username,
      likeCount: m.like_count,
      commentsCount: m.comments_count,
    },
  };
}

async function* run(
  ctx: SyncContext,
  checkpoint: InstagramCheckpoint | null,
): AsyncGenerator<SyncPage<InstagramCheckpoint>> {
  const newPass = () => ({ id: randomBytes(8).toString('hex'), after: null });
  let pass: { id: string; after: string | null } = checkpoint?.pass ?? newPass();
  let after = pass.after;
  let restarted = false;
  for (;;) {
    const query = new URLSearchParams({ fields: FIELDS, limit: String(LIMIT) });
    if (after) query.set('after', after);
    const response = await ctx.request(`me/media?${query}`);
    if (response.status === 400 && after !== null && !restarted) {
      // The cursor no longer holds (a pass resumed long after): start the pass again, once.
      await response.body?.cancel();
      pass = newPass();
      after = null;
      restarted = true;
      continue;
    }
    const page = await readSyncJson(response, Page, DISPLAY, 'GET /me/media');
    const items: SyncItem[] = page.data.flatMap((raw) => {
      const head = Head.safeParse(raw);
      return head.success ? [{ kind: 'record' as const, model: MODEL, id: head.data.id, raw }] : [];
    });
    after = page.paging?.cursors?.after ?? null;
    const complete = page.paging?.next === undefined || after === null;
    yield {
      items,
      checkpoint: { pass: complete ? null : { id: pass.id, after } },
      fullPass: { id: pass.id, models: [MODEL], complete },
    };
    if (complete) return;
  }
}

/** Posts by id; one Instagram no longer has (error 100) is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const items: SyncItem[] = [];
  for (const id of ids) {
    const response = await ctx.request(`${encodeURIComponent(id)}?fields=${FIELDS}`);
    if (response.status === 400 || response.status === 404) {
      const body = await response.text();
      if (response.status === 404 || /"code"\s*:\s*100\b/.test(body)) {
        items.push({ kind: 'deleted', model: MODEL, id });
        continue;
      }
    }
    items.push({
      kind: 'record',
      model: MODEL,
      id,
      raw: await readSyncJson(response, z.unknown(), DISPLAY, 'GET a post'),
    });
  }
  return items;
}

export const instagramMediaSync: SyncDefinition<InstagramCheckpoint> = {
  name: 'instagram-media',
  models: [{ name: MODEL, map: mapMedia }],
  defaultFrequencyMinutes: 360,
  scopes: ['instagram_business_basic', 'instagram_basic'],
  run,
  refetch,
};
