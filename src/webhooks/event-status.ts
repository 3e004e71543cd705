import { recordAudit } from '../audit/audit-log.ts';
import { type Db, runStatement, statement } from '../db/client.ts';
import type { WebhookEventStatus } from '../db/schema.ts';

/**
 * An inbox event's status, and the only moves it may make:
 *
 *   pending ─→ processing ─→ processed
 *      │          │  ↑ ↘
 *      │          │  │   failed ─→ (claimed again) processing
 *      ↓          ↓  │     ↓
 *     dead ←──────┴──┴─────┘          any ─→ pending (a replay)
 *
 * `processing` may be claimed again: its worker died and pg-boss handed the job out anew. Every
 * UPDATE of `webhook_events.status` is guarded by the from-states listed here, so a write that
 * lost a race (a worker finishing after a replay already processed the event) changes nothing.
 */
export const EVENT_MOVES: Readonly<Record<WebhookEventStatus, readonly WebhookEventStatus[]>> = {
  // to: the statuses it may be reached from
  pending: ['pending', 'processing', 'processed', 'failed', 'dead'],
  processing: ['pending', 'processing', 'failed'],
  processed: ['pending', 'processing', 'failed'],
  failed: ['processing'],
  dead: ['pending', 'processing', 'failed'],
};

export function canMove(from: string, to: WebhookEventStatus): boolean {
  return (EVENT_MOVES[to] as readonly string[]).includes(from);
}

/** An event as its worker last saw it: `attempts` names that claim (each claim adds one). */
export interface SeenEvent {
  id: string;
  source: string;
  type: string;
  attempts: number;
}

// Only rows still as the caller saw them (same attempt, a status dead may follow): a row that a
// replay reset or another worker claimed since has a new attempt count, and is not this caller's.
const MARK_DEAD = statement(`
  update webhook_events w
  set status = 'dead', last_error = $2, updated_at = now()
  from json_to_recordset($1::json) as seen(id text, attempts integer)
  where w.id = seen.id and w.attempts = seen.attempts and w.status = any($3::text[])
  returning w.id`);

/**
 * Marks these events dead, with one audit entry each, in one transaction; answers the events
 * that moved. One that moved on meanwhile (processed by a replay, claimed again) is left alone.
 */
export async function markEventsDead(
  db: Db,
  events: readonly SeenEvent[],
  message: string,
): Promise<SeenEvent[]> {
  return db.transaction(async (tx) => {
    const seen = JSON.stringify(events.map(({ id, attempts }) => ({ id, attempts })));
    const moved = new Set(
      (await runStatement<{ id: string }>(tx, MARK_DEAD, [seen, message, EVENT_MOVES.dead])).map(
        (row) => row.id,
      ),
    );
    const dead = events.filter((event) => moved.has(event.id));
    for (const event of dead) {
      await recordAudit(tx, {
        actor: 'tether',
        action: 'webhook.dead',
        subjectType: 'webhook_event',
        subjectId: event.id,
        metadata: { source: event.source, type: event.type, attempts: event.attempts },
      });
    }
    return dead;
  });
}

const MARK_FAILED = statement(`
  update webhook_events set status = 'failed', last_error = $3, updated_at = now()
  where id = $1 and attempts = $2 and status = any($4::text[])
  returning id`);

/** Its claim failed, to be retried; a no-op when the event moved on meanwhile. */
export async function markEventFailed(db: Db, event: SeenEvent, message: string): Promise<boolean> {
  const moved = await runStatement(db, MARK_FAILED, [event.id, event.attempts, message, EVENT_MOVES.failed]);
  return moved.length > 0;
}
