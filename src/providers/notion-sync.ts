import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { SyncContext, SyncDefinition, SyncItem, SyncPage } from '../syncs/definition.ts';
import { readSyncJson } from './sync-response.ts';

/**
 * Notion `pages`: search, newest edit first, until the watermark (the newest edit time a finished
 * pass saw). Notion has no change feed and rounds edit times down to the minute, so a pass reads
 * down to the watermark's minute inclusive (those pages come again, unchanged by content hash)
 * and stops at the first page edited before it. The next watermark is the newest edit the pass
 * saw first: a page edited while a pass runs is newer than that, so the next run finds it.
 * Archived or trashed pages become tombstones.
 */

export interface NotionCheckpoint {
  /** Edits at or after this time (ms, a whole minute) may be unseen; null: never finished a pass. */
  watermark: number | null;
  /** A pass in progress: where it stopped, and the newest edit it saw first. */
  pass: { cursor: string; top: number | null } | null;
}

const MODEL = 'pages';
const PAGE_SIZE = 100;
const DISPLAY = 'Notion';

const Time = z.iso.datetime({ offset: true }).transform((value) => Date.parse(value));
const Page = z.object({
  object: z.literal('page'),
  id: z.string().min(1),
  created_time: Time,
  last_edited_time: Time,
  archived: z.boolean(),
  in_trash: z.boolean().optional(),
  url: z.string(),
  parent: z.record(z.string(), z.unknown()),
  properties: z.record(z.string(), z.object({ type: z.string() }).loose()),
});
const Head = z.object({
  id: z.string().min(1),
  last_edited_time: Time.optional().catch(undefined),
  archived: z.boolean().optional().catch(undefined),
  in_trash: z.boolean().optional().catch(undefined),
});
const SearchPage = z.object({
  results: z.array(z.unknown()),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
});

function mapPage(raw: unknown) {
  const p = Page.parse(raw);
  const titleProperty = Object.values(p.properties).find((prop) => prop.type === 'title') as
    | { title?: { plain_text?: string }[] }
    | undefined;
  return {
    data: {
      id: p.id,
      title: (titleProperty?.title ?? []).map((t) => t.plain_text ?? '').join(''),
      url: p.url,
      parent: p.parent,
      createdAt: new Date(p.created_time).toISOString(),
      lastEditedAt: new Date(p.last_edited_time).toISOString(),
      properties: p.properties,
    },
    version: p.last_edited_time,
  };
}

function itemOf(raw: unknown): { item: SyncItem; edited?: number } | undefined {
  const head = Head.safeParse(raw);
  if (!head.success) return undefined;
  const { id, last_edited_time: edited, archived, in_trash: trashed } = head.data;
  if (archived === true || trashed === true)
    return { item: { kind: 'deleted', model: MODEL, id, version: edited }, edited };
  return { item: { kind: 'record', model: MODEL, id, raw }, edited };
}

async function search(
  ctx: SyncContext,
  cursor: string | null,
): Promise<z.infer<typeof SearchPage> | 'stale'> {
  const body = {
    filter: { property: 'object', value: 'page' },
    sort: { timestamp: 'last_edited_time', direction: 'descending' },
    page_size: PAGE_SIZE,
    ...(cursor ? { start_cursor: cursor } : {}),
  };
  const response = await ctx.request('v1/search', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 400 && cursor !== null) {
    await response.body?.cancel();
    return 'stale';
  }
  return readSyncJson(response, SearchPage, DISPLAY, 'search');
}

async function* run(
  ctx: SyncContext,
  checkpoint: NotionCheckpoint | null,
): AsyncGenerator<SyncPage<NotionCheckpoint>> {
  const watermark = checkpoint?.watermark ?? null;
  let cursor = checkpoint?.pass?.cursor ?? null;
  let top = checkpoint?.pass?.top ?? null;
  let restarted = false;
  for (;;) {
    const page = await search(ctx, cursor);
    if (page === 'stale') {
      // The cursor no longer holds (a pass resumed long after): read from the top again, once.
      if (restarted) throw new AppError('bad_gateway', `${DISPLAY} refused the search cursor twice.`);
      restarted = true;
      cursor = null;
      top = null;
      continue;
    }
    const items: SyncItem[] = [];
    let reached = false;
    for (const raw of page.results) {
      const placed = itemOf(raw);
      if (!placed) continue;
      if (placed.edited !== undefined) {
        if (watermark !== null && placed.edited < watermark) {
          reached = true;
          break;
        }
        top = Math.max(top ?? placed.edited, placed.edited);
      }
      items.push(placed.item);
    }
    if (reached || !page.has_more || page.next_cursor === null) {
      yield { items, checkpoint: { watermark: top ?? watermark, pass: null } };
      return;
    }
    cursor = page.next_cursor;
    yield { items, checkpoint: { watermark, pass: { cursor, top } } };
  }
}

/** Pages by id; a page Notion no longer finds is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const items: SyncItem[] = [];
  for (const id of ids) {
    const response = await ctx.request(`v1/pages/${encodeURIComponent(id)}`);
    if (response.status === 404) {
      await response.body?.cancel();
      items.push({ kind: 'deleted', model: MODEL, id });
      continue;
    }
    const placed = itemOf(await readSyncJson(response, z.unknown(), DISPLAY, 'retrieve a page'));
    items.push(placed?.item ?? { kind: 'record', model: MODEL, id, raw: undefined });
  }
  return items;
}

export const notionPagesSync: SyncDefinition<NotionCheckpoint> = {
  name: 'notion-pages',
  models: [{ name: MODEL, map: mapPage }],
  defaultFrequencyMinutes: 60,
  scopes: [],
  run,
  refetch,
};
