import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * A provider's declared call limits (ProviderDefinition.limits), kept by every sync call in this
 * process: before a call goes out it takes a place under each limit that covers it, and gives it
 * back when the answer has been read in full.
 *
 *   perConnection: one connection's calls (Notion: about 3 a second)
 *   perTenant:     every call naming the tenant in `header`, from any connection of the same
 *                  integration (Xero: 5 in progress and 60 a minute per organisation)
 *
 * Per key: at most `concurrent` in flight, and at most N starts in any sliding second / minute
 * (with a small margin, so that the provider's fixed windows, which start at the first call it
 * sees, never count more than N of ours). Waiters are served first come, first served; a wait
 * ends early when the run stops. Limits hold within one process: across processes a provider's
 * 429 and Retry-After is still waited out by sync-http.ts.
 */

export interface CallLimit {
  concurrent?: number;
  perSecond?: number;
  perMinute?: number;
}

export interface ProviderLimits {
  perConnection?: CallLimit;
  /** The request header naming the tenant (Xero: xero-tenant-id). */
  perTenant?: CallLimit & { header: string };
}

export class LimitWaitAborted extends Error {}

const MARGIN_MS = { second: 50, minute: 1000 };

interface Gate {
  inFlight: number;
  /** Start times of recent calls, oldest first. */
  starts: number[];
  released: (() => void)[];
  /** The acquirer before the next one (first come, first served). */
  turn: Promise<void>;
}

const gates = new Map<string, Gate>();

function gateOf(key: string): Gate {
  let gate = gates.get(key);
  if (!gate) {
    gate = { inFlight: 0, starts: [], released: [], turn: Promise.resolve() };
    gates.set(key, gate);
  }
  return gate;
}

/** The limits covering one call, with the keys they are counted under. */
export function limitsFor(
  limits: ProviderLimits | undefined,
  call: { integrationKey: string; connectionId: string; headers: Record<string, string> },
): { key: string; limit: CallLimit }[] {
  if (!limits) return [];
  const out: { key: string; limit: CallLimit }[] = [];
  if (limits.perConnection) out.push({ key: `connection:${call.connectionId}`, limit: limits.perConnection });
  if (limits.perTenant) {
    const name = limits.perTenant.header.toLowerCase();
    const tenant = Object.entries(call.headers).find(([h]) => h.toLowerCase() === name)?.[1];
    if (tenant) out.push({ key: `tenant:${call.integrationKey}:${tenant}`, limit: limits.perTenant });
  }
  return out;
}

/** Takes a place under every limit (in order); the function returned gives them all back. */
export async function acquireLimits(
  covering: { key: string; limit: CallLimit }[],
  signal: AbortSignal,
  now: () => number,
): Promise<() => void> {
  const releases: (() => void)[] = [];
  const releaseAll = () => {
    for (const release of releases.splice(0)) release();
  };
  try {
    for (const { key, limit } of covering) releases.push(await acquireOne(gateOf(key), limit, signal, now));
  } catch (error) {
    releaseAll();
    throw error;
  }
  return releaseAll;
}

async function acquireOne(gate: Gate, limit: CallLimit, signal: AbortSignal, now: () => number) {
  const previous = gate.turn;
  let done!: () => void;
  gate.turn = new Promise((resolve) => {
    done = resolve;
  });
  try {
    await previous;
    for (;;) {
      if (signal.aborted) throw new LimitWaitAborted();
      if (limit.concurrent !== undefined && gate.inFlight >= limit.concurrent) {
        await released(gate, signal);
        continue;
      }
      const wait = windowWait(gate, limit, now());
      if (wait <= 0) break;
      try {
        await sleepFor(wait, undefined, { signal });
      } catch {
        throw new LimitWaitAborted();
      }
    }
    gate.inFlight++;
    gate.starts.push(now());
  } finally {
    done();
  }
  let given = false;
  return () => {
    if (given) return;
    given = true;
    gate.inFlight--;
    for (const wake of gate.released.splice(0)) wake();
  };
}

function released(gate: Gate, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new LimitWaitAborted());
    signal.addEventListener('abort', onAbort, { once: true });
    gate.released.push(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** How long until one more call fits in every window (0: now). */
function windowWait(gate: Gate, limit: CallLimit, at: number): number {
  const windows: [number | undefined, number][] = [
    [limit.perSecond, 1000 + MARGIN_MS.second],
    [limit.perMinute, 60_000 + MARGIN_MS.minute],
  ];
  const longest = Math.max(...windows.filter(([n]) => n !== undefined).map(([, ms]) => ms), 0);
  while (gate.starts.length > 0 && gate.starts[0]! <= at - longest) gate.starts.shift();
  let wait = 0;
  for (const [n, ms] of windows) {
    if (n === undefined) continue;
    const inWindow = gate.starts.filter((t) => t > at - ms);
    if (inWindow.length >= n) wait = Math.max(wait, inWindow[inWindow.length - n]! + ms - at);
  }
  return wait;
}
