import { count, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { ConnectionView } from './connection-view.ts';

const STATUSES = ConnectionView.shape.status.options;

/** Counts of connections by status: what an operator's overview (dashboard, CLI) starts from. */
export const connectionSummaryRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/connections/summary',
    {
      schema: {
        tags: ['connections'],
        summary: 'Counts of connections by status',
        querystring: z.object({ integration: z.string().max(64).optional() }),
        response: {
          200: z.object({
            total: z.number(),
            byStatus: z.object(
              Object.fromEntries(STATUSES.map((s) => [s, z.number()])) as Record<
                (typeof STATUSES)[number],
                z.ZodNumber
              >,
            ),
          }),
        },
      },
    },
    async (request) => {
      const rows = await db
        .select({ status: connections.status, count: count() })
        .from(connections)
        .where(
          request.query.integration ? eq(connections.integrationKey, request.query.integration) : undefined,
        )
        .groupBy(connections.status);
      const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<
        (typeof STATUSES)[number],
        number
      >;
      for (const row of rows) byStatus[row.status] = Number(row.count);
      return { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus };
    },
  );
};
