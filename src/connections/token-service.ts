import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type ConnectionRow, connections, type IntegrationRow, integrations } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { integrationContext } from '../integrations/integration-store.ts';
import type { Logger } from '../logger.ts';
import { getProvider } from '../providers/index.ts';
import {
  type IntegrationOptions,
  type OAuthProviderName,
  type ProviderDefinition,
  ProviderError,
  type ProviderRuntime,
  type TokenSet,
} from '../providers/provider.ts';
import {
  type Credentials,
  connectionContext,
  openCredentials,
  openPreviousRefreshToken,
} from './credentials.ts';
import { markGrantLost } from './grant-lost.ts';
import { heldBy, releaseLease, tryAcquireLease } from './refresh-lease.ts';
import { backoffMs, canRenew, isUsable, secondsUntilRefreshAllowed, wantsRefresh } from './refresh-policy.ts';
import { writeRefreshed, writeRefreshFailure } from './refresh-writes.ts';

/**
 * Fresh access tokens, with one refresh at a time per connection across all
 * processes.
 *
 * A caller gets the stored token when it is valid for the margin. Otherwise
 * callers in one process share one promise, and processes share the lease
 * in refresh-lease.ts: the holder re-reads the row (someone may just have
 * refreshed), calls the provider, and seals and commits the new credentials
 * (rotated refresh token included) before anyone is handed the new access
 * token. Waiters poll the row until the credentials version moves or the
 * holder records a failure.
 *
 * Failures: permanent → reauthorization_required, credentials wiped;
 * transient → degraded with backoff, the old token still handed out while it
 * works; configuration → the integration's lastError. While a backoff runs
 * (next_attempt_at in the future) nobody calls the provider: a caller
 * hammering a broken connection gets 503 + Retry-After, not a refresh storm.
 *
 * Every write that ends a refresh (success, passing failure, lost grant) is
 * conditional on still holding the lease. A holder whose lease ran out
 * during the provider call (a hung call, Xero's second try with the previous
 * token) writes nothing: it re-reads the row and answers what the new holder
 * stored.
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
}

export interface FreshToken {
  accessToken: string;
  expiresAt: Date | null;
}

/**
 * What a refresh came to. Not refreshed (a backoff, a provider that refuses this early, no way to
 * renew): the stored token still works, and `why` is the answer for whoever asked for a refresh.
 * When the stored token does not work either, the refresh throws instead.
 */
export type RefreshOutcome =
  | { refreshed: true; token: FreshToken }
  | { refreshed: false; token: FreshToken; why: AppError };

interface Loaded {
  row: ConnectionRow;
  integration: IntegrationRow;
  provider: ProviderDefinition;
  options: IntegrationOptions;
}

export type TokenService = ReturnType<typeof makeTokenService>;

