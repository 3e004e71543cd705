import { createRemoteJWKSet } from 'jose';

// One remote key set per JWKS URL, shared by every verifier that uses it. jose's remote set
// does the rest: it fetches on first use (concurrent callers share one request), keeps the
// keys for cacheMaxAge, refetches when a token names an unknown kid (Google rotates keys) but
// at most once per cooldown, and gives up on a fetch after timeoutMs.

export type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

export interface JwksCacheOptions {
  timeoutMs?: number;
  cacheMaxAgeMs?: number;
  cooldownMs?: number;
}

export interface JwksCache {
  get(url: string): RemoteJwks;
}

export function makeJwksCache(options: JwksCacheOptions = {}): JwksCache {
  const sets = new Map<string, RemoteJwks>();
  return {
    get(url) {
      let set = sets.get(url);
      if (!set) {
        set = createRemoteJWKSet(new URL(url), {
          timeoutDuration: options.timeoutMs ?? 5000,
          cacheMaxAge: options.cacheMaxAgeMs ?? 3600_000,
          cooldownDuration: options.cooldownMs ?? 30_000,
        });
        sets.set(url, set);
      }
      return set;
    },
  };
}
