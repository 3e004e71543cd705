import { z } from 'zod';
import type { SyncContext } from '../syncs/definition.ts';
import { readGoogleJson } from './google-sync-http.ts';

// Gmail push set-up, as the connection: users.watch asks Gmail to publish the mailbox's changes to
// a Pub/Sub topic until `expiration` (seven days; renew daily), users.stop ends it.

const WatchAnswer = z.object({
  historyId: z.string().regex(/^\d{1,20}$/),
  expiration: z.string().regex(/^\d{1,15}$/),
});

export interface MailboxWatch {
  historyId: string;
  expiresAt: Date;
}

export async function watchMailbox(ctx: SyncContext, topicName: string): Promise<MailboxWatch> {
  const response = await ctx.request('gmail/v1/users/me/watch', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topicName, labelFilterBehavior: 'include', labelIds: [] }),
  });
  const answer = await readGoogleJson(response, WatchAnswer, 'users.watch');
  return { historyId: answer.historyId, expiresAt: new Date(Number(answer.expiration)) };
}

export async function stopMailboxWatch(ctx: SyncContext): Promise<void> {
  const response = await ctx.request('gmail/v1/users/me/stop', { method: 'POST' });
  await response.body?.cancel();
}
