import { sql } from 'drizzle-orm';
import { fromDrizzle } from 'pg-boss';
import type { Db } from '../db/client.ts';
import { webhookEvents } from '../db/schema.ts';
import { makeId } from '../ids.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Metrics } from '../metrics.ts';

/**
 * The inbox write, with group commit.
 *
 * Each verified delivery becomes one row keyed uniquely by (integration,
 * event id), inserted with ON CONFLICT DO NOTHING RETURNING, and its
 * processing job is enqueued by pg-boss in the same transaction: an event is
 * never stored without being scheduled, nor scheduled without being stored.
 * Concurrent deliveries are gathered for at most `maxWaitMs` (or until
 * `maxBatch`) and written by one multi-row statement and one commit; every
 * request still waits for its own row's commit before it is answered.
 */
export const PROCESS_QUEUE = 'webhooks.process';

export interface InboxEntry {
  integrationKey: string;
  source: string;
  eventId: string;
  type: string;
  payload: unknown;
}

export interface InboxResult {
  /** tether's id of the inbox row (the existing one for a duplicate is not looked up). */
  id: string | null;
  duplicate: boolean;
}

interface Pending {
  entry: InboxEntry;
  id: string;
  resolve: (result: InboxResult) => void;
  reject: (error: unknown) => void;
}

export interface InboxWriter {
  write(entry: InboxEntry): Promise<InboxResult>;
}

export function makeInboxWriter(deps: {
  db: Db;
  boss: PgBoss;
  metrics: Metrics;
  maxBatch?: number;
  maxWaitMs?: number;
}): InboxWriter {
  const maxBatch = deps.maxBatch ?? 64;
  const maxWaitMs = deps.maxWaitMs ?? 2;
  let waiting: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    deps.metrics.inboxBatch.observe(batch.length);
    commit(batch).then(
      (inserted) => {
        for (const item of batch)
          item.resolve({ id: inserted.has(item.id) ? item.id : null, duplicate: !inserted.has(item.id) });
      },
      (error) => {
        for (const item of batch) item.reject(error);
      },
    );
  }

  async function commit(batch: Pending[]): Promise<Set<string>> {
    return deps.db.transaction(async (tx) => {
      const rows = await tx
        .insert(webhookEvents)
        .values(
          batch.map(({ entry, id }) => ({
            id,
            integrationKey: entry.integrationKey,
            source: entry.source,
            eventId: entry.eventId,
            type: entry.type,
            payload: entry.payload,
            status: 'pending' as const,
          })),
        )
        .onConflictDoNothing({ target: [webhookEvents.integrationKey, webhookEvents.eventId] })
        .returning({ id: webhookEvents.id });
      if (rows.length > 0) {
        await deps.boss.insert(
          PROCESS_QUEUE,
          rows.map((row) => ({ data: { eventRowId: row.id } })),
          { db: fromDrizzle(tx as never, sql) },
        );
      }
      return new Set(rows.map((row) => row.id));
    });
  }

  return {
    write(entry) {
      return new Promise<InboxResult>((resolve, reject) => {
        waiting.push({ entry, id: makeId('wev'), resolve, reject });
        if (waiting.length >= maxBatch) flush();
        else timer ??= setTimeout(flush, maxWaitMs);
      });
    },
  };
}
