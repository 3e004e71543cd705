import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE } from '../jobs/queues.ts';
import type { SyncContext, SyncDefinition, SyncItem } from '../syncs/definition.ts';
import { buildBatch, readBatch } from './google-batch.ts';
import { readGoogleJson } from './google-sync-http.ts';

/**
 * Gmail `messages`: the mailbox's messages (metadata: labels, snippet, headers).
 *
 *   full: profile's historyId H first, then users.messages.list pages (500), each page's messages
 *         fetched through the batch endpoint (100 per call); when the last page is stored the
 *         records the pass did not see are tombstones, and the sync carries on from H
 *   incremental: users.history.list from the checkpoint's history id; deleted messages are
 *         tombstones, added or relabelled ones are fetched again; a 404 (the history id is older
 *         than Gmail keeps) starts a full pass by itself
 *
 * Changes made while a full pass runs are in the history after H, so the incremental run that
 * follows replays them; the records store's version check (a message's historyId) keeps the
 * replay from regressing anything.
 */

export type GmailCheckpoint =
  | { phase: 'full'; passId: string; startHistoryId: string; pageToken: string | null }
  | { phase: 'incremental'; historyId: string };

const MODEL = 'messages';
const LIST_PAGE = 500;
const BATCH_SIZE = 100;
const ITEM_RETRIES = 3;
const USER = 'gmail/v1/users/me';

const HistoryId = z.string().regex(/^\d{1,20}$/);
const Message = z.object({
  id: z.string().min(1),
  threadId: z.string().min(1),
  labelIds: z.array(z.string()).default([]),
  snippet: z.string(),
  historyId: HistoryId,
  internalDate: z.string().regex(/^\d{1,15}$/),
  sizeEstimate: z.number().int().nonnegative(),
  payload: z
    .object({ headers: z.array(z.object({ name: z.string(), value: z.string() })).default([]) })
    .optional(),
});

const ListPage = z.object({
  messages: z.array(z.object({ id: z.string() })).optional(),
  nextPageToken: z.string().optional(),
});
const MessageRef = z.object({ message: z.object({ id: z.string() }) });
const HistoryPage = z.object({
  history: z
    .array(
      z.object({
        id: HistoryId,
        messages: z.array(z.object({ id: z.string() })).optional(),
        messagesAdded: z.array(MessageRef).optional(),
        messagesDeleted: z.array(MessageRef).optional(),
        labelsAdded: z.array(MessageRef).optional(),
        labelsRemoved: z.array(MessageRef).optional(),
      }),
    )
    .optional(),
  nextPageToken: z.string().optional(),
  historyId: HistoryId,
});
const Profile = z.object({ historyId: HistoryId });

function mapMessage(raw: unknown) {
  const m = Message.parse(raw);
  const header = (name: string) =>
    m.payload?.headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
  return {
    data: {
      id: m.id,
      threadId: m.threadId,
      labelIds: m.labelIds,
      snippet: m.snippet,
      historyId: m.historyId,
      internalDate: new Date(Number(m.internalDate)).toISOString(),
      sizeEstimate: m.sizeEstimate,
      subject: header('subject'),
      from: header('from'),
      to: header('to'),
      date: header('date'),
    },
    version: m.historyId,
  };
}

/** The messages by id through the batch endpoint; a 404 means deleted, a failing one is a failed item. */
async function getMessages(ctx: SyncContext, ids: readonly string[]): Promise<SyncItem[]> {
  const items: SyncItem[] = [];
  for (let at = 0; at < ids.length; at += BATCH_SIZE) {
    let pending = ids.slice(at, at + BATCH_SIZE);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const batch = buildBatch(
        pending.map((id) => `/${USER}/messages/${encodeURIComponent(id)}?format=metadata`),
      );
      const response = await ctx.request('batch/gmail/v1', {
        method: 'POST',
        headers: { 'content-type': batch.contentType },
        body: batch.body,
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new AppError('bad_gateway', `Gmail answered ${response.status} to a batch request.`);
      }
      const results = readBatch(response.headers.get('content-type'), await response.text(), pending.length);
      const again: string[] = [];
      pending.forEach((id, i) => {
        const result = results[i];
        const status = result?.status ?? 0;
        if (status === 200) {
          let raw: unknown;
          try {
            raw = JSON.parse(result!.body);
          } catch {
            raw = undefined;
          }
          items.push({ kind: 'record', model: MODEL, id, raw });
        } else if (status === 404) items.push({ kind: 'deleted', model: MODEL, id });
        else if ((status === 0 || status === 429 || status >= 500) && attempt < ITEM_RETRIES) again.push(id);
        else
          items.push({
            kind: 'failed',
            model: MODEL,
            id,
            error: {
              code: 'provider_error',
              message: `Gmail answered ${status || 'nothing'} for this message.`,
            },
          });
      });
      pending = again;
      if (pending.length > 0) await ctx.sleep(500 * 2 ** attempt);
    }
  }
  return items;
}

