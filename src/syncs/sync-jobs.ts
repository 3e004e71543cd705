import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { connections, integrations } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { jobsIn, type PgBoss } from '../jobs/boss.ts';
import {
  GMAIL_MAILBOX_SYNC_QUEUE,
  GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS,
  type GmailMailboxSyncJob,
  SYNC_RUN_QUEUE,
  type SyncRunJob,
} from '../jobs/queues.ts';
import { forgetCheckpoint } from './checkpoints.ts';
import { findSync, syncsOf } from './registry.ts';
import { createRun, findRunningRun, getRun, requestRun, type SyncRunRow } from './run-store.ts';
import { executeRunSlice, type RunnerDeps } from './runner.ts';
import { syncEnabled } from './sync-settings.ts';

/**
 * The sync engine on pg-boss. `syncs.run` jobs carry a run id; any process's worker executes a
 * slice of it (runner.ts), and a slice that pauses re-queues the run. startRun is how a run is
 * asked for (API, Gmail push): it creates the run or joins the running one, and queues a job
 * when nobody is working on it (a new run, or one whose worker died: its lease lapsed).
 *
 * A worker that dies (SIGKILL) stops sending pg-boss heartbeats, so its job is handed out again
 * within seconds; a slice that finds the run's lease still held looks again when the lease lapses.
 * So a run whose process died resumes from its checkpoint by itself, within about a lease.
 */

/** How long a push that joined a run begun before it waits to ask again. */
const PUSH_RECHECK_SECONDS = 5;

type RunInput = { connectionId: string; syncName: string; trigger: string };

export interface SyncJobsOptions {
  pollingIntervalSeconds?: number;
  concurrency?: number;
  leaseMs?: number;
  sliceMs?: number;
}

export interface SyncEngine {
  /** A run of (connection, sync): new, or the running one. */
  startRun(input: { connectionId: string; syncName: string; trigger: string }): Promise<SyncRunRow>;
  /**
   * Forgets the checkpoint and starts a new run, which so begins with a full pass (the records are
   * kept, so what changed is still told apart). `sync_running` while a run is going on.
   */
  resetRun(input: { connectionId: string; syncName: string; trigger: string }): Promise<SyncRunRow>;
  /** Stops running slices at their next page (they resume elsewhere or after the restart). */
  stop(): void;
}

