import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.ts';
import type { TokenService } from '../connections/token-service.ts';
import type { Db } from '../db/client.ts';
import type { SyncScheduleRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import type { SyncDefinition } from './definition.ts';
import { Frequency, formatFrequency, parseFrequency } from './frequency.ts';
import { syncsOf } from './registry.ts';
import { FailedRecordView, latestRuns, listFailedRecords, SyncRunView, toRunView } from './run-view.ts';
import type { SyncEngine } from './sync-jobs.ts';
import {
  addMinutes,
  effectiveSettings,
  loadSchedules,
  saveSettings,
  scheduleAfterRun,
} from './sync-settings.ts';

// A connection's syncs: list them with their settings and last run, change the settings, run one
// now, reset one (a full pass from no checkpoint), read its failed records.

export interface SyncControlDeps {
  db: Db;
  tokens: TokenService;
  syncs: Pick<SyncEngine, 'startRun' | 'resetRun'>;
  now: () => Date;
}

const ACTOR = 'api';
const SCHEDULED_STATUSES = new Set(['connected', 'degraded']);

const ConnectionParams = z.object({ id: z.string().max(100) });
const SyncParams = ConnectionParams.extend({ sync: z.string().max(64) });

const SyncView = z.object({
  name: z.string(),
  models: z.array(z.string()).describe('The record models it writes: /v1/connections/:id/records/:model'),
  frequency: z.string().describe('How often the schedule runs it: "15m", "1h", "1d"'),
  enabled: z
    .boolean()
    .describe('Whether it runs by itself (schedule, provider push); a run can always be asked for'),
  lastRun: SyncRunView.nullable(),
  nextRunAt: z
    .string()
    .nullable()
    .describe('When the schedule runs it next; null when disabled or the connection cannot sync'),
});
type SyncView = z.infer<typeof SyncView>;

const SettingsBody = z
  .object({
    enabled: z.boolean().nullable().optional().describe('null: inherit the integration’s setting again'),
    frequency: Frequency.nullable()
      .optional()
      .describe('"15m", "1h", "1d" (1 minute to 30 days); null: inherit the integration’s or the default'),
  })
  .refine((body) => body.enabled !== undefined || body.frequency !== undefined, {
    message: 'give enabled or frequency (or both)',
  });

const RUN_ERRORS = ['not_found', 'unknown_sync', 'not_connected', 'reauthorization_required'] as const;

export const syncControlRoutes: FastifyPluginAsyncZod<SyncControlDeps> = async (app, deps) => {
  const tags = ['syncs'];

  async function offered(connectionId: string) {
    const loaded = await deps.tokens.load(connectionId);
    return { ...loaded, syncs: syncsOf(loaded.provider.name, loaded.integration.scopes) };
  }
  async function offeredSync(connectionId: string, syncName: string) {
    const found = await offered(connectionId);
    const sync = found.syncs.find((s) => s.name === syncName);
    if (!sync) throw new AppError('unknown_sync', `This connection offers no sync "${syncName}".`);
    return { ...found, sync };
  }
  function view(
    found: Awaited<ReturnType<typeof offered>>,
    sync: SyncDefinition,
    row: SyncScheduleRow | undefined,
    lastRun: SyncRunView | undefined,
  ): SyncView {
    const settings = effectiveSettings(sync, found.integration.options, row);
    const scheduled = settings.enabled && SCHEDULED_STATUSES.has(found.row.status);
    return {
      name: sync.name,
      models: sync.models.map((m) => m.name),
      frequency: formatFrequency(settings.frequencyMinutes),
      enabled: settings.enabled,
      lastRun: lastRun ?? null,
      // A pair the schedule has not seen yet is due at its next look.
      nextRunAt: scheduled ? (row?.nextRunAt ?? deps.now()).toISOString() : null,
    };
  }
  async function viewOne(connectionId: string, syncName: string): Promise<SyncView> {
    const found = await offeredSync(connectionId, syncName);
    const rows = await loadSchedules(deps.db, connectionId);
    const runs = await latestRuns(deps.db, connectionId, [syncName]);
    return view(found, found.sync, rows.get(syncName), runs.get(syncName));
  }

  app.get(
    '/connections/:id/syncs',
    {
      schema: {
        tags,
        summary: 'The syncs a connection offers, with their settings, last run and next scheduled run',
        params: ConnectionParams,
        response: { 200: z.object({ items: z.array(SyncView) }) },
        errors: ['not_found'],
      },
    },
    async (request) => {
      const found = await offered(request.params.id);
      const rows = await loadSchedules(deps.db, found.row.id);
      const runs = await latestRuns(
        deps.db,
        found.row.id,
        found.syncs.map((s) => s.name),
      );
      return { items: found.syncs.map((s) => view(found, s, rows.get(s.name), runs.get(s.name))) };
    },
  );

  app.patch(
    '/connections/:id/syncs/:sync',
    {
      schema: {
        tags,
        summary: 'Enable or disable a sync’s schedule, or change its frequency, for this connection',
        description:
          'A shorter frequency takes effect at once (the next run comes no later than now plus the new frequency); a longer one after the run already planned.',
        params: SyncParams,
        body: SettingsBody,
        response: { 200: SyncView },
        errors: ['not_found', 'unknown_sync'],
      },
    },
    async (request) => {
      const { id, sync: syncName } = request.params;
      const { sync, integration } = await offeredSync(id, syncName);
      const { enabled, frequency } = request.body;
      const patch = {
        enabled,
        frequencyMinutes:
          frequency === undefined ? undefined : frequency === null ? null : parseFrequency(frequency)!,
      };
      await deps.db.transaction(async (tx) => {
        await saveSettings(
          tx,
          { connectionId: id, syncName },
          patch,
          (own) => effectiveSettings(sync, integration.options, own),
          deps.now(),
        );
        await recordAudit(tx, {
          actor: ACTOR,
          action: 'sync.settings_changed',
          subjectType: 'connection',
          subjectId: id,
          metadata: { sync: syncName, ...request.body },
        });
      });
      return viewOne(id, syncName);
    },
  );

  app.post(
    '/connections/:id/syncs/:sync/run',
    {
      schema: {
        tags,
        summary: 'Run a sync now: 202 with the new run, or the one already running (joined)',
        params: SyncParams,
        response: { 202: SyncRunView },
        errors: RUN_ERRORS,
      },
    },
    async (request, reply) => {
      const { id, sync: syncName } = request.params;
      return reply.status(202).send(await requestRun(id, syncName, 'run'));
    },
  );

  app.post(
    '/connections/:id/syncs/:sync/reset',
    {
      schema: {
        tags,
        summary: 'Forget the sync’s checkpoint and run a full pass (the records are kept): 202 with the run',
        description:
          'The full pass compares every record with the stored one, so the records API still tells what changed; records the complete pass did not see become tombstones. 409 sync_running while a run is going on.',
        params: SyncParams,
        response: { 202: SyncRunView },
        errors: [...RUN_ERRORS, 'sync_running'],
      },
    },
    async (request, reply) => {
      const { id, sync: syncName } = request.params;
      return reply.status(202).send(await requestRun(id, syncName, 'reset'));
    },
  );

  /** Starts (or joins) a run by hand; the schedule then counts its next one from now. */
  async function requestRun(connectionId: string, syncName: string, kind: 'run' | 'reset') {
    const { sync, integration } = await offeredSync(connectionId, syncName);
    const input = { connectionId, syncName, trigger: kind === 'reset' ? 'reset' : 'api' };
    const run = kind === 'reset' ? await deps.syncs.resetRun(input) : await deps.syncs.startRun(input);
    const rows = await loadSchedules(deps.db, connectionId);
    const { frequencyMinutes } = effectiveSettings(sync, integration.options, rows.get(syncName));
    await scheduleAfterRun(deps.db, { connectionId, syncName }, addMinutes(deps.now(), frequencyMinutes));
    await recordAudit(deps.db, {
      actor: ACTOR,
      action: kind === 'reset' ? 'sync.reset' : 'sync.run_requested',
      subjectType: 'connection',
      subjectId: connectionId,
      metadata: { sync: syncName, runId: run.id },
    });
    return toRunView(run);
  }

  app.get(
    '/connections/:id/syncs/:sync/failed-records',
    {
      schema: {
        tags,
        summary: 'Records the sync could not map or store, with their error (retried by every run)',
        params: SyncParams,
        querystring: z.object(pageQuery),
        response: { 200: listOf(FailedRecordView) },
        errors: ['not_found', 'unknown_sync', 'invalid_cursor'],
      },
    },
    async (request) => {
      const { id, sync } = request.params;
      await offeredSync(id, sync);
      return listFailedRecords(deps.db, { connectionId: id, syncName: sync }, request.query);
    },
  );
};
