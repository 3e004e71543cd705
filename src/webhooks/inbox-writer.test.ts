import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTestJobs, type TestJobs } from '../../test/harness/jobs.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { PROCESS_QUEUE, processJobEventIds } from '../jobs/queues.ts';
import { makeMetrics } from '../metrics.ts';
import { type InboxEntry, type InboxWriterOptions, makeInboxWriter } from './inbox-writer.ts';

// Both ways of writing: events and job in one statement (the default), and in a transaction of
// separate statements (what the writer falls back to when pg-boss's insert cannot be captured).
describe.each([
  { mode: 'one statement', singleStatement: true },
  { mode: 'a transaction', singleStatement: false },
])('inbox writer, in $mode', ({ singleStatement }) => {
  let t: TestJobs;
  let boss: PgBoss;
  beforeAll(async () => {
    t = await makeTestJobs();
    boss = t.boss;
    await boss.createQueue(PROCESS_QUEUE, { retryLimit: 7 });
  });
  afterAll(() => t.dispose());

  const writer = (metrics = makeMetrics(), options: InboxWriterOptions = {}) =>
    makeInboxWriter({ database: t.database, boss, metrics }, { singleStatement, ...options });
  const query = <R>(text: string, params?: unknown[]) =>
    t.database.withSession((s) => s.query<R>(text, params));
  const entry = (eventId: string, payload: unknown = { id: eventId }): InboxEntry => ({
    integrationKey: 'inbox-test',
    source: 'stripe',
    eventId,
    type: 'payment_intent.succeeded',
    payload,
  });
  const jobsNaming = async (ids: string[]) => {
    const jobs = await query<{ data: unknown }>('select data from pgboss.job where name = $1', [
      PROCESS_QUEUE,
    ]);
    return jobs.filter((job) => processJobEventIds(job.data).some((id) => ids.includes(id)));
  };

  it('writes concurrent deliveries in a few transactions, each with one job naming its rows', async () => {
    const metrics = makeMetrics();
    const inbox = writer(metrics, { maxInFlight: 1, maxBatch: 64 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => inbox.write(entry(`evt_many_${i}`))),
    );

    expect(results.every((r) => !r.duplicate && r.id)).toBe(true);
    const rows = await query<{ id: string }>(
      "select id from webhook_events where event_id like 'evt_many_%'",
    );
    expect(rows).toHaveLength(200);
    const batches = (await metrics.inboxBatch.get()).values.find((v) => v.metricName?.endsWith('_count'));
    // 200 writes at most 64 a transaction, one transaction at a time: 4 to 5 of them, not 200.
    expect(batches?.value).toBeGreaterThanOrEqual(4);
    expect(batches?.value).toBeLessThanOrEqual(5);
    const jobs = await jobsNaming(rows.map((r) => r.id));
    expect(jobs.length).toBe(batches?.value);
    expect(jobs.flatMap((job) => processJobEventIds(job.data)).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("schedules a batch as a job pg-boss fetches, with the queue's settings", async () => {
    const inbox = writer(makeMetrics(), { maxInFlight: 1 });
    const results = await Promise.all(['evt_job_1', 'evt_job_2'].map((id) => inbox.write(entry(id))));
    const ids = results.map((r) => r.id!);
    const rows = await query<{ id: string; data: unknown; retry_limit: number; state: string }>(
      'select id, data, retry_limit, state from pgboss.job where name = $1',
      [PROCESS_QUEUE],
    );
    const [job, ...others] = rows.filter((row) =>
      processJobEventIds(row.data).some((id) => ids.includes(id)),
    );
    expect(others).toEqual([]);
    expect(processJobEventIds(job!.data).sort()).toEqual([...ids].sort());
    expect(job).toMatchObject({ retry_limit: 7, state: 'created' });
    const fetched = await boss.fetch(PROCESS_QUEUE, { batchSize: 100 });
    expect(fetched.map((f) => f.id)).toContain(job!.id);
  });

  it('schedules no job for a batch of duplicates only', async () => {
    const inbox = writer(makeMetrics(), { maxInFlight: 1 });
    await inbox.write(entry('evt_seen'));
    const before = await query('select id from pgboss.job where name = $1', [PROCESS_QUEUE]);
    const again = await Promise.all([inbox.write(entry('evt_seen')), inbox.write(entry('evt_seen'))]);
    expect(again.map((r) => r.duplicate)).toEqual([true, true]);
    expect(await query('select id from pgboss.job where name = $1', [PROCESS_QUEUE])).toHaveLength(
      before.length,
    );
  });

  it('writes a delivery at once when nothing else is being written', async () => {
    // With timers stopped, a writer that held a lone delivery back for company (a timer) would
    // never write it; this one writes it at the next turn of the event loop, in a batch of one.
    const metrics = makeMetrics();
    const inbox = writer(metrics);
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    try {
      const result = await inbox.write(entry('evt_alone'));
      expect(result.duplicate).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    const batch = (await metrics.inboxBatch.get()).values;
    expect(batch.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
    expect(batch.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(1);
  });

  it('stores one row for the same event delivered twice in one batch, and calls the second a duplicate', async () => {
    const inbox = writer(makeMetrics(), { maxInFlight: 1 });
    const [first, second] = await Promise.all([
      inbox.write(entry('evt_twice')),
      inbox.write(entry('evt_twice')),
    ]);
    expect([first!.duplicate, second!.duplicate].sort()).toEqual([false, true]);
    expect(await query("select id from webhook_events where event_id = 'evt_twice'")).toHaveLength(1);
    const again = await inbox.write(entry('evt_twice'));
    expect(again).toEqual({ id: null, duplicate: true });
  });

  it('fails only the delivery the database refuses and stores the rest of its batch', async () => {
    await query(`create function refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.event_id = 'evt_poison' then raise exception 'refused' using errcode = '22023'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on webhook_events for each row execute function refuse_poison();`);
    try {
      const inbox = writer(makeMetrics(), { maxInFlight: 1 });
      const writes = ['evt_fine_1', 'evt_poison', 'evt_fine_2'].map((id) => inbox.write(entry(id)));
      const settled = await Promise.allSettled(writes);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const stored = await query<{ event_id: string }>(
        "select event_id from webhook_events where event_id in ('evt_fine_1', 'evt_poison', 'evt_fine_2') order by event_id",
      );
      expect(stored.map((r) => r.event_id)).toEqual(['evt_fine_1', 'evt_fine_2']);
    } finally {
      await query('drop trigger refuse_poison on webhook_events; drop function refuse_poison();');
    }
  });

  it('fails every delivery of a transaction that fails as a whole, storing none of them', async () => {
    // The job insert fails (not a row of ours): the events must not stay stored without their job.
    await query(`create function refuse_jobs() returns trigger language plpgsql as $$
      begin raise exception 'job queue refused'; end $$;
      create trigger refuse_jobs before insert on pgboss.job_common for each row execute function refuse_jobs();`);
    try {
      const inbox = writer(makeMetrics(), { maxInFlight: 1 });
      const settled = await Promise.allSettled([
        inbox.write(entry('evt_lost_1')),
        inbox.write(entry('evt_lost_2')),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
      expect(await query("select id from webhook_events where event_id like 'evt_lost_%'")).toEqual([]);
    } finally {
      await query('drop trigger refuse_jobs on pgboss.job_common; drop function refuse_jobs();');
    }
  });

  it('counts as receiving while deliveries come in, and not long after', async () => {
    let clock = 1_000_000;
    const inbox = writer(makeMetrics(), { now: () => clock });
    expect(inbox.receiving()).toBe(false);
    await inbox.write(entry('evt_receiving'));
    expect(inbox.receiving()).toBe(true);
    clock += 99;
    expect(inbox.receiving()).toBe(true);
    clock += 1;
    expect(inbox.receiving()).toBe(false);
    await inbox.write(entry('evt_receiving_again'));
    expect(inbox.receiving()).toBe(true);
  });
});
