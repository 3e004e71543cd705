/**
 * Every pg-boss queue tether uses, with its payload: named `<capability>.<verb>`. A queue is
 * created (with its options) by the capability that works it; a payload type here is what every
 * sender and worker of that queue agrees on.
 */

// Connections: the keep-alive cron and its per-connection refreshes.
export const SWEEP_QUEUE = 'connections.sweep';
export const REFRESH_QUEUE = 'connections.refresh';
export interface RefreshJob {
  connectionId: string;
  reason: 'expiring' | 'idle' | 'retry';
}

// Retention: the cron job that prunes old audit entries and finished inbox events.
export const RETENTION_QUEUE = 'retention.prune';

// Gmail watches: the hourly cron that renews each push mailbox's users.watch before it expires.
export const GMAIL_WATCH_QUEUE = 'syncs.gmail-watch';

// Syncs: one job is a slice of a sync run.
export const SYNC_RUN_QUEUE = 'syncs.run';
export interface SyncRunJob {
  runId: string;
}

/**
 * Gmail push → "this mailbox has changes; sync it". Created with
 * {@link GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS}: with policy `stately` pg-boss keeps at most one queued
 * job per singletonKey (the mailbox), so a burst of notifications within the debounce runs one
 * sync, and a notification during a running sync queues exactly one more.
 */
export const GMAIL_MAILBOX_SYNC_QUEUE = 'syncs.gmail-mailbox';
export const GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS = { policy: 'stately' } as const;
/**
 * `historyId` is the value that started the job, a lower bound: later notifications of the same
 * burst are folded into this job without changing its data, so the sync must list history from
 * its own checkpoint (users.history.list startHistoryId) to the end, and may read the newest known
 * value from gmail_mailboxes.history_id. A 404 from history.list (the checkpoint is too old)
 * means a full resync.
 */
export interface GmailMailboxSyncJob {
  integrationKey: string;
  emailAddress: string;
  /** Decimal string: Gmail history ids can exceed 2^53. */
  historyId: string;
}

/**
 * Webhooks: one `webhooks.process` job names the events one inbox commit stored (up to a few
 * hundred), so a burst of deliveries costs a few job rows rather than one each; a replay is a job
 * naming one event.
 */
export const PROCESS_QUEUE = 'webhooks.process';
/** Where pg-boss moves a process job it gave up on; its worker marks the job's open events dead. */
export const DEAD_QUEUE = 'webhooks.dead';
export interface ProcessJob {
  eventRowIds: string[];
}

/** The inbox rows a process job names; nothing for data it does not recognise (never throws). */
export function processJobEventIds(data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const { eventRowIds } = data as { eventRowIds?: unknown };
  return Array.isArray(eventRowIds) ? eventRowIds.filter((id): id is string => typeof id === 'string') : [];
}
