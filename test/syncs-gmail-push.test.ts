import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { fromDrizzle } from 'pg-boss';
import { describe, expect, it } from 'vitest';
import { runStatement, statement } from '../src/db/client.ts';
import type { SyncRunRow } from '../src/syncs/run-store.ts';
import {
  applyGmailNotification,
  GMAIL_SYNC_DEBOUNCE_SECONDS,
} from '../src/webhooks/effects/gmail-history.ts';
import { useSandboxTether } from './harness/sandbox-tether.ts';
import { runToEnd, waitForRun } from './harness/syncs.ts';

// Gmail push: a burst of Pub/Sub notifications for one mailbox must run its sync once. Each
// notification is applied by its effect and its follow-up job sent exactly as the webhook worker
// sends it (in the effect's transaction, singleton per mailbox, after the debounce); pg-boss's
// `stately` queue keeps one queued job per mailbox, and the sync engine joins a running run.

const s = useSandboxTether([{ key: 'gmail', provider: 'gmail', sandboxProvider: 'google' }], {
  endUserPrefix: 'push-user',
});

async function pushRuns(connectionId: string): Promise<SyncRunRow[]> {
  return runStatement<SyncRunRow>(
    s.t.database.db,
    statement(`select * from sync_runs where connection_id = $1 and trigger = 'push' order by id`),
    [connectionId],
  );
}

/** One notification through the Gmail effect, its follow-up queued as process-worker.ts queues it. */
async function notify(emailAddress: string, historyId: number, n: number): Promise<void> {
  await s.t.database.db.transaction(async (tx) => {
    const result = await applyGmailNotification(tx, {
      rowId: `row-${n}`,
      integrationKey: 'pubsub',
      source: 'gmail-pubsub',
      eventId: `msg-${n}`,
      type: 'gmail.notification',
      payload: { emailAddress, historyId: String(historyId) },
    });
    for (const job of result.followUps ?? [])
      await s.t.boss.send(job.queue, job.data, {
        singletonKey: job.singletonKey,
        ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
        db: fromDrizzle(tx as never, sql),
      });
  });
}

describe('Gmail push', () => {
  it('runs the mailbox sync once for a burst of notifications, and once more for a later one', async () => {
    const accounts = await s.control.accounts();
    const { sub, email } = accounts.google[0]!;
    await s.control.sizeDataset('google', 'messages', { account: sub, count: 30, seed: 'push' });
    const id = await s.connect('gmail');
    expect((await runToEnd(s.t, id, 'gmail-messages')).status).toBe('succeeded');

    await s.control.changeDataset('google', 'messages', { account: sub, added: 3, seed: 'burst' });
    const base = Date.now() * 10;
    for (let i = 0; i < 25; i++) await notify(email, base + i, i);
    // Nothing before the debounce has passed…
    await sleep(2000);
    expect(await pushRuns(id)).toHaveLength(0);
    // …then one run for the whole burst.
    let runs: SyncRunRow[] = [];
    for (let i = 0; i < 200 && runs.length === 0; i++) {
      await sleep(100);
      runs = await pushRuns(id);
    }
    expect(runs).toHaveLength(1);
    expect(await waitForRun(s.t, runs[0]!.id)).toMatchObject({ status: 'succeeded', imported: 3 });
    await sleep(2000);
    expect(await pushRuns(id)).toHaveLength(1);

    // A later notification is a new burst: one more run.
    await notify(email, base + 100, 100);
    for (let i = 0; i < 200 && runs.length < 2; i++) {
      await sleep(100);
      runs = await pushRuns(id);
    }
    expect(runs).toHaveLength(2);
    expect(GMAIL_SYNC_DEBOUNCE_SECONDS).toBeGreaterThan(2);
  }, 60_000);

  it('runs again for a notification that joined a run already past its change', async () => {
    const { sub, email } = (await s.control.accounts()).google[0]!;
    await s.control.sizeDataset('google', 'messages', { account: sub, count: 20, seed: 'late' });
    const id = await s.connect('gmail');
    expect((await runToEnd(s.t, id, 'gmail-messages')).status).toBe('succeeded');

    // An incremental run that has read the history and is slow fetching the messages…
    await s.control.changeDataset('google', 'messages', { account: sub, added: 1, seed: 'first' });
    await s.control.latency('google.gmail.batch', 3000);
    const batches = await s.control.callCount('google.gmail.batch');
    const running = await s.t.syncs.startRun({
      connectionId: id,
      syncName: 'gmail-messages',
      trigger: 'test',
    });
    for (let i = 0; i < 100 && (await s.control.callCount('google.gmail.batch')) === batches; i++)
      await sleep(50);
    // …when a new message arrives and its notification is processed while the run still runs.
    await s.control.changeDataset('google', 'messages', { account: sub, added: 1, seed: 'second' });
    await s.t.boss.send(
      'syncs.gmail-mailbox',
      { integrationKey: 'pubsub', emailAddress: email, historyId: '1' },
      { singletonKey: email },
    );
    expect(await waitForRun(s.t, running.id)).toMatchObject({ status: 'succeeded', imported: 1 });
    await s.control.clearFaults();

    // The notification joined that run, which had read past the change: it asks again after it.
    let runs: SyncRunRow[] = [];
    for (let i = 0; i < 300 && runs.length === 0; i++) {
      await sleep(100);
      runs = await pushRuns(id);
    }
    expect(runs).toHaveLength(1);
    expect(await waitForRun(s.t, runs[0]!.id)).toMatchObject({ status: 'succeeded', imported: 1 });
  }, 60_000);
});
