import { randomUUID } from 'node:crypto';
import type { Sealer } from '../crypto/seal.ts';
import { AppError } from '../errors.ts';
import { integrationContext } from '../integrations/integration-store.ts';
import type { Logger } from '../logger.ts';
import { ProviderError, type ProviderRuntime, type TokenSet } from '../providers/provider.ts';
import type { ConnectionStore, LoadedConnection } from './connection-store.ts';
import {
  type Credentials,
  connectionContext,
  openCredentials,
  openPreviousRefreshToken,
} from './credentials.ts';
import { heldBy, releaseLease, tryAcquireLease } from './refresh-lease.ts';
import { backoffMs, canRenew, isUsable, secondsUntilRefreshAllowed } from './refresh-policy.ts';
import type { RefreshOutcome, TokenAnswers } from './token-answers.ts';

/**
 * One refresh at a time per connection, across all processes.
 *
 * Callers in one process share one promise, and processes share the lease
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
export interface RefreshFlightDeps {
  store: ConnectionStore;
  sealer: Sealer;
  logger: Logger;
  runtime: ProviderRuntime;
  answers: TokenAnswers;
  leaseMs: number;
  waitMs: number;
}

export function makeRefreshFlight(deps: RefreshFlightDeps) {
  const { store, sealer, runtime, answers } = deps;
  const { assertLive, settled, notRefreshed, duringBackoff, tooEarly, needsRefresh, inBackoff } = answers;
  const db = store.db;
  const owner = `${process.pid}:${randomUUID()}`;
  const inflight = new Map<string, Promise<RefreshOutcome>>();

  /** The refresh of `id` this process runs or joins; staleVersion set for forced refreshes. */
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
    const deadline = Date.now() + deps.waitMs;
    for (;;) {
      const leased = await tryAcquireLease(db, id, owner, deps.leaseMs);
      const loaded = await store.load(id);
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

  async function refreshHolding(
    loaded: LoadedConnection,
    staleVersion: number | undefined,
  ): Promise<RefreshOutcome> {
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

  /** Xero's lost-response case: within the grace after a rotation the previous refresh token still works. */
  async function retryWithPreviousToken(
    loaded: LoadedConnection,
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
  async function afterLeaseLost(loaded: LoadedConnection): Promise<RefreshOutcome> {
    deps.logger.warn(
      { connectionId: loaded.row.id },
      'refresh lease lost before the outcome was written; keeping what the new holder stored',
    );
    const current = await store.load(loaded.row.id);
    assertLive(current);
    return inBackoff(current.row) ? duringBackoff(current) : settled(current);
  }

  async function grantLost(
    loaded: LoadedConnection,
    reason: string,
    message: string,
  ): Promise<RefreshOutcome> {
    const { row, provider } = loaded;
    const input = { connectionId: row.id, provider: provider.name, displayName: provider.displayName };
    const lost = await store.markGrantLost(
      { ...input, reason, message, now: runtime.now() },
      heldBy(row.id, owner),
    );
    if (lost) throw lost;
    return afterLeaseLost(loaded);
  }

  async function commitRefresh(
    loaded: LoadedConnection,
    old: Credentials,
    tokens: TokenSet,
  ): Promise<RefreshOutcome> {
    const written = await store.writeRefreshed({
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

  async function recordFailure(loaded: LoadedConnection, error: unknown): Promise<RefreshOutcome> {
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
    const written = await store.writeRefreshFailure({
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

  return { refreshShared };
}
