import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import {
  FailedRecordView,
  failedSample,
  getRunView,
  listRuns,
  SyncRunStatus,
  SyncRunView,
} from './run-view.ts';

// GET /v1/sync-runs (newest first, filtered) and GET /v1/sync-runs/:id (with a sample of the
// records that failed in it and still fail).

const FAILED_SAMPLE = 10;

export const syncRunRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, deps) => {
  const tags = ['syncs'];
  app.get(
    '/sync-runs',
    {
      schema: {
        tags,
        summary: 'Sync runs, newest first',
        querystring: z.object({
          connectionId: z.string().max(100).optional(),
          sync: z.string().max(64).optional(),
          status: SyncRunStatus.optional(),
          ...pageQuery,
        }),
        response: { 200: listOf(SyncRunView) },
        errors: ['invalid_cursor'],
      },
    },
    async (request) => listRuns(deps.db, request.query),
  );

  app.get(
    '/sync-runs/:id',
    {
      schema: {
        tags,
        summary: 'A sync run: status, counts, timings, error, and a sample of its failed records',
        params: z.object({ id: z.string().max(100) }),
        response: {
          200: SyncRunView.extend({
            failedRecords: z
              .array(FailedRecordView)
              .describe(
                `Up to ${FAILED_SAMPLE} records that failed in this run and still fail; all of them: /v1/connections/:id/syncs/:sync/failed-records`,
              ),
          }),
        },
        errors: ['not_found'],
      },
    },
    async (request) => {
      const run = await getRunView(deps.db, request.params.id);
      return { ...run, failedRecords: await failedSample(deps.db, run.id, FAILED_SAMPLE) };
    },
  );
};
