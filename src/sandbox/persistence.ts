import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DatasetOperation, replayDatasetOperations } from './datasets/operations.ts';
import type { SandboxClient } from './oauth/clients.ts';
import type { AuthorizationCode } from './oauth/codes.ts';
import type { GrantDump } from './oauth/grants.ts';
import type { SlackWebhook } from './providers/slack-webhook-store.ts';
import type { ProviderSettings, SandboxProvider } from './settings.ts';
import type { SandboxState } from './state.ts';
import type { SandboxWebhookSecrets } from './webhooks/index.ts';

/**
 * The sandbox's memory kept in one JSON file of the data dir, so a restart keeps what a provider
 * would: grants and the tokens issued from them, codes, registered clients, settings, Slack
 * webhooks, the clock's offset and the operations that made the datasets (replayed on load,
 * never the generated data). Faults, rate limits and call counts are a test's set-up and start
 * empty.
 *
 * Written whole, atomically (temporary file, then rename): a crash at any point leaves the last
 * complete snapshot or the one before it, never half of one. Writes are debounced after changes,
 * and skipped when nothing changed; close() writes what is pending.
 */

export const SNAPSHOT_VERSION = 1;

export interface SandboxSnapshot {
  version: typeof SNAPSHOT_VERSION;
  seed: string;
  clockOffsetMs: number;
  clients: SandboxClient[];
  codes: AuthorizationCode[];
  grants: GrantDump;
  settings: Record<SandboxProvider, ProviderSettings>;
  slackWebhooks: SlackWebhook[];
  datasets: readonly DatasetOperation[];
  /** The standalone sandbox's default webhook secrets (tether's own are in its database). */
  webhookSecrets?: SandboxWebhookSecrets;
}

export function snapshotOf(state: SandboxState, webhookSecrets?: SandboxWebhookSecrets): SandboxSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    seed: state.seed,
    clockOffsetMs: state.clock.offsetMs(),
    clients: state.clients.list(),
    codes: state.codes.list(),
    grants: state.grants.dump(),
    settings: state.settings,
    slackWebhooks: state.slackWebhooks.list(),
    datasets: state.datasets.operations(),
    ...(webhookSecrets ? { webhookSecrets } : {}),
  };
}

/** Puts a snapshot back into a fresh state made with the same seed. */
export function restoreSnapshot(state: SandboxState, snapshot: SandboxSnapshot): void {
  if (snapshot.seed !== state.seed) {
    throw new Error(`the sandbox snapshot was made with seed "${snapshot.seed}", not "${state.seed}"`);
  }
  state.reset();
  if (snapshot.clockOffsetMs > 0) state.clock.advance(snapshot.clockOffsetMs);
  for (const client of snapshot.clients) state.clients.register(client);
  state.codes.load(snapshot.codes);
  state.grants.load(snapshot.grants);
  for (const [provider, settings] of Object.entries(snapshot.settings)) {
    if (provider in state.settings) Object.assign(state.settings[provider as SandboxProvider], settings);
  }
  state.slackWebhooks.load(snapshot.slackWebhooks);
  replayDatasetOperations(state, snapshot.datasets);
}

/** The snapshot in `file`; undefined when there is none yet. A file tether cannot read is an error. */
export function readSnapshot(file: string): SandboxSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  let snapshot: SandboxSnapshot;
  try {
    snapshot = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`the sandbox state in ${file} is not JSON (${(error as Error).message}); move it away`);
  }
  if (snapshot?.version !== SNAPSHOT_VERSION) {
    throw new Error(`the sandbox state in ${file} has version ${snapshot?.version}, not ${SNAPSHOT_VERSION}`);
  }
  return snapshot;
}

export interface SnapshotWriter {
  /** Something may have changed: write within the debounce. */
  changed(): void;
  /** Writes now if anything changed since the last write. */
  flush(): void;
  /** Flushes and stops the timer. */
  close(): void;
}

export function makeSnapshotWriter(
  state: SandboxState,
  file: string,
  options: {
    debounceMs?: number;
    webhookSecrets?: SandboxWebhookSecrets;
    /** A write that failed in the background (a full disk); the next change tries again. */
    onError?: (error: unknown) => void;
  } = {},
): SnapshotWriter {
  const debounceMs = options.debounceMs ?? 200;
  mkdirSync(dirname(file), { recursive: true });
  let last = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const text = JSON.stringify(snapshotOf(state, options.webhookSecrets));
    if (text === last) return;
    const temporary = `${file}.${process.pid}.tmp`;
    // 0600: the file holds the sandbox's tokens and, alone, its webhook secrets.
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, file);
    last = text;
  };
  const flushInBackground = () => {
    try {
      flush();
    } catch (error) {
      (options.onError ?? ((e) => console.error('tether: could not save the sandbox state:', e)))(error);
    }
  };
  return {
    changed() {
      timer ??= setTimeout(flushInBackground, debounceMs);
      timer.unref();
    },
    flush,
    close: flush,
  };
}
