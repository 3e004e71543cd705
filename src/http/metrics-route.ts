import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.ts';

/** GET /metrics: the Prometheus text exposition. Mounted behind the API key (see app.ts). */
export const metricsRoute: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text format)',
        documentedResponses: { 200: { description: 'Prometheus text exposition format' } },
      },
    },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
