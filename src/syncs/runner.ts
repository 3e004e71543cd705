import type { TokenService } from '../connections/token-service.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoints.ts';
import type { SyncDefinition, SyncPage } from './definition.ts';
import { listFailures } from './failed-records.ts';
import { commitPage, type PageTarget } from './page-commit.ts';
import { findSync } from './registry.ts';
import { commitRunOutcome } from './run-outcome.ts';
import { claimRun, type RunError, recordPage, releaseRun, type SyncRunRow } from './run-store.ts';
import { makeSyncContext, SyncStopped } from './sync-http.ts';

/**
 * Executes one slice of a sync run (one `syncs.run` job):
 *
 *   claim ──▶ retry earlier failed records (first slice) ──▶ page by page from the checkpoint
 *         ──▶ succeeded | partial (records failed) | failed (the run could not go on)
 *         └─▶ paused: the slice ended or the process is stopping; the lease is released and the
 *             run re-queued, to resume from its checkpoint
 *
 * Each page's records, the checkpoint after it and the run's counts are one transaction, guarded
 * by the run's owner. If the process dies at any line, what is committed is whole pages with
 * their checkpoint; the run keeps `running` until its lease lapses and the next claim resumes it
 * from the last committed page: nothing lost, and nothing doubled (a page written twice is
 * unchanged by content hash). reauthorization_required from the token service ends the run with
 * that code.
 */

export interface RunnerDeps {
  db: Db;
  tokens: TokenService;
  sealer: Sealer;
  runtime: ProviderRuntime;
  logger: Logger;
}

export interface RunnerOptions {
  owner: string;
  /** How long a claim holds without a committed page. */
  leaseMs: number;
  /** A slice's longest duration; the run then resumes in a new job. */
  sliceMs: number;
  /** Aborted when the process stops. */
  stopping: AbortSignal;
}

export type SliceResult = 'finished' | 'joined' | 'paused' | 'lost';

class LostLease extends Error {}

const RETRY_CHUNK = 100;

export async function executeRunSlice(
  deps: RunnerDeps,
  runId: string,
  options: RunnerOptions,
): Promise<SliceResult> {
  const { db, logger } = deps;
  const { owner, leaseMs } = options;
  const run = await claimRun(db, runId, owner, leaseMs);
  if (!run) return 'joined';
  const finish = (status: 'succeeded' | 'partial' | 'failed', error: RunError | null) =>
    commitRunOutcome(db, logger, { id: run.id, owner }, { status, error });

  let sync: SyncDefinition | undefined;
  try {
    const { provider, integration } = await deps.tokens.load(run.connection_id);
    sync = findSync(provider.name, run.sync_name, integration.scopes);
  } catch (error) {
    await finish('failed', runError(error, logger));
    return 'finished';
  }
  if (!sync) {
    await finish('failed', {
      code: 'not_found',
      message: `This connection offers no sync "${run.sync_name}".`,
    });
    return 'finished';
  }

  const slice = AbortSignal.any([options.stopping, AbortSignal.timeout(options.sliceMs)]);
  let failedSoFar = run.failed;
  const target: PageTarget = {
    connectionId: run.connection_id,
    syncName: run.sync_name,
    runId: run.id,
    models: new Map(sync.models.map((m) => [m.name, m])),
    hasFailures: () => failedSoFar > 0,
  };
  const commit = async (page: Pick<SyncPage<unknown>, 'items' | 'fullPass'>, checkpoint?: unknown) => {
    const counts = await db.transaction(async (tx) => {
      const counts = await commitPage(tx, target, page);
      if (checkpoint !== undefined) await saveCheckpoint(tx, run.connection_id, run.sync_name, checkpoint);
      if (!(await recordPage(tx, run.id, owner, counts, leaseMs))) throw new LostLease();
      return counts;
    });
    failedSoFar += counts.failed;
  };

  try {
    const ctx = await makeSyncContext(deps, { connectionId: run.connection_id, signal: slice });
    if (run.pages === 0) await retryFailures(deps.db, sync, run, ctx, commit);
    const checkpoint = await loadCheckpoint(db, run.connection_id, run.sync_name);
    for await (const page of sync.run(ctx, checkpoint)) {
      await commit(page, page.checkpoint);
      if (slice.aborted) throw new SyncStopped();
    }
    await finish(failedSoFar > 0 ? 'partial' : 'succeeded', null);
    return 'finished';
  } catch (error) {
    if (error instanceof LostLease) return 'lost';
    if (error instanceof SyncStopped || slice.aborted) {
      return (await releaseRun(db, run.id, owner)) ? 'paused' : 'lost';
    }
    await finish('failed', runError(error, logger));
    return 'finished';
  }
}

/** Fetches the records earlier runs could not store, before the run's own pages. */
async function retryFailures(
  db: Db,
  sync: SyncDefinition,
  run: SyncRunRow,
  ctx: Awaited<ReturnType<typeof makeSyncContext>>,
  commit: (page: Pick<SyncPage<unknown>, 'items'>) => Promise<void>,
): Promise<void> {
  let after: { model: string; externalId: string } | undefined;
  for (;;) {
    const failures = await listFailures(
      db,
      { connectionId: run.connection_id, syncName: run.sync_name },
      { after, limit: RETRY_CHUNK },
    );
    if (failures.length === 0) return;
    after = failures.at(-1);
    const byModel = new Map<string, string[]>();
    for (const f of failures) byModel.set(f.model, [...(byModel.get(f.model) ?? []), f.externalId]);
    for (const [model, ids] of byModel) await commit({ items: await sync.refetch(ctx, model, ids) });
    if (failures.length < RETRY_CHUNK) return;
  }
}

/** The run's error as stored and shown: a code and a message that never hold a secret. */
function runError(error: unknown, logger: Logger): RunError {
  if (isAppError(error)) return { code: error.code, message: error.message };
  logger.error({ err: error }, 'sync run failed');
  return { code: 'internal_error', message: 'The sync failed inside tether; the error was logged.' };
}
