import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Collection, wordsOf } from '../datasets/change-log.ts';
import { googleCollectionOf } from '../datasets/collection-kind.ts';
import { type ProviderReply, send } from '../http.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { makeRandom } from '../webhooks/random.ts';
import { decodeToken, encodeToken, googleCaller, isReply, readPageSize } from './google-auth.ts';
import { googleError } from './google-errors.ts';

// The YouTube Data API v3 over the generated `videos` dataset (datasets/change-log.ts), under
// /google. Every seeded Google account has one channel; its videos are the dataset.
//   GET /youtube/v3/channels?part=…&mine=true (or id=)      the channel: snippet, statistics,
//       contentDetails.relatedPlaylists.uploads
//   GET /youtube/v3/playlistItems?part=…&playlistId=UU…     the uploads, newest first, 5 a page by
//       default and 50 at most, nextPageToken
//   GET /youtube/v3/videos?part=…&id=a,b,…                  at most 50 ids; unknown or deleted
//       ones are left out of `items`, as YouTube does
// `part` is required and names known parts only (400 otherwise); there is no change feed, and the
// statistics move with the dataset's updates.

const PARTS = {
  channels: ['id', 'snippet', 'statistics', 'contentDetails'],
  playlistItems: ['id', 'snippet', 'contentDetails', 'status'],
  videos: ['id', 'snippet', 'statistics', 'contentDetails', 'status'],
} as const;
const MAX_IDS = 50;
const EPOCH_MS = Date.UTC(2021, 2, 1);
const STEP_MS = 2 * 86_400_000;

const badRequest = (message: string, reason: string) => googleError(400, message, reason, 'INVALID_ARGUMENT');

function readParts(raw: string | undefined, known: readonly string[]): Set<string> | ProviderReply {
  if (raw === undefined || raw.trim() === '') return badRequest('Required parameter: part', 'required');
  const parts = raw.split(',').map((p) => p.trim());
  const unknown = parts.find((p) => !known.includes(p));
  if (unknown) return badRequest(`'${unknown}'`, 'unknownPart');
  return new Set(parts);
}

export function channelIdOf(accountId: string): string {
  return createHash('sha256').update(`channel:${accountId}`).digest('base64url').slice(0, 22);
}

export function registerYoutubeRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get('/youtube/v3/channels', endpoint('google.youtube.channels.list'), async (request, reply) => {
    const caller = googleCaller(state, request);
    if (!caller.ok) return send(reply, caller.reply);
    const query = request.query as Record<string, string | undefined>;
    const parts = readParts(query.part, PARTS.channels);
    if (isReply(parts)) return send(reply, parts);
    const own = `UC${channelIdOf(caller.accountId)}`;
    if (query.mine === undefined && query.id === undefined)
      return send(
        reply,
        badRequest(
          'No filter selected. Expected one of: mine, id, forHandle, forUsername',
          'missingRequiredParameter',
        ),
      );
    const wanted = query.mine === 'true' || (query.id ?? '').split(',').includes(own);
    const videos = googleCollectionOf(state, 'videos', caller.accountId);
    const items = wanted ? [pick(renderChannel(caller, videos), parts)] : [];
    return {
      kind: 'youtube#channelListResponse',
      etag: etag(`channels:${own}:${videos?.position() ?? 0}`),
      pageInfo: { totalResults: items.length, resultsPerPage: 5 },
      items,
    };
  });

  app.get(
    '/youtube/v3/playlistItems',
    endpoint('google.youtube.playlistitems.list'),
    async (request, reply) => {
      const caller = googleCaller(state, request);
      if (!caller.ok) return send(reply, caller.reply);
      const query = request.query as Record<string, string | undefined>;
      const parts = readParts(query.part, PARTS.playlistItems);
      if (isReply(parts)) return send(reply, parts);
      const limit = readPageSize(query.maxResults, 5, 50, 'maxResults', (m) =>
        badRequest(m, 'invalidParameter'),
      );
      if (isReply(limit)) return send(reply, limit);
      if (query.playlistId !== `UU${channelIdOf(caller.accountId)}`)
        return send(
          reply,
          googleError(
            404,
            "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
            'playlistNotFound',
            'NOT_FOUND',
          ),
        );
      const videos = googleCollectionOf(state, 'videos', caller.accountId);
      let before = videos?.size() ?? 0;
      if (query.pageToken !== undefined) {
        const token = decodeToken(query.pageToken);
        if (!videos || typeof token?.before !== 'number' || token.e !== videos.prefix)
          return send(reply, badRequest('The request specifies an invalid page token.', 'invalidPageToken'));
        before = token.before;
      }
      const indexes = videos ? videos.indexes(before, limit + 1, { descending: true }) : [];
      const page = indexes.slice(0, limit);
      return {
        kind: 'youtube#playlistItemListResponse',
        etag: etag(`items:${query.playlistId}:${before}:${videos?.position() ?? 0}`),
        ...(indexes.length > limit
          ? { nextPageToken: encodeToken({ e: videos!.prefix, before: page.at(-1)! }) }
          : {}),
        pageInfo: { totalResults: videos?.live() ?? 0, resultsPerPage: limit },
        items: page.map((index, position) => {
          const id = videoIdOf(videos!, index);
          const published = new Date(publishedAt(index)).toISOString();
          return pick(
            {
              kind: 'youtube#playlistItem',
              etag: etag(`item:${id}`),
              id: Buffer.from(`${query.playlistId}.${id}`).toString('base64url'),
              snippet: {
                publishedAt: published,
                channelId: `UC${channelIdOf(caller.accountId)}`,
                title: titleOf(videos!, index),
                playlistId: query.playlistId,
                position,
                resourceId: { kind: 'youtube#video', videoId: id },
              },
              contentDetails: { videoId: id, videoPublishedAt: published },
              status: { privacyStatus: 'public' },
            },
            parts,
          );
        }),
      };
    },
  );

  app.get('/youtube/v3/videos', endpoint('google.youtube.videos.list'), async (request, reply) => {
    const caller = googleCaller(state, request);
    if (!caller.ok) return send(reply, caller.reply);
    const query = request.query as Record<string, string | undefined>;
    const parts = readParts(query.part, PARTS.videos);
    if (isReply(parts)) return send(reply, parts);
    if (query.id === undefined)
      return send(
        reply,
        badRequest('No filter selected. Expected one of: id, myRating, chart', 'missingRequiredParameter'),
      );
    const ids = query.id.split(',').filter(Boolean);
    if (ids.length > MAX_IDS)
      return send(reply, badRequest('The request specifies more than 50 video ids.', 'invalidVideoId'));
    const videos = googleCollectionOf(state, 'videos', caller.accountId);
    const items = videos
      ? ids.flatMap((id) => {
          const index = videoIndexOf(videos, id);
          return index === undefined || !videos.isLive(index)
            ? []
            : [pick(renderVideo(videos, index, caller.accountId), parts)];
        })
      : [];
    return {
      kind: 'youtube#videoListResponse',
      etag: etag(`videos:${query.id}:${videos?.position() ?? 0}`),
      items,
      pageInfo: { totalResults: items.length, resultsPerPage: items.length },
    };
  });
}

