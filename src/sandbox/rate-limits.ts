import { endpointMatches } from './route-config.ts';
import { makeRuleList } from './rule-list.ts';

// Fixed-window rate limits on the sandbox clock: at most `limit` calls to the covered endpoints
// per `windowSec`; the call after that gets the provider's own 429 with Retry-After set to the
// seconds left in the window. Advancing the sandbox clock past the window lifts the limit.

export interface RateLimitInput {
  endpoint: string;
  limit: number;
  windowSec: number;
  /** Which limit was hit, for providers that say so (Xero's X-Rate-Limit-Problem: minute, day, ...). */
  problem?: string;
}

export interface RateLimitRule extends RateLimitInput {
  id: string;
  windowStart: number;
  used: number;
}

export interface RateLimitHit {
  rule: RateLimitRule;
  retryAfterSec: number;
  /** Sandbox clock time the window ends (ms since epoch). */
  resetAt: number;
}

export interface RateLimitStore {
  add(input: RateLimitInput): RateLimitRule;
  list(): RateLimitRule[];
  remove(id: string): boolean;
  clear(): void;
  /** Counts one call against every covering rule; returns the hit if any rule is exhausted. */
  hit(endpoint: string, now: number): RateLimitHit | null;
}

export function makeRateLimitStore(): RateLimitStore {
  const rules = makeRuleList<RateLimitInput, RateLimitRule>('rl', (input, id) => ({
    ...input,
    id,
    windowStart: Number.NaN,
    used: 0,
  }));
  return {
    add: rules.add,
    list: rules.list,
    remove: rules.remove,
    clear: rules.clear,
    hit(endpoint, now) {
      let worst: RateLimitHit | null = null;
      for (const rule of rules.live()) {
        if (!endpointMatches(rule.endpoint, endpoint)) continue;
        const windowMs = rule.windowSec * 1000;
        if (!(now < rule.windowStart + windowMs)) {
          rule.windowStart = now;
          rule.used = 0;
        }
        rule.used += 1;
        if (rule.used <= rule.limit) continue;
        const retryAfterSec = Math.max(1, Math.ceil((rule.windowStart + windowMs - now) / 1000));
        if (!worst || retryAfterSec > worst.retryAfterSec)
          worst = { rule, retryAfterSec, resetAt: rule.windowStart + windowMs };
      }
      return worst;
    },
  };
}
