import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type RecordSet, type RecordState, recordRandom } from '../datasets/record-set.ts';
import { recordSetOf } from '../datasets/record-set-kinds.ts';
import { bearerToken, send } from '../http.ts';
import type { KeyedLimit } from '../keyed-limits.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { apiError, authenticateApi } from './notion.ts';

/**
 * Notion's search over the generated pages (one dataset per user, `notion/pages`), under /notion:
 * POST /v1/search with `filter: {property: "object", value: "page" | "database"}`, `sort:
 * {timestamp: "last_edited_time", direction}`, `start_cursor`, `page_size` (≤ 100) →
 * `{object: "list", results, next_cursor, has_more}`; GET /v1/pages/{id}. As Notion does, times
 * are rounded down to the minute (`last_edited_time` of several pages can be equal), and a removed
 * page is still found, `archived` and `in_trash`. Per token: about 3 requests a second with a small
 * burst (10 in 3 seconds), then 429 `rate_limited` with Retry-After.
 */

const MAX_PAGE_SIZE = 100;
const TITLES = ['Roadmap', 'Meeting notes', 'Reading list', 'Launch plan', 'Retrospective', 'Ideas'];

export const NOTION_TOKEN_LIMIT = { limit: 10, ms: 3000 } as const;

export function registerNotionApiRoutes(app: FastifyInstance, state: SandboxState): void {
  const perToken = (request: FastifyRequest): KeyedLimit | undefined => {
    const token = bearerToken(request);
    const grantId = token ? state.grants.access(token)?.grantId : undefined;
    if (!grantId) return undefined;
    return { key: notionLimitKey(grantId), window: { ...NOTION_TOKEN_LIMIT, problem: 'rate_limited' } };
  };

  app.post('/v1/search', endpoint('notion.search', perToken), async (request, reply) => {
    const grant = authenticateApi(state, request, reply);
    if (!grant) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const invalid = (message: string) => send(reply, apiError(400, 'validation_error', message));
    const pageSize = body.page_size === undefined ? MAX_PAGE_SIZE : body.page_size;
    if (
      typeof pageSize !== 'number' ||
      !Number.isInteger(pageSize) ||
      pageSize < 1 ||
      pageSize > MAX_PAGE_SIZE
    )
      return invalid(`body.page_size should be a number between 1 and ${MAX_PAGE_SIZE}.`);
    const filter = body.filter as { property?: unknown; value?: unknown } | undefined;
    if (
      filter !== undefined &&
      (filter?.property !== 'object' || !['page', 'database'].includes(String(filter.value)))
    )
      return invalid('body.filter.value should be "page" or "database", and body.filter.property "object".');
    const sort = body.sort as { timestamp?: unknown; direction?: unknown } | undefined;
    if (
      sort !== undefined &&
      (sort?.timestamp !== 'last_edited_time' ||
        !['ascending', 'descending'].includes(String(sort.direction)))
    )
      return invalid(
        'body.sort.timestamp should be "last_edited_time" and body.sort.direction "ascending" or "descending".',
      );
    const ascending = sort?.direction === 'ascending';
    let after: number | undefined;
    if (body.start_cursor !== undefined) {
      after = readCursor(body.start_cursor);
      if (after === undefined) return invalid('body.start_cursor should be a valid cursor from next_cursor.');
    }

    const set = recordSetOf(state, 'notion', 'pages', grant.accountId);
    const results: unknown[] = [];
    let next: number | undefined;
    if (set && filter?.value !== 'database') {
      const indexes = ascending ? set.modifiedAfter(after) : set.modifiedBefore(after);
      let lastAt: number | undefined;
      for (const index of indexes) {
        // One more page exists: the cursor is where this one ended.
        if (results.length === pageSize) {
          next = lastAt;
          break;
        }
        const record = set.state(index);
        results.push(renderPage(set, record));
        lastAt = record.modifiedAt;
      }
    }
    return reply.send({
      object: 'list',
      results,
      next_cursor: next === undefined ? null : cursorOf(next),
      has_more: next !== undefined,
      type: 'page_or_database',
      page_or_database: {},
      request_id: randomUUID(),
    });
  });

  app.get('/v1/pages/:id', endpoint('notion.pages.get', perToken), async (request, reply) => {
    const grant = authenticateApi(state, request, reply);
    if (!grant) return reply;
    const { id } = request.params as { id: string };
    const set = recordSetOf(state, 'notion', 'pages', grant.accountId);
    const index = set?.indexOf(id.replace(/-/g, '').slice(0, 24));
    if (!set || index === undefined)
      return send(
        reply,
        apiError(
          404,
          'object_not_found',
          `Could not find page with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`,
        ),
      );
    return renderPage(set, set.state(index));
  });
}

export const notionLimitKey = (grantId: string) => `notion:${grantId}`;

/** A cursor is the exact (unrounded) modification time of the last page answered. */
function cursorOf(modifiedAt: number): string {
  return Buffer.from(`c:${modifiedAt}`).toString('base64url');
}
function readCursor(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = Buffer.from(value, 'base64url').toString();
  return /^c:\d{1,15}$/.test(text) ? Number(text.slice(2)) : undefined;
}

/** Notion rounds page times down to the minute. */
export function notionTime(ms: number): string {
  return new Date(ms - (ms % 60_000)).toISOString();
}

export function pageId(record: RecordState): string {
  const k = `${record.key}00000000`;
  return `${k.slice(0, 8)}-${k.slice(8, 12)}-${k.slice(12, 16)}-${k.slice(16, 20)}-${k.slice(20, 32)}`;
}

export function renderPage(set: RecordSet, record: RecordState) {
  const random = recordRandom(set, 'page', record.index);
  const title = `${TITLES[Math.floor(random.next() * TITLES.length)]} ${record.index}${record.version > 0 ? ` (v${record.version + 1})` : ''}`;
  const id = pageId(record);
  const user = { object: 'user', id: set.spec.accountId };
  if (record.malformed)
    return { object: 'page', id, last_edited_time: 'recently', properties: null, archived: 'no' };
  return {
    object: 'page',
    id,
    created_time: notionTime(record.createdAt),
    last_edited_time: notionTime(record.modifiedAt),
    created_by: user,
    last_edited_by: user,
    cover: null,
    icon: null,
    parent: { type: 'workspace', workspace: true },
    archived: record.removed,
    in_trash: record.removed,
    properties: {
      title: {
        id: 'title',
        type: 'title',
        title: [{ type: 'text', text: { content: title, link: null }, plain_text: title, href: null }],
      },
    },
    url: `https://www.notion.so/${title.replace(/[^A-Za-z0-9]+/g, '-')}-${id.replace(/-/g, '')}`,
    public_url: null,
  };
}
