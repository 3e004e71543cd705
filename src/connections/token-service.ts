import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type ConnectionRow, connections, type IntegrationRow, integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
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
  sealCredentials,
} from './credentials.ts';
import { markGrantLost } from './grant-lost.ts';
import { heldBy, releaseLease, tryAcquireLease } from './refresh-lease.ts';
import { backoffMs, isUsable, wantsRefresh } from './refresh-policy.ts';

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
  const inflight = new Map<string, Promise<FreshToken>>();

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

  /** The answer while a backoff runs: the old token if it still works, else 503 with Retry-After. */
  function duringBackoff(loaded: Loaded): FreshToken {
    const now = runtime.now();
    if (isUsable(loaded.row, now)) return tokenOf(loaded.row);
    const retryAfterSeconds = Math.max(
      1,
      Math.ceil(((loaded.row.nextAttemptAt?.getTime() ?? now.getTime()) - now.getTime()) / 1000),
    );
    throw new AppError(
      loaded.row.lastError?.code === 'integration_misconfigured'
        ? 'integration_misconfigured'
        : 'refresh_failed_transient',
      `Refreshing the ${loaded.provider.displayName} token failed recently (${loaded.row.lastError?.message ?? 'unknown error'}); tether retries after a pause.`,
      { retryAfterSeconds },
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

  async function getAccessToken(id: string, options: { force?: boolean } = {}): Promise<FreshToken> {
    const loaded = await load(id);
    assertLive(loaded);
    if (!options.force && !needsRefresh(loaded, undefined)) return tokenOf(loaded.row);
    const running = inflight.get(id);
    if (running) return running;
    const refresh = refreshAcrossProcesses(
      id,
      options.force ? loaded.row.credentialsVersion : undefined,
    ).finally(() => inflight.delete(id));
    inflight.set(id, refresh);
    return refresh;
  }

  async function refreshAcrossProcesses(id: string, staleVersion: number | undefined): Promise<FreshToken> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const leased = await tryAcquireLease(db, id, owner, leaseMs);
      const loaded = await load(id);
      if (leased) return refreshHolding({ ...loaded, row: leased }, staleVersion);
      assertLive(loaded);
      if (!needsRefresh(loaded, staleVersion)) return tokenOf(loaded.row);
      if (inBackoff(loaded.row)) return duringBackoff(loaded);
      if (Date.now() > deadline) {
        throw new AppError(
          'refresh_failed_transient',
          'Another refresh of this connection is taking too long; try again.',
          {
            retryAfterSeconds: 1,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
    }
  }

  async function refreshHolding(loaded: Loaded, staleVersion: number | undefined): Promise<FreshToken> {
    const { row, provider } = loaded;
    let released = false;
    try {
      assertLive(loaded);
      if (!needsRefresh(loaded, staleVersion)) return tokenOf(row);
      if (inBackoff(row)) return duringBackoff(loaded);
      const credentials = openCredentials(sealer, row);
      if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
      if (credentials.refreshToken === null && provider.refresh.strategy !== 'long-lived') {
        // Nothing to refresh with (Slack without rotation, legacy Notion): the token is kept while it
        // works; only one that has expired with no way to renew it means the grant is gone.
        if (isUsable(row, runtime.now())) return tokenOf(row);
        released = true;
        throw await markGrantLost(db, {
          connectionId: row.id,
          provider: provider.name,
          displayName: provider.displayName,
          reason: 'no_refresh_token',
          message: 'The access token expired and the provider gave no refresh token.',
          now: runtime.now(),
        });
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

  async function commitRefresh(loaded: Loaded, old: Credentials, tokens: TokenSet): Promise<FreshToken> {
    const { row, provider } = loaded;
    const now = runtime.now();
    const refreshToken = tokens.refreshToken === undefined ? old.refreshToken : tokens.refreshToken;
    const rotated = refreshToken !== old.refreshToken && old.refreshToken !== null;
    const credentials: Credentials = {
      accessToken: tokens.accessToken,
      refreshToken,
      secretExtras: { ...old.secretExtras, ...tokens.secretExtras },
    };
    const expiresAt =
      tokens.expiresIn !== undefined ? new Date(now.getTime() + tokens.expiresIn * 1000) : null;
    const updated = await db.transaction(async (tx) => {
      const [written] = await tx
        .update(connections)
        .set({
          credentialsSealed: sealCredentials(sealer, row.id, credentials),
          ...(rotated
            ? {
                previousRefreshTokenSealed: sealer.seal(
                  old.refreshToken!,
                  sealContext.connectionPreviousRefreshToken(row.id),
                ),
                refreshTokenRotatedAt: now,
              }
            : {}),
          accessTokenIssuedAt: now,
          expiresAt,
          ...(tokens.refreshExpiresIn !== undefined
            ? { refreshExpiresAt: new Date(now.getTime() + tokens.refreshExpiresIn * 1000) }
            : {}),
          lastRefreshAt: now,
          status: 'connected',
          failureCount: 0,
          nextAttemptAt: null,
          lastError: null,
          refreshLeaseOwner: null,
          refreshLeaseUntil: null,
          credentialsVersion: sql`${connections.credentialsVersion} + 1`,
          updatedAt: now,
        })
        .where(heldBy(row.id, owner))
        .returning();
      if (!written) return null;
      const subject = { actor: 'tether', subjectType: 'connection', subjectId: row.id };
      await recordAudit(tx, {
        ...subject,
        action: 'connection.refreshed',
        metadata: { provider: provider.name, rotated },
      });
      if (row.status === 'degraded') {
        await recordAudit(tx, {
          ...subject,
          action: 'connection.recovered',
          metadata: { provider: provider.name, afterFailures: row.failureCount },
        });
      }
      return written;
    });
    if (!updated) {
      // The lease ran out while the provider answered and someone else refreshed: theirs is stored.
      deps.logger.warn(
        { connectionId: row.id },
        'refresh lease lost before commit; keeping the stored credentials',
      );
      return tokenOf((await load(row.id)).row);
    }
    return { accessToken: credentials.accessToken, expiresAt };
  }

  async function recordFailure(loaded: Loaded, error: unknown): Promise<FreshToken> {
    const { row, provider } = loaded;
    const now = runtime.now();
    const failure =
      error instanceof ProviderError
        ? error
        : new ProviderError('transient', provider.name, 'the refresh failed unexpectedly', { cause: error });
    const code = failure.providerCode ?? failure.kind;
    const subject = { actor: 'tether', subjectType: 'connection', subjectId: row.id };

    if (failure.kind === 'permanent') {
      throw await markGrantLost(db, {
        connectionId: row.id,
        provider: provider.name,
        displayName: provider.displayName,
        reason: code,
        message: failure.message,
        now,
      });
    }

    if (failure.kind === 'refused') {
      await releaseLease(db, row.id, owner);
      if (isUsable(row, now)) return tokenOf(row);
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
    await db.transaction(async (tx) => {
      await tx
        .update(connections)
        .set({
          status: 'degraded',
          lastError,
          failureCount: failures,
          nextAttemptAt,
          refreshLeaseOwner: null,
          refreshLeaseUntil: null,
          updatedAt: now,
        })
        .where(eq(connections.id, row.id));
      if (row.status !== 'degraded') {
        await recordAudit(tx, {
          ...subject,
          action: 'connection.degraded',
          metadata: { provider: provider.name, reason: lastError.code },
        });
      }
      if (misconfigured) {
        const [integration] = await tx
          .update(integrations)
          .set({ lastError: { code, message: failure.message, at: now.toISOString() } })
          .where(eq(integrations.key, row.integrationKey))
          .returning({ key: integrations.key });
        if (integration && !loaded.integration.lastError) {
          await recordAudit(tx, {
            actor: 'tether',
            action: 'integration.misconfigured',
            subjectType: 'integration',
            subjectId: integration.key,
            metadata: { provider: provider.name, reason: code },
          });
        }
      }
    });
    deps.logger.warn(
      { connectionId: row.id, provider: provider.name, kind: failure.kind, code, failures },
      'token refresh failed',
    );
    return duringBackoff({ ...loaded, row: { ...row, nextAttemptAt, lastError } });
  }

  return { getAccessToken, load };
}
