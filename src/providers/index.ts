import { docusign } from './docusign.ts';
import { gmail, google, googleCalendar, googleDrive, youtube } from './google.ts';
import { instagram } from './instagram.ts';
import { notion } from './notion.ts';
import { oauth2 } from './oauth2.ts';
import type { ProviderDefinition } from './provider.ts';
import { slack } from './slack.ts';
import { tiktok } from './tiktok.ts';
import { xero } from './xero.ts';

/**
 * The registry: the one place that maps a provider name to its module, and the one list of
 * provider names (OAUTH_PROVIDERS and the OAuthProviderName type are its keys). Nothing else in
 * tether branches on a provider's name; it asks for the definition and calls its hooks.
 */
export const PROVIDERS = Object.freeze({
  google,
  gmail,
  'google-calendar': googleCalendar,
  'google-drive': googleDrive,
  youtube,
  xero,
  docusign,
  notion,
  instagram,
  tiktok,
  slack,
  oauth2,
} satisfies Record<string, ProviderDefinition>);

/** The provider names an integration may have (contract: shared/api-contract.md). */
export type OAuthProviderName = keyof typeof PROVIDERS;
export const OAUTH_PROVIDERS = Object.keys(PROVIDERS) as readonly OAuthProviderName[];

export function isOAuthProviderName(name: string): name is OAuthProviderName {
  return (OAUTH_PROVIDERS as readonly string[]).includes(name);
}

/** The provider's definition; throws on a name tether does not know. */
export function getProvider(name: string): ProviderDefinition {
  if (!isOAuthProviderName(name))
    throw new TypeError(`"provider" must be one of ${OAUTH_PROVIDERS.join(', ')}`);
  return PROVIDERS[name];
}

export { makeProviderRuntime, type ProviderRuntimeOptions } from './runtime.ts';
