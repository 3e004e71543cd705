import type { Db } from '../db/client.ts';
import type { ModelDefinition, SyncItem, SyncPage } from './definition.ts';
import { clearFailures, recordFailures } from './failed-records.ts';
import { markSeen, sweepUnseen } from './full-pass.ts';
import type { RecordError } from './record-errors.ts';
import { type RecordChange, writeRecords } from './records-store.ts';
import type { RunCounts } from './run-store.ts';

/**
 * One page of a sync into the store, inside the runner's transaction. Each record is isolated:
 * one that fails to map (malformed) or to store (the database refuses it) goes to the failed
 * records with its error and the rest of the page carries on. A stored record leaves the failed
 * records. The checkpoint and the run's counts are written by the caller in the same transaction.
 */

export interface PageTarget {
  connectionId: string;
  syncName: string;
  runId: string;
  models: ReadonlyMap<string, ModelDefinition>;
  /** Whether the run has failed records so far (then a completed full pass deletes nothing). */
  hasFailures: () => boolean;
}

export async function commitPage(
  tx: Db,
  target: PageTarget,
  page: Pick<SyncPage<unknown>, 'items' | 'fullPass'>,
): Promise<RunCounts> {
  const counts: RunCounts = { imported: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 };
  const failures: { model: string; externalId: string; error: RecordError }[] = [];
  const byModel = new Map<string, RecordChange[]>();
  for (const item of page.items) {
    const change = toChange(target, item);
    if ('error' in change) failures.push({ model: item.model, externalId: item.id, error: change.error });
    else {
      const list = byModel.get(item.model) ?? [];
      list.push(change.change);
      byModel.set(item.model, list);
    }
  }
  const seenPass = page.fullPass?.id;
  for (const [model, changes] of byModel) {
    const stored = await storeIsolated(
      tx,
      { connectionId: target.connectionId, model },
      changes,
      failures,
      seenPass,
    );
    for (const key of Object.keys(stored.counts) as (keyof typeof stored.counts)[])
      counts[key] += stored.counts[key];
    await clearFailures(tx, target, model, stored.ids);
  }
  counts.failed = failures.length;
  await recordFailures(tx, target, failures);
  if (page.fullPass) {
    const pass = page.fullPass;
    // The stored records were marked as they were written; a failed one was seen too (it may
    // exist from before, and must not become a tombstone for failing now).
    const failedByModel = new Map<string, string[]>();
    for (const f of failures)
      failedByModel.set(f.model, [...(failedByModel.get(f.model) ?? []), f.externalId]);
    for (const [model, ids] of failedByModel)
      await markSeen(tx, { connectionId: target.connectionId, model }, pass.id, ids);
    if (pass.complete && failures.length === 0 && !target.hasFailures()) {
      for (const model of pass.models)
        counts.deleted += await sweepUnseen(tx, { connectionId: target.connectionId, model }, pass.id);
    }
  }
  return counts;
}

function toChange(target: PageTarget, item: SyncItem): { change: RecordChange } | { error: RecordError } {
  if (item.kind === 'failed') return { error: item.error };
  if (item.kind === 'deleted') return { change: { id: item.id, deleted: true, version: item.version } };
  const model = target.models.get(item.model);
  if (!model) return { error: { code: 'unknown_model', message: `The sync has no model "${item.model}".` } };
  try {
    const { data, version } = model.map(item.raw);
    return { change: { id: item.id, data, version } };
  } catch (error) {
    return { error: { code: 'invalid_record', message: describe(error) } };
  }
}

/** All of the model's changes in one statement; if the database refuses it, each alone. */
async function storeIsolated(
  tx: Db,
  target: { connectionId: string; model: string },
  changes: RecordChange[],
  failures: { model: string; externalId: string; error: RecordError }[],
  seenPass: string | undefined,
) {
  try {
    const counts = await tx.transaction((sp) => writeRecords(sp, target, changes, { seenPass }));
    return { counts, ids: changes.map((c) => c.id) };
  } catch {
    const total = { imported: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0 };
    const ids: string[] = [];
    for (const change of changes) {
      try {
        const one = await tx.transaction((sp) => writeRecords(sp, target, [change], { seenPass }));
        for (const key of Object.keys(one) as (keyof typeof one)[]) total[key] += one[key];
        ids.push(change.id);
      } catch (error) {
        failures.push({
          model: target.model,
          externalId: change.id,
          error: { code: 'store_failed', message: describe(error) },
        });
      }
    }
    return { counts: total, ids };
  }
}

function describe(error: unknown): string {
  // Drizzle wraps database errors with the statement and its parameters: keep only the cause.
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (root && typeof root === 'object' && 'issues' in root && Array.isArray(root.issues)) {
    return (root.issues as { path: PropertyKey[]; message: string }[])
      .slice(0, 5)
      .map((i) => (i.path.length ? `"${i.path.join('.')}" ${i.message}` : i.message))
      .join('; ');
  }
  return root instanceof Error ? root.message.slice(0, 300) : 'failed';
}