async function startFullPass(ctx: SyncContext): Promise<GmailCheckpoint> {
  const profile = await readGoogleJson(await ctx.request(`${USER}/profile`), Profile, 'users.getProfile');
  return {
    phase: 'full',
    passId: randomBytes(8).toString('hex'),
    startHistoryId: profile.historyId,
    pageToken: null,
  };
}

async function* run(ctx: SyncContext, checkpoint: GmailCheckpoint | null) {
  let cp = checkpoint ?? (await startFullPass(ctx));
  for (;;) {
    if (cp.phase === 'full') {
      const query = new URLSearchParams({ maxResults: String(LIST_PAGE) });
      if (cp.pageToken) query.set('pageToken', cp.pageToken);
      const response = await ctx.request(`${USER}/messages?${query}`);
      if (response.status === 400 && cp.pageToken) {
        // The page token no longer holds: start the pass again.
        await response.body?.cancel();
        cp = await startFullPass(ctx);
        continue;
      }
      const page = await readGoogleJson(response, ListPage, 'users.messages.list');
      const items = await getMessages(
        ctx,
        (page.messages ?? []).map((m) => m.id),
      );
      const complete = page.nextPageToken === undefined;
      const next: GmailCheckpoint = complete
        ? { phase: 'incremental', historyId: cp.startHistoryId }
        : { ...cp, pageToken: page.nextPageToken! };
      yield { items, checkpoint: next, fullPass: { id: cp.passId, models: [MODEL], complete } };
      cp = next;
      if (complete) return;
    } else {
      const query = new URLSearchParams({ startHistoryId: cp.historyId, maxResults: String(LIST_PAGE) });
      const response = await ctx.request(`${USER}/history?${query}`);
      if (response.status === 404) {
        // Gmail no longer has history this old: copy the mailbox again.
        await response.body?.cancel();
        cp = await startFullPass(ctx);
        continue;
      }
      const page = await readGoogleJson(response, HistoryPage, 'users.history.list');
      const items: SyncItem[] = [];
      const changed = new Set<string>();
      for (const h of page.history ?? []) {
        for (const { message } of h.messagesDeleted ?? [])
          items.push({ kind: 'deleted', model: MODEL, id: message.id, version: h.id });
        for (const ref of [...(h.messagesAdded ?? []), ...(h.labelsAdded ?? []), ...(h.labelsRemoved ?? [])])
          changed.add(ref.message.id);
        for (const m of h.messages ?? []) changed.add(m.id);
      }
      items.push(...(await getMessages(ctx, [...changed])));
      const last = page.history?.at(-1)?.id;
      const more = page.nextPageToken !== undefined && last !== undefined;
      const next: GmailCheckpoint = { phase: 'incremental', historyId: more ? last : page.historyId };
      yield { items, checkpoint: next };
      cp = next;
      if (!more) return;
    }
  }
}

export const gmailMessagesSync: SyncDefinition<GmailCheckpoint> = {
  name: 'gmail-messages',
  models: [{ name: MODEL, map: mapMessage }],
  defaultFrequencyMinutes: 60,
  scopes: [
    'https://www.googleapis.com/auth/gmail.readonly',
    'https://www.googleapis.com/auth/gmail.metadata',
    'https://www.googleapis.com/auth/gmail.modify',
    'https://mail.google.com/',
  ],
  pushQueues: [GMAIL_MAILBOX_SYNC_QUEUE],
  run,
  refetch: (ctx, _model, ids) => getMessages(ctx, ids),
};
