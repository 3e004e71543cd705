import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { listOf, pageQuery } from './list-schema.ts';

const AuditEntry = z.object({
  id: z.string(),
  occurredAt: z.string(),
  actor: z.string(),
  action: z.string(),
  subjectType: z.string().nullable(),
  subjectId: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});

const AuditQuery = z.object({
  action: z.string().max(200).optional(),
  subjectType: z.string().max(200).optional(),
  subjectId: z.string().max(200).optional(),
  ...pageQuery,
});

export const auditRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first, filterable, cursor-paginated',
        querystring: AuditQuery,
        response: { 200: listOf(AuditEntry) },
        errors: ['invalid_cursor'],
      },
    },
    async (request) => listAudit(db, request.query),
  );
};
