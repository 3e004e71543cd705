/**
 * Counts failed authentications per client address in fixed windows: after
 * `maxFailures` in one window the address is limited until the window ends.
 * Only failures are counted and only failures are refused, so a caller with
 * the right key is never slowed, whatever else comes from its address.
 *
 * Memory is bounded: at most `maxAddresses` entries; a full map first drops
 * the entries whose window is over, then the oldest ones. IPv6 addresses are
 * counted per /64, the block one host usually holds.
 */
export interface AuthFailureLimiter {
  /** Seconds the address must wait before trying again, or 0 when it may try now. */
  retryAfterSeconds(address: string): number;
  /** Counts one failure of the address. */
  recordFailure(address: string): void;
}

export interface AuthFailureLimits {
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
  now?: () => number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = {
  maxFailures: 20,
  windowMs: 60_000,
  maxAddresses: 10_000,
};

interface Window {
  startedAt: number;
  failures: number;
}

export function makeAuthFailureLimiter(limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS) {
  const now = limits.now ?? Date.now;
  const windows = new Map<string, Window>();

  function current(key: string): Window | undefined {
    const window = windows.get(key);
    if (window && now() - window.startedAt >= limits.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }

  function makeRoom(): void {
    const at = now();
    for (const [key, window] of windows) {
      if (at - window.startedAt >= limits.windowMs) windows.delete(key);
    }
    // Still full: drop the oldest (a Map iterates in insertion order).
    for (const key of windows.keys()) {
      if (windows.size < limits.maxAddresses) break;
      windows.delete(key);
    }
  }

  return {
    retryAfterSeconds(address: string): number {
      const window = current(clientKey(address));
      if (!window || window.failures < limits.maxFailures) return 0;
      return Math.max(1, Math.ceil((window.startedAt + limits.windowMs - now()) / 1000));
    },
    recordFailure(address: string): void {
      const key = clientKey(address);
      const window = current(key);
      if (window) {
        window.failures += 1;
        return;
      }
      if (windows.size >= limits.maxAddresses) makeRoom();
      windows.set(key, { startedAt: now(), failures: 1 });
    },
    /** How many addresses are tracked (tests check the bound). */
    size: () => windows.size,
  } satisfies AuthFailureLimiter & { size(): number };
}

/** The address itself, except IPv6 (not IPv4-mapped): its /64 prefix. */
export function clientKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => (Number.parseInt(group, 16) || 0).toString(16))
    .join(':')}::/64`;
}
