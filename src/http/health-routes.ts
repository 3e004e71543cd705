import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';

const Health = z.object({ status: z.literal('ok') });
const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ database: z.enum(['ok', 'failing']), jobs: z.enum(['ok', 'failing']) }),
});

export interface HealthDeps {
  database: Database;
  boss: PgBoss;
  /** False once shutdown has begun, so load balancers stop sending traffic. */
  isAcceptingTraffic: () => boolean;
}

export const healthRoutes: FastifyPluginAsyncZod<HealthDeps> = async (app, deps) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness: the process is up', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database and the job queue answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [database, jobs] = await Promise.all([
        check(() => deps.database.ping()),
        check(async () => {
          if (!(await deps.boss.isInstalled())) throw new Error('job queue schema missing');
        }),
      ]);
      const ready = database === 'ok' && jobs === 'ok' && deps.isAcceptingTraffic();
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: { database, jobs } });
    },
  );
};

async function check(probe: () => Promise<void>): Promise<'ok' | 'failing'> {
  try {
    await probe();
    return 'ok';
  } catch {
    return 'failing';
  }
}
