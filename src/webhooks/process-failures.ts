import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { ClaimedRow } from './apply-events.ts';
import { markEventFailed, markEventsDead, type SeenEvent } from './event-status.ts';
import type { ProcessOutcome } from './process-worker.ts';

/**
 * What a failed attempt leaves: `failed` (pg-boss retries the job, with backoff) until the event's
 * last attempt, then `dead` (audited), where an operator sees it and can replay it. Each write is
 * guarded by the attempt that failed, so one a replay or another worker moved on is left alone.
 */
export interface ProcessFailures {
  /** Records a failed attempt; 'skipped' when the event moved on meanwhile (a replay has it now). */
  recordFailure(row: ClaimedRow, error: unknown): Promise<ProcessOutcome>;
  /** Marks these events dead (those still as seen); answers how many moved. */
  markDead(rows: readonly SeenEvent[], message: string): Promise<number>;
}

export function makeProcessFailures(deps: {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  maxAttempts: number;
}): ProcessFailures {
  async function markDead(rows: readonly SeenEvent[], message: string): Promise<number> {
    const dead = await markEventsDead(deps.db, rows, message);
    for (const row of dead) deps.metrics.webhooks.inc({ source: row.source, outcome: 'dead', reason: '' });
    return dead.length;
  }

  async function recordFailure(row: ClaimedRow, error: unknown): Promise<ProcessOutcome> {
    const dead = row.attempts >= deps.maxAttempts;
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

  return { recordFailure, markDead };
}

/** The error as stored and logged: the database's or handler's own words, never event data. */
function errorMessage(error: unknown): string {
  // Drizzle wraps database errors as "Failed query: <sql> params: <values>": keep the cause.
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return root instanceof Error ? root.message.slice(0, 500) : 'handler failed';
}
