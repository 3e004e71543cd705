import { type Db, runStatement, statement } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import { providerSyncs, providersWithSyncs, syncsOf } from './registry.ts';
import type { SyncEngine } from './sync-jobs.ts';
import { addMinutes, claimDue, effectiveSettings, enroll, loadSchedules } from './sync-settings.ts';

/**
 * The sync schedule: a pg-boss cron job (`syncs.schedule`, every minute, one at a time across
 * instances) finds the live connections (connected or degraded) that have a due sync, or none
 * planned yet, and asks the engine for a run of each due one that is enabled and offered.
 *
 * Each due (connection, sync) is taken with a compare-and-set on its `next_run_at` (moved to now +
 * its frequency) before its run is asked for, so two schedulers never both start it; and a run
 * asked for while one runs joins it (sync-jobs.ts). A disabled or no longer offered sync is moved
 * forward the same way, and looked at again one frequency later. A new connection's syncs are due
 * at once; a sync added to a provider later is planned, as due, the next time one of the
 * connection's other syncs is. The clock is tether's (`runtime.now()`).
 */

export const SCHEDULE_QUEUE = 'syncs.schedule';

export interface ScheduleDeps {
  db: Db;
  engine: Pick<SyncEngine, 'startRun'>;
  now: () => Date;
  logger: Logger;
}

export interface ScheduleOptions {
  /** Connections looked at per query (default 200). */
  batchSize?: number;
  /** Queries per tick at most; the next tick carries on (default 50). */
  maxBatches?: number;
}

interface Candidate {
  id: string;
  provider: string;
  scopes: string[];
  options: Record<string, unknown>;
}

const CANDIDATES = statement(`select c.id, i.provider, i.scopes, i.options
  from connections c join integrations i on i.key = c.integration_key
  where c.status in ('connected', 'degraded') and c.credentials_sealed is not null
    and i.provider = any($1::text[]) and c.id > $3
    and (not exists (select 1 from sync_schedules s where s.connection_id = c.id)
      or exists (select 1 from sync_schedules s where s.connection_id = c.id and s.next_run_at <= $2::timestamptz))
  order by c.id limit $4`);

/** One look at the schedule; answers how many runs it asked for. */
export async function runDueSyncs(deps: ScheduleDeps, options: ScheduleOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 200;
  const maxBatches = options.maxBatches ?? 50;
  const now = deps.now();
  const providers = providersWithSyncs();
  let after = '';
  let started = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const candidates = await runStatement<Candidate>(deps.db, CANDIDATES, [
      providers,
      now.toISOString(),
      after,
      batchSize,
    ]);
    for (const candidate of candidates) started += await runDueOf(deps, candidate, now);
    if (candidates.length < batchSize) break;
    after = candidates.at(-1)!.id;
  }
  return started;
}

async function runDueOf(deps: ScheduleDeps, candidate: Candidate, now: Date): Promise<number> {
  const all = providerSyncs(candidate.provider);
  let rows = await loadSchedules(deps.db, candidate.id);
  const missing = all.filter((s) => !rows.has(s.name)).map((s) => s.name);
  if (missing.length) {
    await enroll(deps.db, candidate.id, missing, now);
    rows = await loadSchedules(deps.db, candidate.id);
  }
  const offered = new Set(syncsOf(candidate.provider, candidate.scopes).map((s) => s.name));
  let started = 0;
  for (const sync of all) {
    const row = rows.get(sync.name);
    if (!row || row.nextRunAt > now) continue;
    const settings = effectiveSettings(sync, candidate.options, row);
    const pair = { connectionId: candidate.id, syncName: sync.name };
    if (!(await claimDue(deps.db, pair, now, addMinutes(now, settings.frequencyMinutes)))) continue;
    if (!settings.enabled || !offered.has(sync.name)) continue;
    try {
      await deps.engine.startRun({ ...pair, trigger: 'schedule' });
      started++;
    } catch (error) {
      // The connection changed meanwhile (disconnected, deleted): the next look decides again.
      deps.logger.warn({ err: error, ...pair }, 'scheduled sync run not started');
    }
  }
  return started;
}

export async function startSyncSchedule(
  boss: PgBoss,
  deps: ScheduleDeps,
  options: ScheduleOptions & { pollingIntervalSeconds?: number; cron?: boolean } = {},
): Promise<{ tick: () => Promise<number> }> {
  await boss.createQueue(SCHEDULE_QUEUE, { policy: 'singleton' });
  const tick = async () => {
    const started = await runDueSyncs(deps, options);
    if (started) deps.logger.info({ started }, 'scheduled sync runs asked for');
    return started;
  };
  await boss.work(
    SCHEDULE_QUEUE,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 5 },
    async () => {
      await tick();
    },
  );
  if (options.cron !== false) await boss.schedule(SCHEDULE_QUEUE, '* * * * *');
  return { tick };
}