export async function startSyncJobs(
  boss: PgBoss,
  deps: RunnerDeps,
  options: SyncJobsOptions = {},
): Promise<SyncEngine> {
  const worker = `${process.pid}:${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 120_000;
  const stopping = new AbortController();
  const runQueue = { retryLimit: 3, retryDelay: 5, expireInSeconds: 3600, heartbeatSeconds: 10 };
  await boss.createQueue(SYNC_RUN_QUEUE, runQueue);
  // A queue made by an earlier start keeps its options until told otherwise.
  await boss.updateQueue(SYNC_RUN_QUEUE, runQueue);
  await boss.createQueue(GMAIL_MAILBOX_SYNC_QUEUE, GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS);

  /** Refuses a sync the connection does not offer, and a connection that cannot sync. */
  async function checkRunnable(input: RunInput): Promise<void> {
    const { row, provider, integration } = await deps.tokens.load(input.connectionId);
    if (!findSync(provider.name, input.syncName, integration.scopes))
      throw new AppError('unknown_sync', `This connection offers no sync "${input.syncName}".`);
    if (row.status === 'disconnected')
      throw new AppError('not_connected', 'This connection is disconnected; connect the account again.');
    if (row.status === 'reauthorization_required')
      throw new AppError(
        'reauthorization_required',
        `${provider.displayName} no longer accepts this connection's grant; the end user must reconnect.`,
      );
  }

  async function startRun(input: RunInput): Promise<SyncRunRow> {
    await checkRunnable(input);
    const { run, created } = await requestRun(deps.db, input);
    const idle =
      run.owner === null || (run.lease_until !== null && new Date(run.lease_until).getTime() < Date.now());
    if (created || idle) await boss.send(SYNC_RUN_QUEUE, { runId: run.id });
    return run;
  }

  /** Another worker holds the run (or held it and died): come back once its lease has lapsed. */
  async function lookAgainWhenLeaseLapses(runId: string): Promise<void> {
    const run = await getRun(deps.db, runId);
    if (run?.status !== 'running' || run.lease_until === null) return;
    const startAfter = new Date(new Date(run.lease_until).getTime() + 1000);
    await boss.send(SYNC_RUN_QUEUE, { runId }, { startAfter });
  }

  async function resetRun(input: RunInput): Promise<SyncRunRow> {
    await checkRunnable(input);
    // The new run, the forgotten checkpoint and the run's job commit together: no run can start
    // from the old checkpoint, and no reset is lost to a crash.
    return deps.db.transaction(async (tx) => {
      const run = await createRun(tx, input);
      if (!run) {
        const running = await findRunningRun(tx, input.connectionId, input.syncName);
        throw new AppError(
          'sync_running',
          `A run of "${input.syncName}" is going on${running ? ` (${running.id})` : ''}; reset it once that run has ended.`,
        );
      }
      await forgetCheckpoint(tx, input.connectionId, input.syncName);
      await boss.send(SYNC_RUN_QUEUE, { runId: run.id }, { db: jobsIn(tx) });
      return run;
    });
  }

  const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };
  await boss.work<SyncRunJob>(
    SYNC_RUN_QUEUE,
    { ...polling, localConcurrency: options.concurrency ?? 2 },
    async ([job]) => {
      const result = await executeRunSlice(deps, job!.data.runId, {
        // One owner per slice, not per process: two jobs of one run (a second request queues one
        // while the first is not yet claimed) on this process's workers must not both hold it.
        owner: `${worker}:${randomUUID()}`,
        leaseMs,
        sliceMs: options.sliceMs ?? 5 * 60_000,
        stopping: stopping.signal,
      });
      if (result === 'paused') await boss.send(SYNC_RUN_QUEUE, { runId: job!.data.runId });
      if (result === 'joined') await lookAgainWhenLeaseLapses(job!.data.runId);
    },
  );

  // Gmail push: the mailbox has changes, so run the Gmail syncs of the connections reading it. A
  // run already going that began before the notification may have read past the change: then ask
  // again once it can have ended (one queued job per mailbox, so a burst still makes one run).
  await boss.work<GmailMailboxSyncJob, void, { pollingIntervalSeconds: number; includeMetadata: true }>(
    GMAIL_MAILBOX_SYNC_QUEUE,
    { ...polling, includeMetadata: true },
    async ([job]) => {
      const rows = await deps.db
        .select({
          id: connections.id,
          provider: integrations.provider,
          scopes: integrations.scopes,
          options: integrations.options,
        })
        .from(connections)
        .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
        .where(
          and(
            inArray(connections.status, ['connected', 'degraded']),
            sql`${connections.metadata}->>'email' = ${job!.data.emailAddress}`,
          ),
        );
      let behind = false;
      for (const row of rows) {
        for (const sync of syncsOf(row.provider, row.scopes)) {
          if (!sync.pushQueues?.includes(GMAIL_MAILBOX_SYNC_QUEUE)) continue;
          // A disabled sync is paused: push does not run it either.
          if (!(await syncEnabled(deps.db, row.id, sync, row.options))) continue;
          const run = await startRun({ connectionId: row.id, syncName: sync.name, trigger: 'push' });
          if (new Date(run.created_at).getTime() < job!.createdOn.getTime()) behind = true;
        }
      }
      if (behind)
        await boss.send(GMAIL_MAILBOX_SYNC_QUEUE, job!.data, {
          singletonKey: job!.data.emailAddress,
          startAfter: PUSH_RECHECK_SECONDS,
        });
    },
  );

  return { startRun, resetRun, stop: () => stopping.abort() };
}
