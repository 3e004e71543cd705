import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EffectEvent,
  type EffectsDatabase,
  gmailInbox,
  makeEffectsDatabase,
} from '../../../test/harness/webhook-effects.ts';
import { type PgBoss, startBoss, stopBoss } from '../../jobs/boss.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE, type GmailMailboxSyncJob } from '../../jobs/queues.ts';
import { makeLogger } from '../../logger.ts';
import { sendFollowUps } from '../follow-ups.ts';
import { FOLLOW_UP_QUEUES } from '../sources/index.ts';
import { applyWebhookEvent } from './index.ts';

// The follow-up contract on a real pg-boss: the jobs are sent in the transaction that applied the
// effect (as the worker does), and a burst of notifications for one mailbox leaves one queued sync.

describe('follow-up jobs', () => {
  let t: EffectsDatabase;
  let boss: PgBoss;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
    boss = await startBoss(t.database, makeLogger({ level: 'silent' }));
    for (const queue of FOLLOW_UP_QUEUES) await boss.createQueue(queue.name, queue.options);
  });
  afterAll(async () => {
    await stopBoss(boss, 5000);
    await t.dispose();
  });

  const applyAndEnqueue = (event: EffectEvent) =>
    t.database.db.transaction(async (tx) => {
      const result = await applyWebhookEvent(tx, {
        rowId: 'whe_test',
        integrationKey: 'test-integration',
        ...event,
      });
      await sendFollowUps(boss, tx, result.followUps ?? []);
      return result;
    });

  const queued = async (email: string) => {
    const jobs = await boss.findJobs<GmailMailboxSyncJob>(GMAIL_MAILBOX_SYNC_QUEUE, { key: email });
    return jobs.filter((job) => job.state === 'created');
  };

  it('collapses a burst of notifications for one mailbox into one queued sync', async () => {
    const email = `burst-${randomBytes(4).toString('hex')}@example.com`;
    for (const historyId of ['100', '101', '102']) {
      expect((await applyAndEnqueue(gmailInbox(email, historyId))).effect).toBe('applied');
    }
    const jobs = await queued(email);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toEqual({
      integrationKey: 'test-integration',
      emailAddress: email,
      historyId: '100',
    });
    expect(jobs[0]!.startAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it('queues nothing for a stale notification', async () => {
    const email = `stale-${randomBytes(4).toString('hex')}@example.com`;
    await t.database.db.transaction((tx) =>
      applyWebhookEvent(tx, {
        rowId: 'whe_x',
        integrationKey: 'test-integration',
        ...gmailInbox(email, '500'),
      }),
    );
    expect((await applyAndEnqueue(gmailInbox(email, '400'))).effect).toBe('stale');
    expect(await queued(email)).toEqual([]);
  });
});
