import type { ProviderRuntime } from './provider.ts';

/**
 * The fetch every provider call goes through. Each call (headers and body both) is aborted after
 * `timeoutMs`, so a provider that hangs costs one timeout, never a stuck worker. Redirects are
 * followed by hand, and only for GET and HEAD, only to http(s) URLs, at most five times, with the
 * Authorization header dropped when the redirect leaves the origin. Anything else (a token
 * endpoint answering 302, a redirect to `file:`) comes back as the 3xx response itself, for the
 * caller to treat as the failure it is. A caller passing `redirect: 'manual'` (the proxy) gets
 * every 3xx back unfollowed.
 */

export interface ProviderRuntimeOptions {
  timeoutMs?: number;
  now?: () => Date;
}

const MAX_REDIRECTS = 5;

export function makeProviderRuntime({
  timeoutMs = 10_000,
  now = () => new Date(),
}: ProviderRuntimeOptions = {}): ProviderRuntime {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TypeError('"timeoutMs" must be a positive number');
  return {
    now,
    async fetch(url, init = {}) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const method = (init.method ?? 'GET').toUpperCase();
      let target = new URL(url);
      let headers = new Headers(init.headers);
      for (let hop = 0; ; hop++) {
        const response = await fetch(target, { ...init, headers, signal, redirect: 'manual' });
        const location = response.headers.get('location');
        const followable =
          init.redirect !== 'manual' &&
          response.status >= 300 &&
          response.status < 400 &&
          location !== null &&
          (method === 'GET' || method === 'HEAD') &&
          hop < MAX_REDIRECTS;
        if (!followable) return response;
        const next = new URL(location, target);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') return response;
        await response.body?.cancel();
        if (next.origin !== target.origin) {
          headers = new Headers(headers);
          headers.delete('authorization');
        }
        target = next;
      }
    },
  };
}
