// Generated datasets by (provider, model, account): Gmail's mailboxes now, the other providers'
// models later. Each value is the provider's own compact generator (see gmail-mailbox.ts); the
// store only keeps them apart and forgets them on reset. It also keeps the operations that made
// them (see operations.ts), which is all the sandbox's snapshot needs to rebuild them.

import type { DatasetOperation } from './operations.ts';

export interface DatasetStore {
  get<T>(provider: string, model: string, accountId: string): T | undefined;
  set(provider: string, model: string, accountId: string, dataset: unknown): void;
  /** Remembers an operation that was applied. */
  record(operation: DatasetOperation): void;
  /** The operations applied since the last clear, oldest first. */
  operations(): readonly DatasetOperation[];
  clear(): void;
}

export function makeDatasetStore(): DatasetStore {
  const datasets = new Map<string, unknown>();
  let operations: DatasetOperation[] = [];
  const key = (provider: string, model: string, accountId: string) => `${provider}/${model}/${accountId}`;
  return {
    get: <T>(provider: string, model: string, accountId: string) =>
      datasets.get(key(provider, model, accountId)) as T | undefined,
    set(provider, model, accountId, dataset) {
      datasets.set(key(provider, model, accountId), dataset);
    },
    record(operation) {
      operations.push(operation);
    },
    operations: () => operations,
    clear() {
      datasets.clear();
      operations = [];
    },
  };
}
