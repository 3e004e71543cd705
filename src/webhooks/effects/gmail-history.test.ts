import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EffectsDatabase,
  gmailInbox,
  makeEffectsDatabase,
} from '../../../test/harness/webhook-effects.ts';
import { gmailMailboxes } from '../../db/schema.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE } from '../../jobs/queues.ts';

describe('Gmail notifications on mailbox history', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  const mailbox = () => `user-${randomBytes(4).toString('hex')}@example.com`;
  const historyOf = async (emailAddress: string) => {
    const [row] = await t.database.db
      .select()
      .from(gmailMailboxes)
      .where(eq(gmailMailboxes.emailAddress, emailAddress));
    return row?.historyId;
  };

  it('records a first notification and asks for one debounced sync of the mailbox', async () => {
    const email = mailbox();
    const result = await t.apply(gmailInbox(email, '1000'));
    expect(result.effect).toBe('applied');
    expect(result.followUps).toEqual([
      {
        queue: GMAIL_MAILBOX_SYNC_QUEUE,
        data: { integrationKey: 'test-integration', emailAddress: email, historyId: '1000' },
        singletonKey: email,
        startAfterSeconds: 10,
      },
    ]);
    expect(await historyOf(email)).toBe('1000');
  });

  it('moves forward on a bigger historyId and answers stale for an older or equal one', async () => {
    const email = mailbox();
    await t.apply(gmailInbox(email, '999'));
    // Numerically bigger though shorter-looking as text comparisons go ("1000" < "999").
    const forward = await t.apply(gmailInbox(email, '1000'));
    expect(forward.effect).toBe('applied');
    expect(forward.followUps).toHaveLength(1);
    const older = await t.apply(gmailInbox(email, '999'));
    expect(older).toMatchObject({ effect: 'stale' });
    expect(older.followUps).toBeUndefined();
    expect((await t.apply(gmailInbox(email, '1000'))).effect).toBe('stale');
    expect(await historyOf(email)).toBe('1000');
  });

  it('compares historyIds above 2^53 exactly', async () => {
    const email = mailbox();
    // 2^53 + 1 and 2^53 + 2: equal as JavaScript numbers.
    await t.apply(gmailInbox(email, '9007199254740993'));
    expect((await t.apply(gmailInbox(email, '9007199254740994'))).effect).toBe('applied');
    expect((await t.apply(gmailInbox(email, '9007199254740993'))).effect).toBe('stale');
    expect(await historyOf(email)).toBe('9007199254740994');
    expect((await t.apply(gmailInbox(email, '18446744073709551615'))).effect).toBe('applied');
    expect(await historyOf(email)).toBe('18446744073709551615');
  });

  it('changes nothing when the same notification is applied twice', async () => {
    const email = mailbox();
    const notification = gmailInbox(email, '42');
    await t.apply(notification);
    const [before] = await t.database.db
      .select()
      .from(gmailMailboxes)
      .where(eq(gmailMailboxes.emailAddress, email));
    expect((await t.apply(notification)).effect).toBe('stale');
    const [after] = await t.database.db
      .select()
      .from(gmailMailboxes)
      .where(eq(gmailMailboxes.emailAddress, email));
    expect(after).toEqual(before);
  });

  it('throws for a notification whose historyId is not a decimal string', async () => {
    const broken = gmailInbox(mailbox(), '12');
    (broken.payload as Record<string, unknown>).historyId = 'abc';
    await expect(t.apply(broken)).rejects.toMatchObject({
      code: 'malformed_payload',
      message: expect.stringContaining('"historyId"'),
    });
  });
});
