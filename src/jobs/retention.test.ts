import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestJobs, type TestJobs } from '../../test/harness/jobs.ts';
import { RETENTION_QUEUE } from './queues.ts';
import { pruneExpired, startRetention } from './retention.ts';

const DAY_MS = 86_400_000;
const policy = { auditRetentionDays: 90, eventRetentionDays: 30 };

describe('retention', () => {
  let t: TestJobs;
  const now = new Date();
  beforeAll(async () => {
    t = await makeTestJobs();
  });
  afterAll(() => t.dispose());

  const query = <R>(text: string, params?: unknown[]) =>
    t.database.withSession((s) => s.query<R>(text, params));
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  /** An inbox id as makeId would have made it `at` that time. */
  const eventIdAt = (at: Date) =>
    `wev_${at.getTime().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;

  async function insertAudit(count: number, at: Date, action: string) {
    await query(
      `insert into audit_log (actor, action, occurred_at) select 'test', $1, $2::timestamptz from generate_series(1, $3)`,
      [action, at.toISOString(), count],
    );
  }
  async function insertEvent(name: string, status: string, receivedAt: Date, updatedAt = receivedAt) {
    await query(
      `insert into webhook_events (id, integration_key, source, event_id, type, payload, status, received_at, updated_at)
       values ($1, 'retention-test', 'stripe', $2, 't', '{}', $3, $4::timestamptz, $5::timestamptz)`,
      [eventIdAt(receivedAt), name, status, receivedAt.toISOString(), updatedAt.toISOString()],
    );
  }
  const auditCount = async (action: string) =>
    Number(
      (await query<{ n: string }>('select count(*) as n from audit_log where action = $1', [action]))[0]!.n,
    );
  const eventNames = async () =>
    (
      await query<{ event_id: string }>(
        "select event_id from webhook_events where integration_key = 'retention-test' order by event_id",
      )
    ).map((r) => r.event_id);

  it('deletes old audit entries and finished events in bounded batches, and keeps new ones and open events', async () => {
    await insertAudit(25, daysAgo(91), 'retention.old');
    await insertAudit(3, daysAgo(89), 'retention.new');
    for (let i = 0; i < 12; i += 1)
      await insertEvent(`old_processed_${String(i).padStart(2, '0')}`, 'processed', daysAgo(31));
    await insertEvent('old_dead', 'dead', daysAgo(40));
    for (const status of ['pending', 'processing', 'failed'])
      await insertEvent(`old_open_${status}`, status, daysAgo(60));
    await insertEvent('new_processed', 'processed', daysAgo(29));
    await insertEvent('old_replayed_lately', 'processed', daysAgo(45), daysAgo(1));

    // Two DELETEs of 10 rows per table at most in one run.
    const first = await pruneExpired(t.database.db, policy, { batchSize: 10, maxBatches: 2, now });
    expect(first).toEqual({ auditEntries: 20, events: 13 });
    expect(await auditCount('retention.old')).toBe(5);
    const second = await pruneExpired(t.database.db, policy, { batchSize: 10, maxBatches: 2, now });
    expect(second).toEqual({ auditEntries: 5, events: 0 });
    expect(await auditCount('retention.old')).toBe(0);
    expect(await auditCount('retention.new')).toBe(3);
    expect(await eventNames()).toEqual([
      'new_processed',
      'old_open_failed',
      'old_open_pending',
      'old_open_processing',
      'old_replayed_lately',
    ]);
  });

  it('runs as a pg-boss cron job', async () => {
    const retention = await startRetention(
      t.boss,
      { db: t.database.db, logger: pino({ level: 'silent' }) },
      policy,
    );
    const schedules = await t.boss.getSchedules();
    expect(schedules.map((s) => s.name)).toContain(RETENTION_QUEUE);
    expect(await retention.prune()).toEqual({ auditEntries: 0, events: 0 });
  });
});
