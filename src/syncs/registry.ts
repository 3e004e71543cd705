import { getProvider, isOAuthProviderName, OAUTH_PROVIDERS } from '../providers/index.ts';
import type { SyncDefinition } from './definition.ts';

// The syncs a connection offers: its provider's, filtered by the integration's scopes.

export function syncsOf(providerName: string, scopes: readonly string[] = []): SyncDefinition[] {
  if (!isOAuthProviderName(providerName)) return [];
  const provider = getProvider(providerName);
  const granted = new Set(scopes.length ? scopes : provider.defaultScopes);
  return (provider.syncs ?? []).filter(
    (s) => s.scopes.length === 0 || s.scopes.some((scope) => granted.has(scope)),
  );
}

export function findSync(
  providerName: string,
  syncName: string,
  scopes?: readonly string[],
): SyncDefinition | undefined {
  return syncsOf(providerName, scopes).find((s) => s.name === syncName);
}

/** Whether any sync of the provider writes this model (the records API answers 404 otherwise). */
export function providerHasModel(providerName: string, model: string): boolean {
  // Any of the provider's syncs, whatever the scopes (TikTok's video.list is not a default scope).
  if (!isOAuthProviderName(providerName)) return false;
  const syncs = getProvider(providerName).syncs ?? [];
  return syncs.some((s) => s.models.some((m) => m.name === model));
}

/** Every sync of the provider, whatever the scopes (the schedule keeps a row for each). */
export function providerSyncs(providerName: string): readonly SyncDefinition[] {
  return isOAuthProviderName(providerName) ? (getProvider(providerName).syncs ?? []) : [];
}

/** The providers that have at least one sync. */
export function providersWithSyncs(): string[] {
  return OAUTH_PROVIDERS.filter((name) => providerSyncs(name).length > 0);
}
