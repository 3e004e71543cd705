import type { ConnectionRow } from '../db/schema.ts';
import type { IntegrationOptions, ProviderDefinition } from '../providers/provider.ts';

/**
 * When a connection's access token needs refreshing, per the provider's
 * strategy. Pure functions of the row and the time, so the rules are tested
 * without a provider.
 */
const DEFAULT_MARGIN_SECONDS = 300;
const DEFAULT_LONG_LIVED_WINDOW_SECONDS = 7 * 86_400;

function marginSeconds(options: IntegrationOptions): number {
  return options.refreshMarginSeconds ?? DEFAULT_MARGIN_SECONDS;
}

/** Whether the token can be handed out as is (valid for at least the margin, or never expiring). */
export function isFresh(row: ConnectionRow, options: IntegrationOptions, now: Date): boolean {
  if (!row.expiresAt) return true;
  return row.expiresAt.getTime() - now.getTime() >= marginSeconds(options) * 1000;
}

/** Whether the token still works at all (expired tokens are never handed out). */
export function isUsable(row: ConnectionRow, now: Date): boolean {
  return !row.expiresAt || row.expiresAt.getTime() > now.getTime() + 5_000;
}

/** Whether tether should refresh now. Long-lived tokens (Instagram): only once old enough, and inside the window. */
export function wantsRefresh(
  provider: ProviderDefinition,
  row: ConnectionRow,
  options: IntegrationOptions,
  now: Date,
): boolean {
  const policy = provider.refresh;
  if (policy.strategy === 'none' || !row.expiresAt) return false;
  if (policy.strategy === 'long-lived') {
    const issued = (row.accessTokenIssuedAt ?? row.createdAt).getTime();
    const oldEnough = now.getTime() - issued >= (policy.minimumAgeSeconds ?? 0) * 1000;
    const window = (options.refreshWindowSeconds ?? DEFAULT_LONG_LIVED_WINDOW_SECONDS) * 1000;
    return (
      oldEnough && row.expiresAt.getTime() - now.getTime() <= Math.max(window, marginSeconds(options) * 1000)
    );
  }
  return !isFresh(row, options, now);
}

/** Exponential backoff with jitter after the n-th consecutive transient failure (n ≥ 1). */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, failures - 1), 10 * 60_000);
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * Whether a connection has a way to renew its access token: a refresh token, or a provider whose
 * tokens refresh themselves (Instagram's long-lived tokens).
 */
export function canRenew(provider: ProviderDefinition, refreshToken: string | null): boolean {
  if (provider.refresh.strategy === 'none') return false;
  return provider.refresh.strategy === 'long-lived' || refreshToken !== null;
}

/** Seconds until the provider accepts a refresh (Instagram: 24 h after issue); 0 when it does now. */
export function secondsUntilRefreshAllowed(
  provider: ProviderDefinition,
  row: ConnectionRow,
  now: Date,
): number {
  const minimumAge = provider.refresh.minimumAgeSeconds;
  if (!minimumAge) return 0;
  const issued = (row.accessTokenIssuedAt ?? row.createdAt).getTime();
  return Math.max(0, Math.ceil((issued + minimumAge * 1000 - now.getTime()) / 1000));
}
