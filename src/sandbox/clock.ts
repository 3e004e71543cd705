// The sandbox's notion of "now": real time plus an offset that tests and users move forward
// (never backward) to make tokens, codes and grace windows expire without waiting.

export interface SandboxClock {
  /** Milliseconds since the epoch, as the simulated providers see it. */
  now(): number;
  /** Move the clock forward; returns the new now(). */
  advance(ms: number): number;
  /** How far the clock runs ahead of real time, in milliseconds. */
  offsetMs(): number;
  reset(): void;
}

export function makeSandboxClock(realNow: () => number = Date.now): SandboxClock {
  let offset = 0;
  return {
    now: () => realNow() + offset,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('"ms" must be a finite number ≥ 0');
      offset += ms;
      return realNow() + offset;
    },
    offsetMs: () => offset,
    reset() {
      offset = 0;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
