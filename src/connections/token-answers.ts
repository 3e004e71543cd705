import type { Sealer } from '../crypto/seal.ts';
import type { ConnectionRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import type { LoadedConnection } from './connection-store.ts';
import { openCredentials } from './credentials.ts';
import { isUsable, wantsRefresh } from './refresh-policy.ts';

/**
 * What a caller of the token lifecycle is told about a connection as read:
 * its token, or why there is none (disconnected, grant lost, a backoff
 * running, a provider that refuses this early). The decisions only; the
 * reads and writes are the callers'.
 */
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

export type TokenAnswers = ReturnType<typeof makeTokenAnswers>;

export function makeTokenAnswers(sealer: Sealer, runtime: ProviderRuntime) {
  function assertLive({ row, provider }: LoadedConnection): void {
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
  function settled(loaded: LoadedConnection): RefreshOutcome {
    return { refreshed: true, token: tokenOf(loaded.row) };
  }

  /** Not refreshed, for `why`: the stored token if it still works, else `why` is thrown. */
  function notRefreshed(loaded: LoadedConnection, why: AppError): RefreshOutcome {
    if (!isUsable(loaded.row, runtime.now())) throw why;
    return { refreshed: false, token: tokenOf(loaded.row), why };
  }

  /** The answer while a backoff runs: the old token if it still works, else 503 with Retry-After. */
  function duringBackoff(loaded: LoadedConnection): RefreshOutcome {
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

  function tooEarly(loaded: LoadedConnection, retryAfterSeconds: number): RefreshOutcome {
    return notRefreshed(
      loaded,
      new AppError(
        'refresh_too_early',
        `${loaded.provider.displayName} does not refresh a token this young; tether refreshes it in time by itself.`,
        { retryAfterSeconds },
      ),
    );
  }

  /** Whether the loaded row still needs this refresh; staleVersion set for forced refreshes. */
  function needsRefresh(loaded: LoadedConnection, staleVersion: number | undefined): boolean {
    if (staleVersion !== undefined) return loaded.row.credentialsVersion === staleVersion;
    const now = runtime.now();
    return wantsRefresh(loaded.provider, loaded.row, loaded.options, now) || !isUsable(loaded.row, now);
  }

  function inBackoff(row: ConnectionRow): boolean {
    return row.nextAttemptAt !== null && row.nextAttemptAt.getTime() > runtime.now().getTime();
  }

  return { assertLive, tokenOf, settled, notRefreshed, duringBackoff, tooEarly, needsRefresh, inBackoff };
}