function etag(of: string): string {
  return createHash('sha256').update(of).digest('base64url').slice(0, 27);
}

/** The resource with only the parts asked for (kind, etag and id always). */
function pick(resource: Record<string, unknown>, parts: Set<string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(resource).filter(([key]) => ['kind', 'etag', 'id'].includes(key) || parts.has(key)),
  );
}

export function videoIdOf(videos: Collection, index: number): string {
  // Eleven characters of base64url, as YouTube's ids: four of the prefix, seven of the index.
  return `${Buffer.from(videos.prefix, 'hex').toString('base64url').slice(0, 4)}${index.toString(36).padStart(7, '0')}`;
}

function videoIndexOf(videos: Collection, id: string): number | undefined {
  if (id.length !== 11 || videoIdOf(videos, 0).slice(0, 4) !== id.slice(0, 4)) return undefined;
  const index = Number.parseInt(id.slice(4), 36);
  return Number.isInteger(index) && index < videos.size() ? index : undefined;
}

const publishedAt = (index: number) => EPOCH_MS + index * STEP_MS;

function titleOf(videos: Collection, index: number): string {
  return `${wordsOf(makeRandom(`${videos.spec.seed}:video:${index}`), 4).join(' ')} #${index}`;
}

function statisticsOf(videos: Collection, index: number) {
  const random = makeRandom(`${videos.spec.seed}:video-stats:${index}`);
  const views = 50 + Math.floor(random.next() * 100_000) + videos.version(index) * 1_337;
  return {
    viewCount: String(views),
    likeCount: String(Math.floor(views / 23)),
    favoriteCount: '0',
    commentCount: String(Math.floor(views / 310) + videos.version(index)),
  };
}

export function renderVideo(videos: Collection, index: number, accountId: string): Record<string, unknown> {
  const id = videoIdOf(videos, index);
  if (videos.isMalformed(index))
    // What a broken record looks like to a client: statistics that are not counts, no snippet.
    return { kind: 'youtube#video', etag: etag(`bad:${id}`), id, statistics: { viewCount: 'lots' } };
  const statistics = statisticsOf(videos, index);
  return {
    kind: 'youtube#video',
    etag: etag(`video:${id}:${videos.version(index)}`),
    id,
    snippet: {
      publishedAt: new Date(publishedAt(index)).toISOString(),
      channelId: `UC${channelIdOf(accountId)}`,
      title: titleOf(videos, index),
      description: `Video ${index} of the sandbox channel.`,
      categoryId: '22',
      liveBroadcastContent: 'none',
    },
    contentDetails: { duration: `PT${1 + (index % 17)}M${index % 60}S`, definition: 'hd', caption: 'false' },
    status: { uploadStatus: 'processed', privacyStatus: 'public', embeddable: true },
    statistics,
  };
}

function renderChannel(
  caller: { accountId: string; email: string },
  videos: Collection | undefined,
): Record<string, unknown> {
  const channelId = channelIdOf(caller.accountId);
  let views = 0;
  const live = videos?.live() ?? 0;
  if (videos)
    for (const index of videos.indexes(0, videos.size(), {}))
      if (!videos.isMalformed(index)) views += Number(statisticsOf(videos, index).viewCount);
  const random = makeRandom(`channel:${caller.accountId}`);
  const subscribers = 10 + Math.floor(random.next() * 50_000) + (videos?.position() ?? 0) * 3;
  const name = caller.email.split('@')[0]!;
  return {
    kind: 'youtube#channel',
    etag: etag(`channel:${channelId}:${videos?.position() ?? 0}`),
    id: `UC${channelId}`,
    snippet: {
      title: `${name}'s channel`,
      description: 'A sandbox YouTube channel.',
      customUrl: `@${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}`,
      publishedAt: new Date(EPOCH_MS - 86_400_000).toISOString(),
      country: 'GB',
    },
    contentDetails: { relatedPlaylists: { likes: '', uploads: `UU${channelId}` } },
    statistics: {
      viewCount: String(views),
      subscriberCount: String(subscribers),
      hiddenSubscriberCount: false,
      videoCount: String(live),
    },
  };
}
