// Generated datasets by (provider, model, account): Gmail's mailboxes now, the other providers'
// models later. Each value is the provider's own compact generator (see gmail-mailbox.ts); the
// store only keeps them apart and forgets them on reset.

export interface DatasetStore {
  get<T>(provider: string, model: string, accountId: string): T | undefined;
  set(provider: string, model: string, accountId: string, dataset: unknown): void;
  clear(): void;
}

export function makeDatasetStore(): DatasetStore {
  const datasets = new Map<string, unknown>();
  const key = (provider: string, model: string, accountId: string) => `${provider}/${model}/${accountId}`;
  return {
    get: <T>(provider: string, model: string, accountId: string) =>
      datasets.get(key(provider, model, accountId)) as T | undefined,
    set(provider, model, accountId, dataset) {
      datasets.set(key(provider, model, accountId), dataset);
    },
    clear: () => datasets.clear(),
  };
}
