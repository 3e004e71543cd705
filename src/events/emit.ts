import { type Db, runStatement, type Statement, statement } from '../db/client.ts';
import { makeId } from '../ids.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { FIRST_ATTEMPTS_PER_JOB } from './deliver-queue.ts';
import type { EventType } from './event-types.ts';

/**
 * The outbox. `emitEvent(tx, …)` is called by every state change the host app hears about, inside
 * the transaction of that change (`emitEvents` writes several, e.g. a batch of webhook effects),
 * and in the same statement:
 *
 *   1. stores the event (outbound_events),
 *   2. fans it out: one `pending` delivery per enabled subscription that wants its type,
 *   3. queues attempt 1 of its deliveries on pg-boss (`events.deliver`): one job per event (up to
 *      FIRST_ATTEMPTS_PER_JOB deliveries), not one per delivery. pg-boss writes a job row three
 *      times (insert, fetch, completion): a job per delivery was three of its six row writes.
 *
 * So the change, its event, its deliveries and their jobs commit or roll back together: no change
 * without its event, no event for a change that rolled back, and a process killed after the commit
 * leaves jobs any process will run. pg-boss's insert (with its NOTIFY, which wakes the workers of
 * every process at commit on PostgreSQL) is captured once by the delivery worker; its text depends
 * on the queue's name alone, not on the database, so one capture serves every database this
 * process writes to. Before a worker has captured it (a process that
 * runs no delivery worker), the deliveries are stored without jobs and the repair sweep queues them.
 */

export interface OutboundEvent {
  type: EventType;
  data: Record<string, unknown>;
  /** When the change happened (its transaction's clock); default now. */
  occurredAt?: Date;
}

// $1–$4: the events' ids, types, data (JSON text) and times, as parallel arrays.
const STORE_AND_FAN_OUT = `
  with event as (
    insert into outbound_events (id, type, data, occurred_at)
    select e.id, e.type, e.data::jsonb, e.occurred_at
    from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as e(id, type, data, occurred_at)
    returning id, type, occurred_at
  ),
  fanned as (
    insert into event_deliveries (id, event_id, subscription_id, event_type, status, next_attempt_at, created_at, updated_at)
    select 'evd_' || replace(gen_random_uuid()::text, '-', ''), e.id, s.id, e.type, 'pending',
      e.occurred_at, e.occurred_at, e.occurred_at
    from event e join event_subscriptions s on s.enabled and (s.events ? e.type or s.events ? '*')
    returning id, event_id, subscription_id
  )`;

const WITHOUT_JOBS = statement(`${STORE_AND_FAN_OUT} select count(*)::int as deliveries from fanned`);

let withJobs: { statement: Statement; job: string } | null = null;

/**
 * Asks pg-boss for its insert of one job into `queue` through a connection that only records it,
 * and splices the outbox's statements in front: pg-boss's text is either one INSERT reading its jobs
 * from `$1`, or (a queue with `notify`) `WITH ins AS (INSERT …), notified AS (…) SELECT …`, which
 * takes our CTEs after its WITH. Anything else (another pg-boss version) leaves the outbox writing
 * deliveries without jobs, which the repair sweep queues.
 */
export async function captureDeliveryJobInsert(boss: PgBoss, queue: string): Promise<boolean> {
  const calls: { text: string; values: unknown[] }[] = [];
  await boss.insert(queue, [{ data: {} }], {
    db: {
      executeSql: async (text: string, values: unknown[] = []) => {
        calls.push({ text, values });
        return { rows: [] };
      },
    },
  });
  const [call] = calls;
  if (calls.length !== 1 || !call || call.values.length !== 1 || typeof call.values[0] !== 'string')
    return false;
  if ((call.text.match(/\$\d+/g) ?? []).join() !== '$1') return false;
  const jobs: unknown = JSON.parse(call.values[0]);
  if (!Array.isArray(jobs) || jobs.length !== 1 || (jobs[0] as { id?: unknown })?.id != null) return false;
  // `$5` is pg-boss's payload for one job; each event's first-attempts job (deliver-queue.ts) is it
  // plus the event's deliveries, FIRST_ATTEMPTS_PER_JOB to a job.
  const jobList = `(select coalesce(jsonb_agg($5::jsonb || jsonb_build_object('data', jsonb_build_object(
      'deliveries', chunk.deliveries))), '[]'::jsonb)
    from (
      select jsonb_agg(jsonb_build_object('deliveryId', id, 'subscriptionId', subscription_id)) as deliveries
      from (select id, event_id, subscription_id,
          (row_number() over (partition by event_id order by id) - 1) / ${FIRST_ATTEMPTS_PER_JOB} as part
        from fanned) numbered
      group by event_id, part
    ) chunk)`;
  const text = call.text.replace('$1', () => jobList);
  const combined = /^\s*with\s/i.test(text)
    ? `${STORE_AND_FAN_OUT},${text.replace(/^\s*with\s/i, ' ')}`
    : /^\s*insert\s/i.test(text)
      ? `${STORE_AND_FAN_OUT}, scheduled as (${text}) select 1`
      : null;
  if (!combined) return false;
  withJobs = { statement: statement(combined), job: JSON.stringify(jobs[0]) };
  return true;
}

/** Writes the event in `tx` (see above); returns its id, which is also its `webhook-id`. */
export async function emitEvent(tx: Db, event: OutboundEvent): Promise<string> {
  const [id] = await emitEvents(tx, [event]);
  return id!;
}

/**
 * Writes several events in `tx` in one statement (one round trip however many there are: a batch
 * of webhook effects pays one statement for its events, not one each); answers their ids in order.
 */
export async function emitEvents(tx: Db, events: readonly OutboundEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const ids = events.map(() => makeId('evt'));
  const now = new Date().toISOString();
  const params = [
    ids,
    events.map((event) => event.type),
    events.map((event) => JSON.stringify(event.data)),
    events.map((event) => event.occurredAt?.toISOString() ?? now),
  ];
  if (withJobs) await runStatement(tx, withJobs.statement, [...params, withJobs.job]);
  else await runStatement(tx, WITHOUT_JOBS, params);
  return ids;
}
