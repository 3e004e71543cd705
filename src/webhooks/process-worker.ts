import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { fromDrizzle } from 'pg-boss';
import { type Db, rowsOf, runStatement, statement } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { applyWebhookEvent, FOLLOW_UP_QUEUES } from './effects/index.ts';
import { canMove, EVENT_MOVES, markEventFailed, markEventsDead, type SeenEvent } from './event-status.ts';
import { DEAD_QUEUE, PROCESS_QUEUE, type ProcessJob, processJobEventIds } from './process-queue.ts';
import type { WebhookSource } from './verifiers/types.ts';

/**
 * Processing the inbox, exactly once in effect.
 *
 * Row states: pending → processing → processed, or → failed → (retried) →
 * processed, or dead after `maxAttempts`.
 *
 * One `webhooks.process` job names the events one inbox commit stored. A
 * worker takes a few such jobs and:
 * 1. claims their open rows (→ processing, attempts + 1) in one committed
 *    statement, so an attempt counts even if the process dies after it;
 * 2. applies every claimed event and marks them processed in ONE transaction
 *    that first locks the rows and skips any already processed;
 * 3. when that transaction fails, applies the events again one transaction
 *    each, so one bad event fails alone and the rest are processed.
 * A job whose events all ended (processed or dead) completes; one with a
 * failed event fails, and pg-boss runs it again with exponential backoff,
 * when only the events still open are claimed. An event failing its last
 * attempt is dead (audited). A job pg-boss gives up on (the worker died on
 * every attempt) reaches `webhooks.dead`, whose worker marks its open
 * events dead. The effect and the move to `processed` always commit
 * together: a duplicate job, a replay or a worker that died mid-way (its
 * transaction rolls back, pg-boss hands the job out again after the
 * heartbeat lapses) never applies an event twice, and a handler that throws
 * never loses one.
 */
export type ProcessOutcome = 'processed' | 'failed' | 'dead' | 'skipped';

export interface ProcessOptions {
  maxAttempts?: number;
  /** Workers in this process (default 2). */
  concurrency?: number;
  /** Jobs a worker takes at once (default 8). */
  batchSize?: number;
  pollingIntervalSeconds?: number;
  /**
   * Events applied in one transaction at most (default 256). On PGlite a transaction holds the
   * process's only thread, so there it is smaller and requests wait less behind it.
   */
  maxEventsPerTransaction?: number;
  /**
   * Ingest first (see ingest-pressure.ts): while this answers true, a worker waits before its
   * next batch, up to `maxYieldMs` (default 5000) each time, so processing slows under a burst
   * but never stops.
   */
  ingestSaturated?: () => boolean;
  maxYieldMs?: number;
}

export interface WebhookProcessing {
  /** Processes these inbox rows now (the workers do it in the background). */
  processEvents(ids: readonly string[]): Promise<Map<string, ProcessOutcome>>;
  processEvent(id: string): Promise<ProcessOutcome>;
  /** Makes this process's workers fetch now rather than at their next poll. */
  wake(): void;
}

interface ClaimedRow {
  id: string;
  integration_key: string;
  source: string;
  event_id: string;
  type: string;
  payload: unknown;
  attempts: number;
}

const CLAIM = statement(`
  update webhook_events
  set status = 'processing', attempts = attempts + 1, updated_at = now()
  where id = any($1::text[]) and status = any($2::text[])
  returning id, integration_key, source, event_id, type, payload, attempts`);
// In id order, so two workers on overlapping batches (a replay) cannot deadlock on these locks.
const LOCK = statement(`
  select id, status from webhook_events where id = any($1::text[]) order by id for update`);
const MARK_PROCESSED = statement(`
  update webhook_events
  set status = 'processed', processed_at = now(), last_error = null, updated_at = now()
  where id = any($1::text[]) and status = any($2::text[])`);

