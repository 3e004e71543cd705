import { eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { decodeRecordsCursor, encodeRecordsCursor } from './records-cursor.ts';
import { readRecords } from './records-read.ts';
import type { RecordAction } from './records-store.ts';

// GET /v1/connections/:id/records/:model: a model's records in change order, tombstones included.
// nextCursor is the position after the last item and is always handed out once there is one: keep
// it and ask again later for the changes made since (hasMore says whether more are there now).

const ACTIONS = ['added', 'updated', 'deleted'] as const;

const RecordView = z.object({
  id: z.string(),
  data: z.record(z.string(), z.unknown()),
  firstSeenAt: z.string(),
  lastModifiedAt: z.string(),
  lastAction: z.enum(ACTIONS),
  deletedAt: z.string().nullable(),
});

const Query = z.object({
  cursor: z.string().max(300).optional(),
  modifiedAfter: z.iso.datetime({ offset: true }).optional(),
  filter: z
    .string()
    .max(100)
    .regex(
      /^(added|updated|deleted)(,(added|updated|deleted))*$/,
      'must be a comma-separated list of added, updated, deleted',
    )
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  order: z
    .enum(['change', 'newest'])
    .default('change')
    .describe(
      'change (default): oldest change first, the cursor kept for later changes; newest: newest first, for browsing, nextCursor null at the end',
    ),
});

export interface RecordsRouteDeps {
  db: Db;
  /** Whether the connection's provider has a sync writing this model (unknown models are 404). */
  hasModel?: (provider: string, model: string) => boolean;
}

export const recordsRoutes: FastifyPluginAsyncZod<RecordsRouteDeps> = async (app, deps) => {
  app.get(
    '/connections/:id/records/:model',
    {
      schema: {
        tags: ['syncs'],
        summary: "A model's synced records in change order, tombstones included",
        params: z.object({ id: z.string().max(100), model: z.string().max(64) }),
        querystring: Query,
        response: {
          200: z.object({
            items: z.array(RecordView),
            nextCursor: z.string().nullable(),
            hasMore: z.boolean(),
          }),
        },
      },
    },
    async (request) => {
      const { id, model } = request.params;
      const q = request.query;
      const newest = q.order === 'newest';
      const position = q.cursor === undefined ? undefined : decodeRecordsCursor(q.cursor, q.order);
      const [connection] = await deps.db
        .select({ provider: connections.provider })
        .from(connections)
        .where(eq(connections.id, id));
      if (!connection) throw new AppError('not_found', `No connection with id "${id}".`);
      if (deps.hasModel && !deps.hasModel(connection.provider, model))
        throw new AppError('not_found', `This connection's syncs have no model "${model}".`);
      const actions = (q.filter?.split(',') ?? ACTIONS) as RecordAction[];
      const rows = await readRecords(deps.db, {
        connectionId: id,
        model,
        afterPosition: position ?? '0',
        ...(newest ? { newestBelow: position ?? null } : {}),
        modifiedAfter: q.modifiedAfter ? new Date(q.modifiedAfter) : undefined,
        actions,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({
          id: r.id,
          data: r.data,
          firstSeenAt: r.firstSeenAt.toISOString(),
          lastModifiedAt: r.lastModifiedAt.toISOString(),
          lastAction: r.lastAction,
          deletedAt: r.deletedAt?.toISOString() ?? null,
        })),
        // Newest first ends: no cursor once the oldest is shown. Change order keeps one to come back with.
        nextCursor: newest
          ? last && rows.length > q.limit
            ? encodeRecordsCursor(last.position, 'newest')
            : null
          : last
            ? encodeRecordsCursor(last.position)
            : (q.cursor ?? null),
        hasMore: rows.length > q.limit,
      };
    },
  );
};
