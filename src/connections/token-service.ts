import { eq } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { type ConnectionStore, type LoadedConnection, makeConnectionStore } from './connection-store.ts';
import { openCredentials } from './credentials.ts';
import { makeRefreshFlight } from './refresh-flight.ts';
import { canRenew } from './refresh-policy.ts';
import { type FreshToken, makeTokenAnswers } from './token-answers.ts';

export type { FreshToken, RefreshOutcome } from './token-answers.ts';

/**
 * Fresh access tokens: a caller gets the stored token when it is valid for
 * the margin, otherwise the one a refresh brings (refresh-flight.ts: one at a
 * time per connection across all processes).
 *
 * A fresh token is served from the token cache when this process holds it
 * (token-cache.ts: no database round trip, nothing unsealed), and stored
 * there whenever a read finds one. Refreshes, forced refreshes and the
 * rejected-token path always start from the database row.
 */
export interface TokenServiceDeps {
  db: Db;
  sealer: Sealer;
  logger: Logger;
  runtime: ProviderRuntime;
  /** Longer than the provider timeout, so a live holder never loses it. */
  leaseMs?: number;
  /** How long a caller waits for another process's refresh. */
  waitMs?: number;
  /** The connections and their token cache; absent: a store of its own, without a cache. */
  connections?: ConnectionStore;
}

export type TokenService = ReturnType<typeof makeTokenService>;

export function makeTokenService(deps: TokenServiceDeps) {
  const { sealer, runtime } = deps;
  const store = deps.connections ?? makeConnectionStore(deps);
  const { cache } = store;
  const answers = makeTokenAnswers(sealer, runtime);
  const { assertLive, tokenOf, needsRefresh } = answers;
  const flight = makeRefreshFlight({
    store,
    sealer,
    logger: deps.logger,
    runtime,
    answers,
    leaseMs: deps.leaseMs ?? 30_000,
    waitMs: deps.waitMs ?? 20_000,
  });

  /** The cached connection of `id` when its token is still fresh for the margin. */
  function cached(id: string): { loaded: LoadedConnection; accessToken: string } | undefined {
    const hit = cache.get(id);
    if (!hit || needsRefresh(hit.loaded, undefined)) return undefined;
    return hit;
  }

  /** The fresh token of a row read after `epoch` was taken, kept in the cache for the next caller. */
  function remember(loaded: LoadedConnection, epoch: number): FreshToken {
    const credentials = openCredentials(sealer, loaded.row);
    if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
    const { accessToken } = credentials;
    cache.put(loaded.row.id, { loaded, accessToken, integrationKey: loaded.row.integrationKey }, epoch);
    return { accessToken: credentials.accessToken, expiresAt: loaded.row.expiresAt };
  }

  /** A usable access token, refreshed first when needed (or when forced). */
  async function getAccessToken(id: string, options: { force?: boolean } = {}): Promise<FreshToken> {
    if (!options.force) {
      const hit = cached(id);
      if (hit) return { accessToken: hit.accessToken, expiresAt: hit.loaded.row.expiresAt };
    }
    const epoch = cache.epoch();
    const loaded = await store.load(id);
    assertLive(loaded);
    if (!options.force && !needsRefresh(loaded, undefined)) return remember(loaded, epoch);
    return (await flight.refreshShared(id, options.force ? loaded.row.credentialsVersion : undefined)).token;
  }

  /** POST /v1/connections/:id/refresh: a refresh now, or the reason there was none. */
  async function refreshNow(id: string): Promise<FreshToken> {
    const loaded = await store.load(id);
    assertLive(loaded);
    const outcome = await flight.refreshShared(id, loaded.row.credentialsVersion);
    if (!outcome.refreshed) throw outcome.why;
    return outcome.token;
  }

  /**
   * The provider's API rejected `accessToken` (the proxy's 401): a refresh, one more try, or,
   * for a connection with no way to renew, the grant is gone.
   */
  async function replaceRejectedToken(id: string, accessToken: string): Promise<FreshToken> {
    const loaded = await store.load(id);
    assertLive(loaded);
    const credentials = openCredentials(sealer, loaded.row);
    if (credentials?.accessToken !== accessToken) return tokenOf(loaded.row); // replaced meanwhile
    if (canRenew(loaded.provider, credentials.refreshToken)) return getAccessToken(id, { force: true });
    const lost = await store.markGrantLost(
      {
        connectionId: id,
        provider: loaded.provider.name,
        displayName: loaded.provider.displayName,
        reason: 'access_token_rejected',
        message: `${loaded.provider.displayName} rejected the access token, and the connection has no refresh token to get another.`,
        now: runtime.now(),
      },
      eq(connections.credentialsVersion, loaded.row.credentialsVersion),
    );
    if (lost) throw lost;
    return getAccessToken(id); // someone stored new credentials meanwhile
  }

  return { getAccessToken, refreshNow, replaceRejectedToken, cached, load: store.load };
}
