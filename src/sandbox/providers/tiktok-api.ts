import type { FastifyInstance, FastifyReply } from 'fastify';
import { type RecordSet, type RecordState, recordRandom } from '../datasets/record-set.ts';
import { recordSetOf } from '../datasets/record-set-kinds.ts';
import { bearerToken, readParams, send } from '../http.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { apiError, logId } from './tiktok.ts';

/**
 * TikTok's Display API videos over the generated datasets (one per open_id, `tiktok/videos`),
 * under /tiktok: POST /v2/video/list/?fields=… with a JSON body `{cursor?, max_count ≤ 20}`,
 * newest first; `cursor` is a UTC timestamp in milliseconds (the videos created before it) and
 * the answer's `data.cursor` is the creation time of its last video, with `has_more`;
 * POST /v2/video/query/ `{filters: {video_ids}}` (≤ 20). `fields` is required and checked. A
 * removed video is gone; an updated one has other counts.
 */

const MAX_COUNT = 20;
export const VIDEO_FIELDS = [
  'id',
  'create_time',
  'cover_image_url',
  'share_url',
  'video_description',
  'duration',
  'height',
  'width',
  'title',
  'embed_html',
  'embed_link',
  'like_count',
  'comment_count',
  'share_count',
  'view_count',
] as const;
const WORDS = ['dance', 'recipe', 'tutorial', 'vlog', 'unboxing', 'prank', 'travel', 'pets'];

export function registerTiktokApiRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post('/v2/video/list/', endpoint('tiktok.video.list'), async (request, reply) => {
    const openId = authorize(state, bearerToken(request), reply);
    if (!openId) return reply;
    const fields = readFields(readParams(request.query).fields, reply);
    if (!fields) return reply;
    const body = (request.body ?? {}) as { cursor?: unknown; max_count?: unknown };
    const count = body.max_count === undefined ? 10 : body.max_count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_COUNT)
      return send(reply, apiError(400, 'invalid_params', `max_count must be between 1 and ${MAX_COUNT}`));
    if (body.cursor !== undefined && (typeof body.cursor !== 'number' || !Number.isInteger(body.cursor)))
      return send(reply, apiError(400, 'invalid_params', 'cursor must be a UTC timestamp in milliseconds'));
    const set = recordSetOf(state, 'tiktok', 'videos', openId);
    const before =
      typeof body.cursor === 'number' ? firstCreatedAtOrAfter(set, body.cursor) : (set?.size() ?? 0);
    const indexes = set ? set.newest(before, count + 1) : [];
    const page = indexes.slice(0, count);
    const last = page.at(-1);
    return {
      data: {
        videos: page.map((index) => pick(renderVideo(set!, set!.state(index)), fields)),
        cursor: last === undefined ? (body.cursor ?? 0) : set!.state(last).createdAt,
        has_more: indexes.length > page.length,
      },
      error: { code: 'ok', message: '', log_id: logId() },
    };
  });

  app.post('/v2/video/query/', endpoint('tiktok.video.query'), async (request, reply) => {
    const openId = authorize(state, bearerToken(request), reply);
    if (!openId) return reply;
    const fields = readFields(readParams(request.query).fields, reply);
    if (!fields) return reply;
    const ids = (request.body as { filters?: { video_ids?: unknown } } | undefined)?.filters?.video_ids;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_COUNT ||
      !ids.every((id) => typeof id === 'string')
    )
      return send(
        reply,
        apiError(400, 'invalid_params', `filters.video_ids must hold 1 to ${MAX_COUNT} ids`),
      );
    const set = recordSetOf(state, 'tiktok', 'videos', openId);
    const videos = set
      ? ids.flatMap((id) => {
          const index = /^\d{1,40}$/.test(id)
            ? set.indexOf(BigInt(id).toString(16).padStart(24, '0'))
            : undefined;
          return index === undefined || set.state(index).removed
            ? []
            : [pick(renderVideo(set, set.state(index)), fields)];
        })
      : [];
    return { data: { videos }, error: { code: 'ok', message: '', log_id: logId() } };
  });
}

function authorize(state: SandboxState, token: string | undefined, reply: FastifyReply): string | undefined {
  const check = checkAccessToken(state, 'tiktok', token);
  if (!check.ok) {
    send(
      reply,
      apiError(401, 'access_token_invalid', 'The access token is invalid or not found in the request.'),
    );
    return undefined;
  }
  // Video endpoints need the video.list scope.
  if (!check.grant.scopes.includes('video.list')) {
    send(
      reply,
      apiError(
        401,
        'scope_not_authorized',
        'The user did not authorize the scope required for completing this request.',
      ),
    );
    return undefined;
  }
  return check.grant.accountId;
}

function readFields(raw: string | undefined, reply: FastifyReply): string[] | undefined {
  const fields = (raw ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = fields.find((f) => !(VIDEO_FIELDS as readonly string[]).includes(f));
  if (fields.length === 0 || unknown) {
    send(
      reply,
      apiError(400, 'invalid_params', unknown ? `Invalid field: ${unknown}` : 'fields is required'),
    );
    return undefined;
  }
  return fields;
}

/** The index of the first video created at or after `cursor` (those before it come next). */
function firstCreatedAtOrAfter(set: RecordSet | undefined, cursor: number): number {
  if (!set) return 0;
  let lo = 0;
  let hi = set.size();
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set.state(mid).createdAt >= cursor) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pick(video: Record<string, unknown>, fields: readonly string[]) {
  return Object.fromEntries(fields.filter((f) => f in video).map((f) => [f, video[f]]));
}

export function videoId(record: RecordState): string {
  return BigInt(`0x${record.key}`).toString();
}

export function renderVideo(set: RecordSet, record: RecordState): Record<string, unknown> {
  const base = recordRandom(set, 'video', record.index);
  const title = Array.from({ length: 3 }, () => WORDS[Math.floor(base.next() * WORDS.length)]).join(' ');
  const views = 100 + Math.floor(base.next() * 100_000);
  const growth = recordRandom(set, 'video', record.index, record.version);
  const more = record.version * (1 + Math.floor(growth.next() * 1000));
  const id = videoId(record);
  if (record.malformed) return { id, create_time: 'later', view_count: -1, title: 42 };
  return {
    id,
    create_time: Math.floor(record.createdAt / 1000),
    cover_image_url: `https://p16-sign.tiktokcdn-us.com/sandbox/${id}.jpeg`,
    share_url: `https://www.tiktok.com/@sandbox/video/${id}`,
    video_description: `${title} #${record.index}`,
    duration: 5 + Math.floor(base.next() * 55),
    height: 1920,
    width: 1080,
    title: `${title} #${record.index}`,
    embed_link: `https://www.tiktok.com/player/v1/${id}`,
    like_count: Math.floor(views / 10) + more,
    comment_count: Math.floor(views / 100) + Math.floor(more / 10),
    share_count: Math.floor(views / 300),
    view_count: views + more * 10,
  };
}
