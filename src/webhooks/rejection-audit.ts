import { type Db, runStatement, statement } from '../db/client.ts';
import type { WebhookRejectCode } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Rejected webhook deliveries in the audit log, folded: anyone can send forged deliveries by the
 * thousand, so each one costs a counter in memory, not a row. Per (integration, reason) and
 * minute there is one audit row, `webhook.rejected`, whose `metadata.count` says how many:
 * - the first rejection of a minute writes the row at once (count 1), so a single forged
 *   delivery still shows in the audit log right away;
 * - later ones only add to a counter, written every `flushIntervalMs`, when the minute turns
 *   (for that key) and at stop, as `count = count + n`;
 * - the write is an upsert on a unique index over (integration, reason, minute), so every
 *   process on the database adds to the same row: one row per minute overall.
 * The number of counters is bounded by integrations × reasons (an unknown integration is a 404
 * before any rejection). Counts still in memory when a process dies are lost from the audit log;
 * the metric `tether_webhooks_total{outcome="rejected"}` counts every rejection as it happens.
 */
export interface Rejection {
  integration: string;
  source: string;
  /** A documented code (docs/errors.md, webhook rejection reasons). */
  reason: WebhookRejectCode;
}

export interface RejectionAudit {
  /** Counts one rejection; resolves once it is in the audit log or in a counter. */
  record(rejection: Rejection): Promise<void>;
  /** Writes every counter now. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  stop(): Promise<void>;
}

export interface RejectionAuditOptions {
  flushIntervalMs?: number;
  /** The clock that picks the minute (tests drive it). */
  now?: () => number;
}

interface Fold extends Rejection {
  minute: number;
  pending: number;
}

const MINUTE_MS = 60_000;

const ADD_REJECTIONS = statement(`
  insert into audit_log (actor, action, subject_type, subject_id, metadata)
  values ('webhook', 'webhook.rejected', 'integration', $1,
    jsonb_build_object('source', $2::text, 'reason', $3::text, 'minute', $4::text, 'count', $5::bigint))
  on conflict (subject_id, (metadata->>'reason'), (metadata->>'minute')) where action = 'webhook.rejected'
  do update set metadata = jsonb_set(audit_log.metadata, '{count}',
    to_jsonb(coalesce((audit_log.metadata->>'count')::bigint, 0) + $5::bigint))`);

export function makeRejectionAudit(
  deps: { db: Db; logger: Logger },
  options: RejectionAuditOptions = {},
): RejectionAudit {
  const now = options.now ?? Date.now;
  const folds = new Map<string, Fold>();
  const writing = new Set<Promise<void>>();

  function add(fold: Fold, count: number): Promise<void> {
    const write = addNow(fold, count).finally(() => writing.delete(write));
    writing.add(write);
    return write;
  }

  async function addNow(fold: Fold, count: number): Promise<void> {
    try {
      await runStatement(deps.db, ADD_REJECTIONS, [
        fold.integration,
        fold.source,
        fold.reason,
        new Date(fold.minute).toISOString(),
        count,
      ]);
    } catch (error) {
      // Kept for the next flush; the metric has counted them meanwhile.
      fold.pending += count;
      deps.logger.warn({ err: error, integration: fold.integration }, 'webhook rejection audit failed');
    }
  }

  function drain(fold: Fold): Promise<void> | undefined {
    if (fold.pending === 0) return undefined;
    const count = fold.pending;
    fold.pending = 0;
    return add(fold, count);
  }

  async function flush(): Promise<void> {
    const minute = Math.floor(now() / MINUTE_MS) * MINUTE_MS;
    for (const [key, fold] of folds) {
      if (!drain(fold) && fold.minute < minute) folds.delete(key);
    }
    // Every write under way, these and any started before (a minute's first row, its tail).
    await Promise.all(writing);
  }

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 15_000);
  timer.unref();

  return {
    record(rejection) {
      const minute = Math.floor(now() / MINUTE_MS) * MINUTE_MS;
      const key = `${rejection.integration}\n${rejection.reason}`;
      const fold = folds.get(key);
      if (fold && fold.minute === minute) {
        fold.pending += 1;
        return Promise.resolve();
      }
      if (fold) void drain(fold); // the last minute's tail, to its own row
      const fresh: Fold = { ...rejection, minute, pending: 0 };
      folds.set(key, fresh);
      deps.logger.warn(rejection, 'webhook rejected (further ones this minute are counted, not logged)');
      return add(fresh, 1);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
