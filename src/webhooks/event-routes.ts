import { eq, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { type WebhookEventRow, webhookEvents } from '../db/schema.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { eventNotFound, replayWebhookEvent } from './replay.ts';

const Status = z.enum(['pending', 'processing', 'processed', 'failed', 'dead']);
export const EventView = z.object({
  id: z.string(),
  integration: z.string(),
  source: z.string(),
  eventId: z.string(),
  type: z.string(),
  status: Status,
  attempts: z.number(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

// Event ids sort by arrival (src/ids.ts), so the id alone orders the inbox.
const eventsNewestFirst: Keyset = {
  list: 'events',
  direction: 'desc',
  keys: [{ column: webhookEvents.id, kind: 'text' }],
};

function toView(row: WebhookEventRow): z.infer<typeof EventView> {
  return {
    id: row.id,
    integration: row.integrationKey,
    source: row.source,
    eventId: row.eventId,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
    lastError: row.lastError,
  };
}

/** The inbound webhook inbox: list, read, replay. */
export const eventRoutes: FastifyPluginAsyncZod<{ db: Db; boss: PgBoss; now: () => Date }> = async (
  app,
  { db, boss, now },
) => {
  const tags = ['events'];
  app.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'The inbound webhook inbox, newest first',
        querystring: z.object({
          integration: z.string().max(64).optional(),
          status: Status.optional(),
          type: z.string().max(200).optional(),
          ...pageQuery,
        }),
        response: { 200: listOf(EventView) },
        errors: ['invalid_cursor'],
      },
    },
    async (request) => {
      const q = request.query;
      const where: SQL[] = [];
      if (q.integration) where.push(eq(webhookEvents.integrationKey, q.integration));
      if (q.status) where.push(eq(webhookEvents.status, q.status));
      if (q.type) where.push(eq(webhookEvents.type, q.type));
      const { rows, nextCursor } = await tablePage(db, webhookEvents, eventsNewestFirst, q, where);
      return { items: rows.map(toView), nextCursor };
    },
  );

  app.get(
    '/events/summary',
    {
      schema: {
        tags,
        summary: 'Counts of inbox events by status, and how many needed more than one attempt',
        querystring: z.object({ integration: z.string().max(64).optional() }),
        response: {
          200: z.object({
            total: z.number(),
            byStatus: z.record(z.string(), z.number()),
            retried: z.number(),
            duplicateRows: z.number(),
          }),
        },
      },
    },
    async (request) => {
      const filter = request.query.integration
        ? eq(webhookEvents.integrationKey, request.query.integration)
        : undefined;
      const rows = await db
        .select({
          status: webhookEvents.status,
          count: sql<number>`count(*)::int`,
          retried: sql<number>`count(*) filter (where ${webhookEvents.attempts} > 1)::int`,
        })
        .from(webhookEvents)
        .where(filter)
        .groupBy(webhookEvents.status);
      const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.count]));
      // Zero by the unique key; reported so a benchmark or an operator can check rather than trust.
      const [dupes] = await db
        .select({
          n: sql<number>`(count(*) - count(distinct (${webhookEvents.integrationKey}, ${webhookEvents.eventId})))::int`,
        })
        .from(webhookEvents)
        .where(filter);
      return {
        total: rows.reduce((n, row) => n + row.count, 0),
        byStatus,
        retried: rows.reduce((n, row) => n + row.retried, 0),
        duplicateRows: dupes?.n ?? 0,
      };
    },
  );

  const IdParams = z.object({ id: z.string().max(100) });
  const load = async (id: string) => {
    const [row] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
    if (!row) throw eventNotFound(id);
    return row;
  };

  app.get(
    '/events/:id',
    {
      schema: {
        tags,
        summary: 'One inbox event',
        params: IdParams,
        response: { 200: EventView.extend({ payload: z.unknown() }) },
        errors: ['not_found'],
      },
    },
    async (request) => {
      const row = await load(request.params.id);
      return { ...toView(row), payload: row.payload };
    },
  );

  app.post(
    '/events/:id/replay',
    {
      schema: {
        tags,
        summary: 'Run an event through processing again (effects are forward-only, so this is safe)',
        params: IdParams,
        response: { 202: EventView },
        errors: ['not_found'],
      },
    },
    async (request, reply) => {
      const updated = await replayWebhookEvent({ db, boss, now }, request.params.id, 'api');
      return reply.status(202).send(toView(updated));
    },
  );
};
