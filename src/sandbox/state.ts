import type { Socket } from 'node:net';
import { type CallLog, makeCallLog } from './calls.ts';
import { makeSandboxClock, type SandboxClock } from './clock.ts';
import { type DatasetStore, makeDatasetStore } from './datasets/store.ts';
import { type FaultStore, makeFaultStore } from './faults.ts';
import { type KeyedLimitStore, makeKeyedLimitStore } from './keyed-limits.ts';
import { type ClientRegistry, makeClientRegistry } from './oauth/clients.ts';
import { type CodeStore, makeCodeStore } from './oauth/codes.ts';
import { type GrantStore, makeGrantStore } from './oauth/grants.ts';
import { makeSlackWebhookStore, type SlackWebhookStore } from './providers/slack-webhook-store.ts';
import { makeRateLimitStore, type RateLimitStore } from './rate-limits.ts';
import { makeSeededAccounts, type SeededAccounts } from './seed.ts';
import { DEFAULT_SETTINGS, type ProviderSettings, type SandboxProvider } from './settings.ts';

// Everything the sandbox remembers, in memory. One state backs one mounted sandbox; tests make
// their own. reset() returns it to the freshly-seeded state (accounts keep their seeded ids).

export interface SandboxState {
  readonly seed: string;
  readonly clock: SandboxClock;
  readonly calls: CallLog;
  readonly faults: FaultStore;
  readonly rateLimits: RateLimitStore;
  /** The providers' own per-tenant / per-token limits (Xero, Notion): counters and peaks. */
  readonly keyedLimits: KeyedLimitStore;
  readonly accounts: SeededAccounts;
  readonly clients: ClientRegistry;
  readonly codes: CodeStore;
  readonly grants: GrantStore;
  readonly settings: Record<SandboxProvider, ProviderSettings>;
  readonly slackWebhooks: SlackWebhookStore;
  /** Generated provider data (Gmail mailboxes), sized through the control API. */
  readonly datasets: DatasetStore;
  /** Connections held open by a 'hang' fault; destroyed on reset and close. */
  readonly hung: Set<Socket>;
  reset(): void;
}

export interface SandboxStateOptions {
  /** Same seed → same account ids. Default 'tether-sandbox'. */
  seed?: string;
}

export function makeSandboxState(options: SandboxStateOptions = {}): SandboxState {
  const seed = options.seed ?? 'tether-sandbox';
  const state: SandboxState = {
    seed,
    clock: makeSandboxClock(),
    calls: makeCallLog(),
    faults: makeFaultStore(seed),
    rateLimits: makeRateLimitStore(),
    keyedLimits: makeKeyedLimitStore(),
    accounts: makeSeededAccounts(seed),
    clients: makeClientRegistry(),
    codes: makeCodeStore(),
    grants: makeGrantStore(),
    settings: defaultSettings(),
    slackWebhooks: makeSlackWebhookStore(),
    datasets: makeDatasetStore(),
    hung: new Set(),
    reset() {
      state.clock.reset();
      state.calls.reset();
      state.faults.clear();
      state.rateLimits.clear();
      state.keyedLimits.clear();
      state.clients.reset();
      state.codes.clear();
      state.grants.clear();
      Object.assign(state.settings, defaultSettings());
      state.slackWebhooks.clear();
      state.datasets.clear();
      releaseHung(state);
    },
  };
  return state;
}

export function releaseHung(state: SandboxState): void {
  for (const socket of state.hung) socket.destroy();
  state.hung.clear();
}

function defaultSettings(): Record<SandboxProvider, ProviderSettings> {
  return structuredClone(DEFAULT_SETTINGS);
}
