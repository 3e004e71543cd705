import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type RecordSet, type RecordState, recordRandom } from '../datasets/record-set.ts';
import { recordSetOf } from '../datasets/record-set-kinds.ts';
import { bearerToken, readParams, requestOrigin, send } from '../http.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { graphError, tokenError } from './instagram.ts';

/**
 * Instagram's media over the generated datasets (one per professional account,
 * `instagram/media`), under /instagram/graph: GET /me/media (also /{version}/me/media) with
 * Graph API `fields` (id when absent; an unknown field is error 100), `limit` (≤ 100, default 25)
 * and cursor paging (`after`, `paging.cursors`, `paging.next` only when there is more), newest
 * first; GET /{media-id}. There is no change feed: a removed post is simply gone (error 100,
 * subcode 33, for its id), an updated one has other like and comment counts.
 */

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const TYPES = ['IMAGE', 'IMAGE', 'VIDEO', 'CAROUSEL_ALBUM'] as const;
const WORDS = ['sunset', 'coffee', 'launch', 'team', 'beach', 'studio', 'city', 'weekend'];
export const MEDIA_FIELDS = [
  'id',
  'caption',
  'media_type',
  'media_url',
  'permalink',
  'thumbnail_url',
  'timestamp',
  'username',
  'like_count',
  'comments_count',
] as const;

export function registerInstagramApiRoutes(app: FastifyInstance, state: SandboxState): void {
  const handler = (request: FastifyRequest, reply: FastifyReply) => listMedia(state, request, reply);
  app.get('/graph/me/media', endpoint('instagram.media'), handler);
  app.get('/graph/:version/me/media', endpoint('instagram.media'), handler);
  app.get('/graph/:mediaId', endpoint('instagram.media.get'), async (request, reply) => {
    const params = readParams(request.query);
    const check = checkAccessToken(state, 'instagram', params.access_token ?? bearerToken(request));
    if (!check.ok) return send(reply, tokenError(check));
    const fields = readFields(params.fields);
    if (typeof fields === 'string') return send(reply, graphError(100, fields));
    const set = recordSetOf(state, 'instagram', 'media', check.grant.accountId);
    const { mediaId } = request.params as { mediaId: string };
    const index = set ? indexOfMedia(set, mediaId) : undefined;
    if (!set || index === undefined || set.state(index).removed)
      return send(
        reply,
        graphError(
          100,
          `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          400,
          33,
        ),
      );
    return pick(renderMedia(set, set.state(index), usernameOf(state, check.grant.accountId)), fields);
  });
}

async function listMedia(state: SandboxState, request: FastifyRequest, reply: FastifyReply) {
  const params = readParams(request.query);
  const check = checkAccessToken(state, 'instagram', params.access_token ?? bearerToken(request));
  if (!check.ok) return send(reply, tokenError(check));
  const fields = readFields(params.fields);
  if (typeof fields === 'string') return send(reply, graphError(100, fields));
  const limit = params.limit === undefined ? DEFAULT_LIMIT : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1) return send(reply, graphError(100, 'Invalid parameter: limit'));
  const set = recordSetOf(state, 'instagram', 'media', check.grant.accountId);
  let before = set?.size() ?? 0;
  if (params.after !== undefined) {
    const index = readCursor(params.after);
    if (index === undefined) return send(reply, graphError(100, 'Invalid parameter: after is not a cursor'));
    before = index;
  }
  const indexes = set ? set.newest(before, Math.min(limit, MAX_LIMIT) + 1) : [];
  const page = indexes.slice(0, Math.min(limit, MAX_LIMIT));
  const username = usernameOf(state, check.grant.accountId);
  const data = page.map((index) => pick(renderMedia(set!, set!.state(index), username), fields));
  if (page.length === 0) return { data: [] };
  const after = cursorOf(page.at(-1)!);
  // request.url is the whole path the caller used, mount prefix included.
  const next = new URL(`${requestOrigin(request)}${request.url}`);
  next.searchParams.set('after', after);
  return {
    data,
    paging: {
      cursors: { before: cursorOf(page[0]! + 1), after },
      ...(indexes.length > page.length ? { next: next.href } : {}),
    },
  };
}

function readFields(raw: string | undefined): (typeof MEDIA_FIELDS)[number][] | string {
  const fields = (raw ?? 'id')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = fields.find((f) => !(MEDIA_FIELDS as readonly string[]).includes(f));
  if (unknown) return `Tried accessing nonexisting field (${unknown}) on node type (Media)`;
  return fields as (typeof MEDIA_FIELDS)[number][];
}

function pick(media: Record<string, unknown>, fields: readonly string[]) {
  const out: Record<string, unknown> = { id: media.id };
  for (const f of fields) if (f in media) out[f] = media[f];
  return out;
}

/** A cursor names the position just past the last item (the next page is older). */
function cursorOf(index: number): string {
  return Buffer.from(`after:${index}`).toString('base64url');
}
function readCursor(value: string): number | undefined {
  const text = Buffer.from(value, 'base64url').toString();
  return /^after:\d{1,12}$/.test(text) ? Number(text.slice(6)) : undefined;
}

function usernameOf(state: SandboxState, accountId: string): string {
  return state.accounts.instagram.find((u) => u.userId === accountId)?.username ?? 'unknown';
}

export function mediaId(record: RecordState): string {
  return BigInt(`0x${record.key}`).toString();
}
function indexOfMedia(set: RecordSet, id: string): number | undefined {
  if (!/^\d{1,40}$/.test(id)) return undefined;
  return set.indexOf(BigInt(id).toString(16).padStart(24, '0'));
}

/** Graph API times: 2024-01-01T00:00:37+0000. */
export function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

export function renderMedia(set: RecordSet, record: RecordState, username: string): Record<string, unknown> {
  const base = recordRandom(set, 'media', record.index);
  const type = TYPES[Math.floor(base.next() * TYPES.length)]!;
  const caption = Array.from({ length: 4 }, () => WORDS[Math.floor(base.next() * WORDS.length)]).join(' ');
  const likes = Math.floor(base.next() * 900);
  const comments = Math.floor(base.next() * 60);
  // Each update brings more likes and comments.
  const growth = recordRandom(set, 'media', record.index, record.version);
  const id = mediaId(record);
  if (record.malformed) return { id, timestamp: 'whenever', like_count: 'many', media_type: 7 };
  return {
    id,
    caption: `${caption} #${record.index}`,
    media_type: type,
    media_url: `https://scontent.cdninstagram.com/sandbox/${id}.${type === 'VIDEO' ? 'mp4' : 'jpg'}`,
    permalink: `https://www.instagram.com/p/${id.slice(-11)}/`,
    ...(type === 'VIDEO'
      ? { thumbnail_url: `https://scontent.cdninstagram.com/sandbox/${id}-thumb.jpg` }
      : {}),
    timestamp: graphTime(record.createdAt),
    username,
    like_count: likes + record.version * (1 + Math.floor(growth.next() * 50)),
    comments_count: comments + record.version * Math.floor(growth.next() * 5),
  };
}
