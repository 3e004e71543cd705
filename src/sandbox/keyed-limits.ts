// A provider's own limits per tenant or per token, always on (unlike the control API's rate limit
// rules, which tests add): Xero's 60 calls a minute and 5 in progress at once per tenant, Notion's
// burst allowance around 3 requests a second. A route names its limit in its config (`limit`);
// the fault hook admits each call before anything else delays it, holds it in flight until the
// answer is sent, and answers the provider's own 429 when a limit is exhausted. The highest
// number of calls in progress per key (an arriving one included) is kept, so a test can assert
// that a client never went past it.

export interface KeyedLimit {
  /** What the limit is per: 'xero:<tenant id>', 'notion:<grant id>'. */
  key: string;
  /** At most `limit` calls per fixed window of `ms` (the window starts at its first call). */
  window?: { limit: number; ms: number; problem: string };
  /** At most this many calls in flight. */
  concurrent?: number;
}

export type Admission =
  | { ok: true; release: () => void }
  | { ok: false; problem: string; limit: number; retryAfterSec: number; resetAt: number };

export interface KeyedLimitStore {
  admit(limit: KeyedLimit, now: number): Admission;
  /** The most calls in progress at once for this key, counting each arriving call (refused too). */
  peak(key: string): number;
  /** Calls answered 429 by these limits for this key. */
  refused(key: string): number;
  clear(): void;
}

interface Slot {
  windowStart: number;
  used: number;
  inFlight: number;
  peak: number;
  refused: number;
}

export function makeKeyedLimitStore(): KeyedLimitStore {
  const slots = new Map<string, Slot>();
  const slotOf = (key: string) => {
    let slot = slots.get(key);
    if (!slot) {
      slot = { windowStart: Number.NaN, used: 0, inFlight: 0, peak: 0, refused: 0 };
      slots.set(key, slot);
    }
    return slot;
  };
  return {
    admit(limit, now) {
      const slot = slotOf(limit.key);
      // The peak counts every call that arrived, refused or not: a client that sends a 6th call
      // while 5 are in progress has gone past the limit even though the 6th is turned away.
      slot.peak = Math.max(slot.peak, slot.inFlight + 1);
      if (limit.concurrent !== undefined && slot.inFlight >= limit.concurrent) {
        slot.refused++;
        return {
          ok: false,
          problem: 'concurrent',
          limit: limit.concurrent,
          retryAfterSec: 1,
          resetAt: now + 1000,
        };
      }
      if (limit.window) {
        const { ms } = limit.window;
        if (!(now < slot.windowStart + ms)) {
          slot.windowStart = now;
          slot.used = 0;
        }
        if (slot.used >= limit.window.limit) {
          slot.refused++;
          const resetAt = slot.windowStart + ms;
          return {
            ok: false,
            problem: limit.window.problem,
            limit: limit.window.limit,
            retryAfterSec: Math.max(1, Math.ceil((resetAt - now) / 1000)),
            resetAt,
          };
        }
        slot.used++;
      }
      slot.inFlight++;
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          slot.inFlight--;
        },
      };
    },
    peak: (key) => slots.get(key)?.peak ?? 0,
    refused: (key) => slots.get(key)?.refused ?? 0,
    clear: () => slots.clear(),
  };
}
