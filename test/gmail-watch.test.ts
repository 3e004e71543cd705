import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { gmailWatches } from '../src/db/schema.ts';
import { GMAIL_WATCH_QUEUE } from '../src/jobs/queues.ts';
import { gmailWatchOf, WATCH_LIFETIME_MS } from '../src/sandbox/providers/gmail-watch.ts';
import { useSandboxTether } from './harness/sandbox-tether.ts';

// Gmail push needs a users.watch per mailbox, renewed before its seven days lapse: the hourly
// renewal job watches every Gmail connection of an integration with a Pub/Sub topic, and renews
// each watch once it is a day old (or close to lapsing, or made for another topic).

const TOPIC = 'projects/tether-demo/topics/gmail-push';
const s = useSandboxTether(
  [
    { key: 'gmail-push', provider: 'gmail', sandboxProvider: 'google', options: { gmailWatchTopic: TOPIC } },
    { key: 'gmail-poll', provider: 'gmail', sandboxProvider: 'google' },
    {
      key: 'calendar-push',
      provider: 'google-calendar',
      sandboxProvider: 'google',
      options: { gmailWatchTopic: TOPIC },
    },
  ],
  { endUserPrefix: 'watch-user' },
);

async function watchRow(connectionId: string) {
  const [row] = await s.t.database.db
    .select()
    .from(gmailWatches)
    .where(eq(gmailWatches.connectionId, connectionId));
  return row;
}

const accountId = async () => (await s.control.accounts()).google[0]!.sub;

describe('Gmail watch renewal', () => {
  it('watches each push mailbox once, renews it a day later or near its expiration, and leaves the others alone', async () => {
    const push = await s.connect('gmail-push');
    const poll = await s.connect('gmail-poll');
    const calendar = await s.connect('calendar-push');
    const sandboxNow = Date.parse((await s.control.clock()).now);

    expect(await s.t.gmailWatches.renew()).toEqual({ renewed: 1, failed: 0 });
    const first = (await watchRow(push))!;
    expect(first).toMatchObject({ topicName: TOPIC, lastError: null });
    expect(first.expiresAt.getTime() - sandboxNow).toBeGreaterThanOrEqual(WATCH_LIFETIME_MS - 1000);
    expect(first.expiresAt.getTime() - sandboxNow).toBeLessThan(WATCH_LIFETIME_MS + 10_000);
    expect(gmailWatchOf(s.sandboxState, await accountId())).toMatchObject({ topicName: TOPIC, calls: 1 });
    // No Gmail sync (calendar) or no topic (poll): no watch.
    expect(await watchRow(poll)).toBeUndefined();
    expect(await watchRow(calendar)).toBeUndefined();

    // Not due again within the day.
    expect(await s.t.gmailWatches.renew()).toEqual({ renewed: 0, failed: 0 });
    expect(await s.control.callCount('google.gmail.watch')).toBe(1);

    // A day later (the watch made 25 hours ago), it is renewed.
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await s.t.database.db
      .update(gmailWatches)
      .set({ renewedAt: dayAgo })
      .where(eq(gmailWatches.connectionId, push));
    expect(await s.t.gmailWatches.renew()).toEqual({ renewed: 1, failed: 0 });
    expect((await watchRow(push))!.renewedAt.getTime()).toBeGreaterThan(dayAgo.getTime());

    // One close to lapsing is renewed whatever its age.
    await s.t.database.db
      .update(gmailWatches)
      .set({ expiresAt: new Date(Date.now() + 3_600_000) })
      .where(eq(gmailWatches.connectionId, push));
    expect(await s.t.gmailWatches.renew()).toEqual({ renewed: 1, failed: 0 });
    expect((await watchRow(push))!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(gmailWatchOf(s.sandboxState, await accountId())?.calls).toBe(3);
  });

  it('records a failed renewal on the watch and tries it again at the next run', async () => {
    const push = await s.connect('gmail-push');
    expect((await s.t.gmailWatches.renew()).renewed).toBeGreaterThanOrEqual(1);
    await s.t.database.db
      .update(gmailWatches)
      .set({ renewedAt: new Date(Date.now() - 2 * 86_400_000) })
      .where(eq(gmailWatches.connectionId, push));
    await s.control.failNext('google.gmail.watch', 403, {
      times: 1,
      body: {
        error: {
          code: 403,
          message: 'User not authorized to perform this action.',
          status: 'PERMISSION_DENIED',
        },
      },
    });
    const failed = await s.t.gmailWatches.renew();
    expect(failed.failed).toBe(1);
    expect((await watchRow(push))!.lastError).toMatchObject({ code: 'bad_gateway' });
    expect(await s.t.gmailWatches.renew()).toMatchObject({ failed: 0 });
    expect((await watchRow(push))!.lastError).toBeNull();
  });

  it('is a pg-boss cron job', async () => {
    const schedules = await s.t.boss.getSchedules(GMAIL_WATCH_QUEUE);
    expect(schedules.map((x) => x.name)).toEqual([GMAIL_WATCH_QUEUE]);
  });
});
