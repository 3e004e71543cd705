import type { SandboxState } from '../state.ts';
import {
  DATASET_KINDS,
  type DatasetChanges,
  type DatasetKind,
  type DatasetSizing,
  type DatasetSummary,
} from './kinds.ts';

/**
 * A sizing or a change of a dataset, as the control API was asked for it and at the sandbox time
 * it happened. Datasets are pure functions of these (a generator from a seed, changes from their
 * seeds at their times), so the sandbox keeps the list of operations, not the data: replaying it
 * rebuilds every dataset exactly, which is how a restart gets them back from the data dir.
 */
export type DatasetOperation =
  | { op: 'size'; provider: string; model: string; at: number; input: DatasetSizing }
  | { op: 'change'; provider: string; model: string; at: number; input: DatasetChanges };

export function findDatasetKind(provider: string, model: string): DatasetKind | undefined {
  return DATASET_KINDS.find((k) => k.provider === provider && k.model === model);
}

/** Applies one operation with the sandbox clock standing at its time; undefined: no such account or dataset. */
export function applyDatasetOperation(
  state: SandboxState,
  kind: DatasetKind,
  operation: DatasetOperation,
): DatasetSummary | undefined {
  const at = { ...state.clock, now: () => operation.at };
  const stateThen: SandboxState = { ...state, clock: at };
  return operation.op === 'size'
    ? kind.size(stateThen, operation.input)
    : kind.change(stateThen, operation.input);
}

/** Replays operations in order (a restart); those of kinds no longer known are skipped. */
export function replayDatasetOperations(state: SandboxState, operations: readonly DatasetOperation[]): void {
  for (const operation of operations) {
    const kind = findDatasetKind(operation.provider, operation.model);
    if (kind && applyDatasetOperation(state, kind, operation)) state.datasets.record(operation);
  }
}