export async function startWebhookProcessing(
  boss: PgBoss,
  deps: { db: Db; logger: Logger; metrics: Metrics },
  options: ProcessOptions = {},
): Promise<WebhookProcessing> {
  const maxAttempts = options.maxAttempts ?? 8;
  const maxYieldMs = options.maxYieldMs ?? 5000;
  const chunk = options.maxEventsPerTransaction ?? 256;
  await boss.createQueue(DEAD_QUEUE);
  for (const queue of FOLLOW_UP_QUEUES) await boss.createQueue(queue.name, queue.options);
  // No NOTIFY: a transaction that notifies takes a database-wide lock through its commit, which
  // would serialise every inbox write. The process that stores events wakes its own workers
  // (wake()); other processes find jobs at their next poll.
  const queueOptions = {
    retryLimit: maxAttempts - 1,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 600,
    heartbeatSeconds: 10,
    notify: false,
    deadLetter: DEAD_QUEUE,
  };
  await boss.createQueue(PROCESS_QUEUE, queueOptions);
  // A queue made by an earlier start keeps its options until told otherwise.
  await boss.updateQueue(PROCESS_QUEUE, queueOptions);

  async function claim(ids: readonly string[]): Promise<ClaimedRow[]> {
    return runStatement<ClaimedRow>(deps.db, CLAIM, [ids, EVENT_MOVES.processing]);
  }

  /** Applies the events and marks them processed, all in one transaction; answers the ids applied. */
  async function applyTogether(rows: readonly ClaimedRow[]): Promise<string[]> {
    return deps.db.transaction(async (tx) => {
      const locked = await runStatement<{ id: string; status: string }>(tx, LOCK, [
        rows.map((row) => row.id),
      ]);
      const open = new Set(locked.filter((row) => canMove(row.status, 'processed')).map((row) => row.id));
      const applied: string[] = [];
      for (const row of rows) {
        if (!open.has(row.id)) continue;
        const result = await applyWebhookEvent(tx, {
          rowId: row.id,
          integrationKey: row.integration_key,
          source: row.source as WebhookSource,
          eventId: row.event_id,
          type: row.type,
          payload: row.payload,
        });
        for (const job of result.followUps ?? []) {
          await boss.send(job.queue, job.data, {
            singletonKey: job.singletonKey,
            ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
            db: fromDrizzle(tx as never, sql),
          });
        }
        applied.push(row.id);
      }
      if (applied.length > 0) await runStatement(tx, MARK_PROCESSED, [applied, EVENT_MOVES.processed]);
      return applied;
    });
  }

  /** The error as stored and logged: the database's or handler's own words, never event data. */
  function errorMessage(error: unknown): string {
    // Drizzle wraps database errors as "Failed query: <sql> params: <values>": keep the cause.
    const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return root instanceof Error ? root.message.slice(0, 500) : 'handler failed';
  }

  async function markDead(rows: readonly SeenEvent[], message: string): Promise<number> {
    const dead = await markEventsDead(deps.db, rows, message);
    for (const row of dead) deps.metrics.webhooks.inc({ source: row.source, outcome: 'dead', reason: '' });
    return dead.length;
  }

  /** Records a failed attempt; 'skipped' when the event moved on meanwhile (a replay has it now). */
  async function recordFailure(row: ClaimedRow, error: unknown): Promise<ProcessOutcome> {
    const dead = row.attempts >= maxAttempts;
    const message = errorMessage(error);
    const moved = dead ? (await markDead([row], message)) > 0 : await markEventFailed(deps.db, row, message);
    if (moved && !dead) deps.metrics.webhooks.inc({ source: row.source, outcome: 'failed', reason: '' });
    deps.logger.warn(
      { eventRowId: row.id, source: row.source, type: row.type, attempts: row.attempts, dead },
      'webhook processing failed',
    );
    if (!moved) return 'skipped';
    return dead ? 'dead' : 'failed';
  }

  async function processClaimed(claimed: readonly ClaimedRow[], outcomes: Map<string, ProcessOutcome>) {
    const processed = (row: ClaimedRow) => {
      outcomes.set(row.id, 'processed');
      deps.metrics.webhooks.inc({ source: row.source, outcome: 'processed', reason: '' });
    };
    try {
      const applied = new Set(await applyTogether(claimed));
      for (const row of claimed) if (applied.has(row.id)) processed(row);
      return;
    } catch (error) {
      if (claimed.length === 1) {
        outcomes.set(claimed[0]!.id, await recordFailure(claimed[0]!, error));
        return;
      }
    }
    // One of them failed the batch: each on its own, so only the bad one fails.
    for (const row of claimed) {
      try {
        if ((await applyTogether([row])).length > 0) processed(row);
      } catch (error) {
        outcomes.set(row.id, await recordFailure(row, error));
      }
    }
  }

  async function processEvents(ids: readonly string[]): Promise<Map<string, ProcessOutcome>> {
    const outcomes = new Map<string, ProcessOutcome>(ids.map((id) => [id, 'skipped']));
    const unique = [...outcomes.keys()];
    for (let start = 0; start < unique.length; start += chunk) {
      // A turn of the event loop between transactions: on PGlite every query settles without one,
      // and a worker draining a backlog back to back would otherwise keep requests from being read.
      await nextTurn();
      const claimed = await claim(unique.slice(start, start + chunk));
      if (claimed.length > 0) await processClaimed(claimed, outcomes);
    }
    return outcomes;
  }

  async function yieldToIngest(): Promise<void> {
    const until = Date.now() + maxYieldMs;
    while (options.ingestSaturated?.() && Date.now() < until) await sleep(20);
  }

  const workerId = await boss.work<ProcessJob>(
    PROCESS_QUEUE,
    {
      batchSize: options.batchSize ?? 8,
      perJobResults: true,
      burstWhenBatchFull: true,
      localConcurrency: options.concurrency ?? 2,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
    },
    async (jobs) => {
      await yieldToIngest();
      const outcomes = await processEvents(jobs.flatMap((job) => processJobEventIds(job.data)));
      return jobs.map((job) => ({
        id: job.id,
        status: processJobEventIds(job.data).some((id) => outcomes.get(id) === 'failed')
          ? ('failed' as const)
          : ('completed' as const),
      }));
    },
  );

  // pg-boss gave up on these jobs (their worker died or timed out on every attempt): what they
  // still hold open is dead, where an operator sees it and can replay it.
  await boss.work<ProcessJob>(DEAD_QUEUE, { batchSize: 8 }, async (jobs) => {
    const ids = jobs.flatMap((job) => processJobEventIds(job.data));
    const open = rowsOf<ClaimedRow>(
      await deps.db.execute(sql`
        select id, source, type, attempts from webhook_events
        where id = any(${sql.param(ids)}::text[]) and status = any(${sql.param(EVENT_MOVES.dead)}::text[])`),
    );
    if (open.length > 0) {
      await markDead(open, 'Processing did not finish on any attempt (the worker stopped or timed out).');
    }
  });

  return {
    processEvents,
    async processEvent(id) {
      return (await processEvents([id])).get(id) ?? 'skipped';
    },
    wake: () => boss.notifyWorker(workerId),
  };
}
