import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { connections, integrations } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { PgBoss } from '../jobs/boss.ts';
import {
  GMAIL_MAILBOX_SYNC_QUEUE,
  GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS,
  type GmailMailboxSyncJob,
} from '../webhooks/effects/gmail-history.ts';
import { findSync, syncsOf } from './registry.ts';
import { getRun, requestRun, type SyncRunRow } from './run-store.ts';
import { executeRunSlice, type RunnerDeps } from './runner.ts';

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

export const SYNC_RUN_QUEUE = 'syncs.run';

export interface SyncJobsOptions {
  pollingIntervalSeconds?: number;
  concurrency?: number;
  leaseMs?: number;
  sliceMs?: number;
}

export interface SyncEngine {
  /** A run of (connection, sync): new, or the running one. */
  startRun(input: { connectionId: string; syncName: string; trigger: string }): Promise<SyncRunRow>;
  /** Stops running slices at their next page (they resume elsewhere or after the restart). */
  stop(): void;
}

export async function startSyncJobs(
  boss: PgBoss,
  deps: RunnerDeps,
  options: SyncJobsOptions = {},
): Promise<SyncEngine> {
  const owner = `${process.pid}:${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 120_000;
  const stopping = new AbortController();
  const runQueue = { retryLimit: 3, retryDelay: 5, expireInSeconds: 3600, heartbeatSeconds: 10 };
  await boss.createQueue(SYNC_RUN_QUEUE, runQueue);
  // A queue made by an earlier start keeps its options until told otherwise.
  await boss.updateQueue(SYNC_RUN_QUEUE, runQueue);
  await boss.createQueue(GMAIL_MAILBOX_SYNC_QUEUE, GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS);

  async function startRun(input: {
    connectionId: string;
    syncName: string;
    trigger: string;
  }): Promise<SyncRunRow> {
    const { provider, integration } = await deps.tokens.load(input.connectionId);
    if (!findSync(provider.name, input.syncName, integration.scopes))
      throw new AppError('not_found', `This connection offers no sync "${input.syncName}".`);
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

  const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };
  await boss.work<{ runId: string }>(
    SYNC_RUN_QUEUE,
    { ...polling, localConcurrency: options.concurrency ?? 2 },
    async ([job]) => {
      const result = await executeRunSlice(deps, job!.data.runId, {
        owner,
        leaseMs,
        sliceMs: options.sliceMs ?? 5 * 60_000,
        stopping: stopping.signal,
      });
      if (result === 'paused') await boss.send(SYNC_RUN_QUEUE, { runId: job!.data.runId });
      if (result === 'joined') await lookAgainWhenLeaseLapses(job!.data.runId);
    },
  );

  // Gmail push: the mailbox has changes, so run the Gmail syncs of the connections reading it.
  await boss.work<GmailMailboxSyncJob>(GMAIL_MAILBOX_SYNC_QUEUE, polling, async ([job]) => {
    const rows = await deps.db
      .select({ id: connections.id, provider: integrations.provider, scopes: integrations.scopes })
      .from(connections)
      .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
      .where(
        and(
          inArray(connections.status, ['connected', 'degraded']),
          sql`${connections.metadata}->>'email' = ${job!.data.emailAddress}`,
        ),
      );
    for (const row of rows) {
      for (const sync of syncsOf(row.provider, row.scopes)) {
        if (sync.pushQueues?.includes(GMAIL_MAILBOX_SYNC_QUEUE))
          await startRun({ connectionId: row.id, syncName: sync.name, trigger: 'push' });
      }
    }
  });

  return { startRun, stop: () => stopping.abort() };
}
