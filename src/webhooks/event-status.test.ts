import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { migrate } from '../db/migrate.ts';
import { canMove, markEventFailed, markEventsDead, type SeenEvent } from './event-status.ts';

describe('inbox event status moves', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await makeTestDatabase();
    await migrate(t.database);
  });
  afterAll(() => t.dispose());

  const query = <R>(text: string, params?: unknown[]) =>
    t.database.withSession((s) => s.query<R>(text, params));
  async function insertEvent(id: string, status: string, attempts: number): Promise<SeenEvent> {
    await query(
      `insert into webhook_events (id, integration_key, source, event_id, type, payload, status, attempts)
       values ($1, 'status-test', 'stripe', $1, 'payment_intent.succeeded', '{}', $2, $3)`,
      [id, status, attempts],
    );
    return { id, source: 'stripe', type: 'payment_intent.succeeded', attempts };
  }
  const rowOf = async (id: string) =>
    (
      await query<{ status: string; attempts: number }>(
        'select status, attempts from webhook_events where id = $1',
        [id],
      )
    )[0];
  const deadAudits = (id: string) =>
    query("select id from audit_log where action = 'webhook.dead' and subject_id = $1", [id]);

  it('marks open events dead, with one audit entry each', async () => {
    const events = [
      await insertEvent('wev_open_pending', 'pending', 0),
      await insertEvent('wev_open_processing', 'processing', 3),
      await insertEvent('wev_open_failed', 'failed', 2),
    ];
    const dead = await markEventsDead(t.database.db, events, 'gave up');
    expect(dead.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const event of events) {
      expect((await rowOf(event.id))?.status).toBe('dead');
      expect(await deadAudits(event.id)).toHaveLength(1);
    }
  });

  it('leaves an event a concurrent replay processed as processed, and audits nothing', async () => {
    // The worker saw it processing on its last attempt; a replay processed it before markDead ran.
    const seen = await insertEvent('wev_replayed_done', 'processing', 8);
    await query("update webhook_events set status = 'processed', processed_at = now() where id = $1", [
      seen.id,
    ]);
    expect(await markEventsDead(t.database.db, [seen], 'gave up')).toEqual([]);
    expect(await rowOf(seen.id)).toEqual({ status: 'processed', attempts: 8 });
    expect(await deadAudits(seen.id)).toEqual([]);
  });

  it('leaves an event alone that a replay claimed again since the worker saw it', async () => {
    const seen = await insertEvent('wev_replayed_claimed', 'processing', 8);
    // The replay reset it, and its own worker claimed it: processing again, on attempt 1.
    await query("update webhook_events set status = 'processing', attempts = 1 where id = $1", [seen.id]);
    expect(await markEventsDead(t.database.db, [seen], 'gave up')).toEqual([]);
    expect(await markEventFailed(t.database.db, seen, 'handler failed')).toBe(false);
    expect(await rowOf(seen.id)).toEqual({ status: 'processing', attempts: 1 });
  });

  it('moves a failed claim to failed only while it is still processing', async () => {
    const claimed = await insertEvent('wev_claim_fails', 'processing', 1);
    expect(await markEventFailed(t.database.db, claimed, 'handler failed')).toBe(true);
    expect((await rowOf(claimed.id))?.status).toBe('failed');
    const done = await insertEvent('wev_claim_done', 'processed', 1);
    expect(await markEventFailed(t.database.db, done, 'handler failed')).toBe(false);
    expect((await rowOf(done.id))?.status).toBe('processed');
  });

  it('never moves a processed event to dead or failed, and lets a replay move any event to pending', () => {
    expect(canMove('processed', 'dead')).toBe(false);
    expect(canMove('processed', 'failed')).toBe(false);
    expect(canMove('dead', 'processed')).toBe(false);
    for (const from of ['pending', 'processing', 'processed', 'failed', 'dead'])
      expect(canMove(from, 'pending')).toBe(true);
  });
});
