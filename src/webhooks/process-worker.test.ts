import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { migrate } from '../db/migrate.ts';
import { type PgBoss, startBoss, stopBoss } from '../jobs/boss.ts';
import { DEAD_QUEUE } from '../jobs/queues.ts';
import { makeMetrics } from '../metrics.ts';
import { makeStripeEvent } from '../sandbox/webhooks/stripe-events.ts';
import { makeInboxWriter } from './inbox-writer.ts';
import { type ProcessOptions, startWebhookProcessing, type WebhookProcessing } from './process-worker.ts';

/**
 * The worker on a real database and pg-boss, one worker set per test: batches, a bad event
 * failing alone, pg-boss's retry of a failed event, the dead letter, and giving way to ingest.
 */
describe('webhook process worker', () => {
  let t: TestDatabase;
  let boss: PgBoss;
  const logger = pino({ level: 'silent' });
  beforeAll(async () => {
    t = await makeTestDatabase();
    await migrate(t.database);
  });
  afterAll(() => t.dispose());
  // Tests that hold the background worker back (so they drive processing themselves) let it go here.
  let holdWorker = false;
  afterEach(async () => {
    holdWorker = false;
    await stopBoss(boss, 5000);
  });

  async function start(options: ProcessOptions = {}) {
    boss = await startBoss(t.database, logger);
    let processing: WebhookProcessing | undefined;
    const inbox = makeInboxWriter(
      { database: t.database, boss, metrics: makeMetrics() },
      { onStored: () => processing?.wake() },
    );
    processing = await startWebhookProcessing(
      boss,
      { db: t.database.db, logger, metrics: makeMetrics() },
      { pollingIntervalSeconds: 0.5, ...options },
    );
    const deliver = async (objectId: string) => {
      const event = makeStripeEvent('payment_intent.succeeded', { object: { id: objectId } });
      const { id } = await inbox.write({
        integrationKey: 'worker-test',
        source: 'stripe',
        eventId: event.id,
        type: event.type,
        payload: event,
      });
      return id!;
    };
    return { processing, deliver };
  }

  const query = <R>(text: string, params?: unknown[]) =>
    t.database.withSession((s) => s.query<R>(text, params));
  const statusOf = async (id: string) =>
    (
      await query<{ status: string; attempts: number }>(
        'select status, attempts from webhook_events where id = $1',
        [id],
      )
    )[0];
  const waitFor = async (id: string, status: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await statusOf(id);
      if (row?.status === status) return row;
      if (Date.now() > deadline) expect(row?.status, `event ${id}`).toBe(status);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const failFor = (objectId: string, times: number) =>
    query(`create sequence fail_${objectId};
      create function fail_${objectId}() returns trigger language plpgsql as $$
      begin
        if new.provider_object_id = '${objectId}' and nextval('fail_${objectId}') <= ${times} then raise exception 'injected failure'; end if;
        return new;
      end $$;
      create trigger fail_${objectId} before insert or update on payments for each row execute function fail_${objectId}();`);
  const paymentsOf = (objectIds: string[]) =>
    query<{ provider_object_id: string }>(
      'select provider_object_id from payments where provider_object_id = any($1::text[]) order by 1',
      [objectIds],
    );

  /** payment.updated events in the outbox, by payment. */
  const announcedFor = async (objectIds: string[]) =>
    Object.fromEntries(
      (
        await query<{ payment: string; n: number }>(
          `select data->>'paymentId' as payment, count(*)::int as n from outbound_events
           where type = 'payment.updated' and data->>'paymentId' = any($1::text[]) group by 1`,
          [objectIds],
        )
      ).map((row) => [row.payment, row.n]),
    );

  it('applies a batch together, and when one event fails only that one fails', async () => {
    // The background worker would race this test for the rows: hold it back meanwhile.
    holdWorker = true;
    const { processing, deliver } = await start({ ingestSaturated: () => holdWorker, maxYieldMs: 60_000 });
    // Twice: once for the batch's transaction, once for the event's own.
    await failFor('pi_batch_bad', 2);
    const ids = [await deliver('pi_batch_a'), await deliver('pi_batch_bad'), await deliver('pi_batch_b')];
    const outcomes = await processing.processEvents(ids);
    expect(ids.map((id) => outcomes.get(id))).toEqual(['processed', 'failed', 'processed']);
    expect(
      (await paymentsOf(['pi_batch_a', 'pi_batch_b', 'pi_batch_bad'])).map((r) => r.provider_object_id),
    ).toEqual(['pi_batch_a', 'pi_batch_b']);
    expect(await statusOf(ids[1]!)).toEqual({ status: 'failed', attempts: 1 });
    // Each applied payment announced once: the batch's events rolled back with it.
    expect(await announcedFor(['pi_batch_a', 'pi_batch_b', 'pi_batch_bad'])).toEqual({
      pi_batch_a: 1,
      pi_batch_b: 1,
    });
    // Again: the processed ones are skipped (not applied twice), the failed one now succeeds.
    const again = await processing.processEvents(ids);
    expect(ids.map((id) => again.get(id))).toEqual(['skipped', 'processed', 'skipped']);
    expect(await paymentsOf(['pi_batch_bad'])).toHaveLength(1);
    expect(await announcedFor(['pi_batch_a', 'pi_batch_b', 'pi_batch_bad'])).toEqual({
      pi_batch_a: 1,
      pi_batch_b: 1,
      pi_batch_bad: 1,
    });
  });

  it('retries the job of a failed event with backoff until the event is processed', async () => {
    const { deliver } = await start();
    await failFor('pi_retried', 1);
    const id = await deliver('pi_retried');
    const row = await waitFor(id, 'processed');
    expect(row.attempts).toBe(2);
    expect(await paymentsOf(['pi_retried'])).toHaveLength(1);
  });

  it('marks dead what a job pg-boss gave up on still holds open, with an audit entry', async () => {
    holdWorker = true;
    const { deliver } = await start({ ingestSaturated: () => holdWorker, maxYieldMs: 60_000 });
    const id = await deliver('pi_abandoned');
    await boss.send(DEAD_QUEUE, { eventRowIds: [id] });
    await waitFor(id, 'dead');
    const audit = await query<{ action: string }>('select action from audit_log where subject_id = $1', [id]);
    expect(audit.map((a) => a.action)).toEqual(['webhook.dead']);
  });

  it('gives way to ingest while it is saturated, for at most the yield bound', async () => {
    // Saturated for ever: the worker keeps asking (it waits) until the bound, then processes.
    let asked = 0;
    const { deliver } = await start({
      ingestSaturated: () => {
        asked += 1;
        return true;
      },
      maxYieldMs: 1500,
    });
    const id = await deliver('pi_yielded');
    const before = asked;
    await waitFor(id, 'processed');
    // It asked again and again after the delivery (every 20 ms while saturated), and still went on.
    expect(asked - before).toBeGreaterThan(3);
    expect((await statusOf(id))?.attempts).toBe(1);
  });

  it('lets the event loop turn between transactions while it drains a backlog', async () => {
    // On PGlite every query settles without a turn of the event loop: a worker draining back to
    // back would keep this process from reading any request until the backlog is gone. A request
    // waiting to be read needs a turn, so count the turns the drain lets through: at least one a
    // transaction.
    holdWorker = true;
    const { processing, deliver } = await start({
      ingestSaturated: () => holdWorker,
      maxYieldMs: 60_000,
      maxEventsPerTransaction: 32,
    });
    const ids = await Promise.all(Array.from({ length: 320 }, (_, i) => deliver(`pi_backlog_${i}`)));
    let turns = 0;
    let counting = true;
    const tick = () => {
      if (!counting) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    const outcomes = await processing.processEvents(ids);
    counting = false;
    expect(ids.filter((id) => outcomes.get(id) !== 'processed')).toEqual([]);
    expect(turns).toBeGreaterThanOrEqual(ids.length / 32);
  });

  it('processes at once, woken by the inbox, when ingest is not saturated', async () => {
    // Its next poll is ten minutes away, so only the inbox's commit waking it processes the event.
    const { deliver } = await start({ ingestSaturated: () => false, pollingIntervalSeconds: 600 });
    const id = await deliver('pi_woken');
    await waitFor(id, 'processed');
  });
});
