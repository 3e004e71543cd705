import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { PROCESS_QUEUE, type ProcessJob, processJobEventIds } from '../jobs/queues.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { applyTogether as applyEvents, type ClaimedRow, claimEvents } from './apply-events.ts';
import { workDeadLetters } from './dead-letters.ts';
import { makeProcessFailures } from './process-failures.ts';
import { createProcessQueues } from './process-queues.ts';

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
 *
 * Where each part lives: the queues (process-queues.ts), claiming and
 * applying (apply-events.ts), failing (process-failures.ts), dead letters
 * (dead-letters.ts); this file runs them in that order.
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

export async function startWebhookProcessing(
  boss: PgBoss,
  deps: { db: Db; logger: Logger; metrics: Metrics },
  options: ProcessOptions = {},
): Promise<WebhookProcessing> {
  const maxAttempts = options.maxAttempts ?? 8;
  const maxYieldMs = options.maxYieldMs ?? 5000;
  const chunk = options.maxEventsPerTransaction ?? 256;
  await createProcessQueues(boss, maxAttempts);
  const failures = makeProcessFailures({ ...deps, maxAttempts });
  const { recordFailure } = failures;
  const applyTogether = (rows: readonly ClaimedRow[]) => applyEvents(deps.db, boss, rows);

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
      const claimed = await claimEvents(deps.db, unique.slice(start, start + chunk));
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

  await workDeadLetters(boss, { db: deps.db, failures });

  return {
    processEvents,
    async processEvent(id) {
      return (await processEvents([id])).get(id) ?? 'skipped';
    },
    wake: () => boss.notifyWorker(workerId),
  };
}
