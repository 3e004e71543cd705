import { type Db, runStatement, statement } from '../db/client.ts';
import { emitEvents, type OutboundEvent } from '../events/emit.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { applyWebhookEvent } from './effects/index.ts';
import { canMove, EVENT_MOVES } from './event-status.ts';
import { sendFollowUps } from './follow-ups.ts';
import type { WebhookSource } from './verifiers/types.ts';

/** An inbox row as its claim answered it: `attempts` names this claim. */
export interface ClaimedRow {
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

/** Claims the open rows among these (→ processing, attempts + 1) in one committed statement. */
export async function claimEvents(db: Db, ids: readonly string[]): Promise<ClaimedRow[]> {
  return runStatement<ClaimedRow>(db, CLAIM, [ids, EVENT_MOVES.processing]);
}

/**
 * Applies the events, sends their follow-ups, writes their events to the host app (one statement
 * for the batch) and marks them processed, all in one transaction that first locks the rows and
 * skips any already processed; answers the ids applied.
 */
export async function applyTogether(db: Db, boss: PgBoss, rows: readonly ClaimedRow[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    const locked = await runStatement<{ id: string; status: string }>(tx, LOCK, [rows.map((row) => row.id)]);
    const open = new Set(locked.filter((row) => canMove(row.status, 'processed')).map((row) => row.id));
    const applied: string[] = [];
    const events: OutboundEvent[] = [];
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
      await sendFollowUps(boss, tx, result.followUps ?? []);
      events.push(...(result.events ?? []));
      applied.push(row.id);
    }
    await emitEvents(tx, events);
    if (applied.length > 0) await runStatement(tx, MARK_PROCESSED, [applied, EVENT_MOVES.processed]);
    return applied;
  });
}
