import type { RecordError } from './record-errors.ts';

/**
 * What a provider module declares for each of its syncs: typed data plus functions. The engine
 * (runner.ts) knows nothing of any provider; it calls these.
 *
 * run() pages through the provider from the checkpoint it is given (null: never ran, or reset)
 * and yields one page at a time: the items, and the checkpoint to save with them. The runner
 * commits both in one transaction before asking for the next page, so a crash resumes from the
 * last committed page, and memory holds one page.
 */

export interface SyncContext {
  connectionId: string;
  /** The connection's non-secret facts (email, tenants, base URI). */
  metadata: Record<string, unknown>;
  /**
   * Calls the provider as the connection, `path` relative to its API base (or an absolute URL):
   * a fresh token from the token service (401 → one forced refresh), 429 and Retry-After waited
   * out, 5xx retried a few times. Other answers (404, 410, …) come back for the sync to read.
   */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Waits (bounded by the run's deadline and shutdown). */
  sleep(ms: number): Promise<void>;
}

/** One record as the provider gave it, its deletion, or why it could not be fetched. */
export type SyncItem =
  | { kind: 'record'; model: string; id: string; raw: unknown }
  | { kind: 'deleted'; model: string; id: string; version?: string | number | null }
  | { kind: 'failed'; model: string; id: string; error: RecordError };

export interface SyncPage<C> {
  items: SyncItem[];
  checkpoint: C;
  /**
   * Set on every page of a full pass: records the pass saw are marked with its id; on the page
   * that completes it (`complete: true`), every live record of `models` the pass did not see
   * becomes a tombstone (unless the run has failed records: a partial run deletes nothing).
   */
  fullPass?: { id: string; models: readonly string[]; complete: boolean };
}

export interface ModelDefinition {
  name: string;
  /** The stored form of a raw record and its provider version; throws on a malformed one. */
  map(raw: unknown): { data: Record<string, unknown>; version?: string | number | null };
}

export interface SyncDefinition<C = unknown> {
  name: string;
  models: readonly ModelDefinition[];
  /** How often the schedule runs it by default. */
  defaultFrequencyMinutes: number;
  /** Offered when the connection's integration has one of these scopes (empty: always). */
  scopes: readonly string[];
  /** Queues whose jobs (push notifications) ask for a run of this sync, e.g. 'syncs.gmail-mailbox'. */
  pushQueues?: readonly string[];
  run(ctx: SyncContext, checkpoint: C | null): AsyncIterable<SyncPage<C>>;
  /** Fetches records by id again (failed records of an earlier run); an id missing from the answer is gone. */
  refetch(ctx: SyncContext, model: string, ids: readonly string[]): Promise<SyncItem[]>;
}