export function makeTokenService(deps: TokenServiceDeps) {
  const { db, sealer, runtime } = deps;
  const leaseMs = deps.leaseMs ?? 30_000;
  const waitMs = deps.waitMs ?? 20_000;
  const owner = `${process.pid}:${randomUUID()}`;
  const inflight = new Map<string, Promise<RefreshOutcome>>();

  async function load(id: string): Promise<Loaded> {
    const [found] = await db
      .select({ row: connections, integration: integrations })
      .from(connections)
      .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
      .where(eq(connections.id, id));
    if (!found) throw new AppError('not_found', `No connection with id "${id}".`);
    const provider = getProvider(found.integration.provider as OAuthProviderName);
    return { ...found, provider, options: found.integration.options as IntegrationOptions };
  }

  function assertLive({ row, provider }: Loaded): void {
    if (row.status === 'disconnected') {
      throw new AppError(
        'not_connected',
        `This ${provider.displayName} connection was disconnected; connect the account again.`,
      );
    }
    if (row.status === 'reauthorization_required') {
      const why = row.lastError ? ` (${row.lastError.code})` : '';
      throw new AppError(
        'reauthorization_required',
        `${provider.displayName} no longer accepts this connection's grant${why}; the end user must reconnect.`,
      );
    }
  }

  function tokenOf(row: ConnectionRow): FreshToken {
    const credentials = openCredentials(sealer, row);
    if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
    return { accessToken: credentials.accessToken, expiresAt: row.expiresAt };
  }

  /** The stored token as the outcome: refreshed by someone else meanwhile, or not needed at all. */
  function settled(loaded: Loaded): RefreshOutcome {
    return { refreshed: true, token: tokenOf(loaded.row) };
  }

  /** Not refreshed, for `why`: the stored token if it still works, else `why` is thrown. */
  function notRefreshed(loaded: Loaded, why: AppError): RefreshOutcome {
    if (!isUsable(loaded.row, runtime.now())) throw why;
    return { refreshed: false, token: tokenOf(loaded.row), why };
  }

  /** The answer while a backoff runs: the old token if it still works, else 503 with Retry-After. */
  function duringBackoff(loaded: Loaded): RefreshOutcome {
    const now = runtime.now();
    const retryAfterSeconds = Math.max(
      1,
      Math.ceil(((loaded.row.nextAttemptAt?.getTime() ?? now.getTime()) - now.getTime()) / 1000),
    );
    return notRefreshed(
      loaded,
      new AppError(
        loaded.row.lastError?.code === 'integration_misconfigured'
          ? 'integration_misconfigured'
          : 'refresh_failed_transient',
        `Refreshing the ${loaded.provider.displayName} token failed recently (${loaded.row.lastError?.message ?? 'unknown error'}); tether retries after a pause.`,
        { retryAfterSeconds },
      ),
    );
  }

  /** Whether the loaded row still needs this refresh; staleVersion set for forced refreshes. */
  function needsRefresh(loaded: Loaded, staleVersion: number | undefined): boolean {
    if (staleVersion !== undefined) return loaded.row.credentialsVersion === staleVersion;
    const now = runtime.now();
    return wantsRefresh(loaded.provider, loaded.row, loaded.options, now) || !isUsable(loaded.row, now);
  }

  function inBackoff(row: ConnectionRow): boolean {
    return row.nextAttemptAt !== null && row.nextAttemptAt.getTime() > runtime.now().getTime();
  }

  /** A usable access token, refreshed first when needed (or when forced). */
  async function getAccessToken(id: string, options: { force?: boolean } = {}): Promise<FreshToken> {
    const loaded = await load(id);
    assertLive(loaded);
    if (!options.force && !needsRefresh(loaded, undefined)) return tokenOf(loaded.row);
    return (await refreshShared(id, options.force ? loaded.row.credentialsVersion : undefined)).token;
  }

  /** POST /v1/connections/:id/refresh: a refresh now, or the reason there was none. */
  async function refreshNow(id: string): Promise<FreshToken> {
    const loaded = await load(id);
    assertLive(loaded);
    const outcome = await refreshShared(id, loaded.row.credentialsVersion);
    if (!outcome.refreshed) throw outcome.why;
    return outcome.token;
  }

  /**
   * The provider's API rejected `accessToken` (the proxy's 401): a refresh, one more try, or,
   * for a connection with no way to renew, the grant is gone.
   */
  async function replaceRejectedToken(id: string, accessToken: string): Promise<FreshToken> {
    const loaded = await load(id);
    assertLive(loaded);
    const credentials = openCredentials(sealer, loaded.row);
    if (credentials?.accessToken !== accessToken) return tokenOf(loaded.row); // replaced meanwhile
    if (canRenew(loaded.provider, credentials.refreshToken)) return getAccessToken(id, { force: true });
    const lost = await markGrantLost(
      db,
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

  function refreshShared(id: string, staleVersion: number | undefined): Promise<RefreshOutcome> {
    const running = inflight.get(id);
    if (running) return running;
    const refresh = refreshAcrossProcesses(id, staleVersion).finally(() => inflight.delete(id));
    inflight.set(id, refresh);
    return refresh;
  }

  async function refreshAcrossProcesses(
    id: string,
    staleVersion: number | undefined,
  ): Promise<RefreshOutcome> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const leased = await tryAcquireLease(db, id, owner, leaseMs);
      const loaded = await load(id);
      if (leased) return refreshHolding({ ...loaded, row: leased }, staleVersion);
      assertLive(loaded);
      if (!needsRefresh(loaded, staleVersion)) return settled(loaded);
      if (inBackoff(loaded.row)) return duringBackoff(loaded);
      if (Date.now() > deadline) {
        throw new AppError(
          'refresh_failed_transient',
          'Another refresh of this connection is taking too long; try again.',
          { retryAfterSeconds: 1 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
    }
  }

  async function refreshHolding(loaded: Loaded, staleVersion: number | undefined): Promise<RefreshOutcome> {
    const { row, provider } = loaded;
    const now = runtime.now();
    let released = false;
    try {
      assertLive(loaded);
      if (!needsRefresh(loaded, staleVersion)) return settled(loaded);
      if (inBackoff(row)) return duringBackoff(loaded);
      const credentials = openCredentials(sealer, row);
      if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
      if (!canRenew(provider, credentials.refreshToken)) {
        // Nothing to refresh with (Slack without rotation, legacy Notion, Google without consent):
        // the token is kept while it works; once it has expired the grant is gone.
        if (isUsable(row, now)) {
          return notRefreshed(
            loaded,
            new AppError(
              'refresh_not_supported',
              `This ${provider.displayName} connection holds no refresh token; its access token is used until it stops working.`,
            ),
          );
        }
        released = true;
        return await grantLost(
          loaded,
          'no_refresh_token',
          'The access token expired and the provider gave no refresh token.',
        );
      }
      const ctx = integrationContext(sealer, loaded.integration);
      let tokens: TokenSet;
      try {
        tokens = await provider.refreshAccessToken(ctx, runtime, connectionContext(row, credentials));
      } catch (error) {
        const retried = await retryWithPreviousToken(loaded, credentials, error);
        if (!retried) {
          released = true;
          return await recordFailure(loaded, error);
        }
        tokens = retried;
      }
      released = true;
      return await commitRefresh(loaded, credentials, tokens);
    } finally {
      if (!released) await releaseLease(db, row.id, owner);
    }
  }

  function tooEarly(loaded: Loaded, retryAfterSeconds: number): RefreshOutcome {
    return notRefreshed(
      loaded,
      new AppError(
        'refresh_too_early',
        `${loaded.provider.displayName} does not refresh a token this young; tether refreshes it in time by itself.`,
        { retryAfterSeconds },
      ),
    );
  }

  /** Xero's lost-response case: within the grace after a rotation the previous refresh token still works. */
  async function retryWithPreviousToken(
    loaded: Loaded,
    credentials: Credentials,
    error: unknown,
  ): Promise<TokenSet | null> {
    const grace = loaded.provider.refresh.previousTokenGraceSeconds;
    const rotatedAt = loaded.row.refreshTokenRotatedAt;
    if (!(error instanceof ProviderError) || error.kind !== 'permanent' || !grace || !rotatedAt) return null;
    if (runtime.now().getTime() - rotatedAt.getTime() > grace * 1000) return null;
    const previous = openPreviousRefreshToken(sealer, loaded.row);
    if (!previous) return null;
    try {
      const ctx = integrationContext(sealer, loaded.integration);
      return await loaded.provider.refreshAccessToken(ctx, runtime, {
        ...connectionContext(loaded.row, credentials),
        refreshToken: previous,
      });
    } catch {
      return null;
    }
  }

  /** The lease ran out while the provider answered and someone else took over: theirs stands. */
  async function afterLeaseLost(loaded: Loaded): Promise<RefreshOutcome> {
    deps.logger.warn(
      { connectionId: loaded.row.id },
      'refresh lease lost before the outcome was written; keeping what the new holder stored',
    );
    const current = await load(loaded.row.id);
    assertLive(current);
    return inBackoff(current.row) ? duringBackoff(current) : settled(current);
  }

  async function grantLost(loaded: Loaded, reason: string, message: string): Promise<RefreshOutcome> {
    const { row, provider } = loaded;
    const input = { connectionId: row.id, provider: provider.name, displayName: provider.displayName };
    const lost = await markGrantLost(
      db,
      { ...input, reason, message, now: runtime.now() },
      heldBy(row.id, owner),
    );
    if (lost) throw lost;
    return afterLeaseLost(loaded);
  }

  async function commitRefresh(loaded: Loaded, old: Credentials, tokens: TokenSet): Promise<RefreshOutcome> {
    const written = await writeRefreshed(db, sealer, {
      row: loaded.row,
      owner,
      provider: loaded.provider,
      now: runtime.now(),
      old,
      tokens,
    });
    if (!written) return afterLeaseLost(loaded);
    return {
      refreshed: true,
      token: { accessToken: written.credentials.accessToken, expiresAt: written.expiresAt },
    };
  }

  async function recordFailure(loaded: Loaded, error: unknown): Promise<RefreshOutcome> {
    const { row, provider } = loaded;
    const now = runtime.now();
    const failure =
      error instanceof ProviderError
        ? error
        : new ProviderError('transient', provider.name, 'the refresh failed unexpectedly', { cause: error });
    const code = failure.providerCode ?? failure.kind;

    if (failure.kind === 'permanent') return grantLost(loaded, code, failure.message);

    if (failure.kind === 'refused') {
      await releaseLease(db, row.id, owner);
      // The provider's own clock decides (Instagram: 24 hours); ours only estimates the wait.
      if (isUsable(row, now))
        return tooEarly(loaded, Math.max(60, secondsUntilRefreshAllowed(provider, row, now)));
      throw new AppError(
        'refresh_failed_transient',
        `${provider.displayName} refused the refresh: ${failure.message}`,
        { retryAfterSeconds: 60 },
      );
    }

    const misconfigured = failure.kind === 'configuration';
    const failures = row.failureCount + 1;
    const waitMsNext = Math.max(backoffMs(failures), (failure.retryAfterSeconds ?? 0) * 1000);
    const nextAttemptAt = new Date(now.getTime() + waitMsNext);
    const lastError = {
      code: misconfigured ? 'integration_misconfigured' : code,
      message: failure.message,
      at: now.toISOString(),
    };
    const written = await writeRefreshFailure(db, {
      row,
      owner,
      provider,
      now,
      integration: loaded.integration,
      lastError,
      providerCode: code,
      nextAttemptAt,
      misconfigured,
    });
    if (!written) return afterLeaseLost(loaded);
    deps.logger.warn(
      { connectionId: row.id, provider: provider.name, kind: failure.kind, code, failures },
      'token refresh failed',
    );
    return duringBackoff({ ...loaded, row: { ...row, nextAttemptAt, lastError } });
  }

  return { getAccessToken, refreshNow, replaceRejectedToken, load };
}
