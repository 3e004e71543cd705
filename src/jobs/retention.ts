import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Db, runStatement, statement } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { PgBoss } from './boss.ts';
import { RETENTION_QUEUE } from './queues.ts';

/**
 * Retention: a pg-boss cron job (`retention.prune`, every 15 minutes, one at a time across
 * instances) deletes audit entries older than `TETHER_AUDIT_RETENTION_DAYS` and finished inbox
 * events (processed or dead) older than `TETHER_EVENT_RETENTION_DAYS`. Events still open
 * (pending, processing, failed) are never deleted, however old. Each DELETE takes at most
 * `batchSize` rows, so no statement holds many locks or a long transaction, and a run stops
 * after `maxBatches` per table; the next run goes on where it stopped.
 *
 * A deleted event's id is forgotten: a sender delivering it again after the retention period
 * would have it stored and processed again (senders retry for days, not weeks; effects only move
 * domain state forward).
 */

export interface RetentionPolicy {
  auditRetentionDays: number;
  eventRetentionDays: number;
}

export interface PruneOptions {
  /** Rows per DELETE (default 1000). */
  batchSize?: number;
  /** DELETEs per table in one run at most (default 500). */
  maxBatches?: number;
  now?: Date;
}

export interface PruneResult {
  auditEntries: number;
  events: number;
}

const DAY_MS = 86_400_000;
const FINISHED = ['processed', 'dead'];

const PRUNE_AUDIT = statement(`
  delete from audit_log where id in (
    select id from audit_log where occurred_at < $1::timestamptz order by occurred_at limit $2)
  returning id`);
// Inbox ids sort by creation time (src/ids.ts): `id < $1` reads only the old end of the primary
// key. `updated_at` keeps an old event replayed recently.
const PRUNE_EVENTS = statement(`
  delete from webhook_events where id in (
    select id from webhook_events
    where id < $1 and status = any($2::text[]) and updated_at < $3::timestamptz
    order by id limit $4)
  returning id`);

/** The smallest inbox id made at or after `at`: ids are `wev_<ms in base 36, 9 wide><random>`. */
function firstEventIdAt(at: Date): string {
  return `wev_${at.getTime().toString(36).padStart(9, '0')}`;
}

export async function pruneExpired(
  db: Db,
  policy: RetentionPolicy,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 500;
  const now = options.now ?? new Date();
  const auditCutoff = new Date(now.getTime() - policy.auditRetentionDays * DAY_MS);
  const eventCutoff = new Date(now.getTime() - policy.eventRetentionDays * DAY_MS);

  async function inBatches(deleteBatch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < maxBatches; batch += 1) {
      // A turn of the event loop between batches, so requests are read meanwhile (PGlite).
      await nextTurn();
      const deleted = await deleteBatch();
      total += deleted;
      if (deleted < batchSize) break;
    }
    return total;
  }

  const auditEntries = await inBatches(
    async () => (await runStatement(db, PRUNE_AUDIT, [auditCutoff.toISOString(), batchSize])).length,
  );
  const events = await inBatches(
    async () =>
      (
        await runStatement(db, PRUNE_EVENTS, [
          firstEventIdAt(eventCutoff),
          FINISHED,
          eventCutoff.toISOString(),
          batchSize,
        ])
      ).length,
  );
  return { auditEntries, events };
}

export async function startRetention(
  boss: PgBoss,
  deps: { db: Db; logger: Logger },
  policy: RetentionPolicy,
  options: { pollingIntervalSeconds?: number } = {},
): Promise<{ prune: (options?: PruneOptions) => Promise<PruneResult> }> {
  await boss.createQueue(RETENTION_QUEUE, { policy: 'singleton' });
  const prune = async (pruneOptions?: PruneOptions) => {
    const result = await pruneExpired(deps.db, policy, pruneOptions);
    if (result.auditEntries || result.events) deps.logger.info(result, 'retention: old rows deleted');
    return result;
  };
  await boss.work(
    RETENTION_QUEUE,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 30 },
    async () => {
      await prune();
    },
  );
  await boss.schedule(RETENTION_QUEUE, '*/15 * * * *');
  return { prune };
}
