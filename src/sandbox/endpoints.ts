import type { OAuthProviderName } from '../providers/provider.ts';
import { seededClient } from './oauth/clients.ts';
import { SANDBOX_PROVIDER_MODULES } from './providers/index.ts';
import type { SandboxProviderEndpoints } from './providers/provider.ts';
import type { SandboxProvider } from './settings.ts';

/**
 * The URLs tether should configure for each sandbox integration, given the sandbox base URL
 * (the origin plus the mount prefix, e.g. 'http://127.0.0.1:3000/sandbox').
 */
export function sandboxEndpoints(sandboxBaseUrl: string): Record<SandboxProvider, SandboxProviderEndpoints> {
  const base = sandboxBaseUrl.replace(/\/+$/, '');
  return Object.fromEntries(SANDBOX_PROVIDER_MODULES.map((m) => [m.name, m.endpoints(base)])) as Record<
    SandboxProvider,
    SandboxProviderEndpoints
  >;
}

/** The seeded OAuth client of each provider (any redirect URI allowed). */
export function sandboxClientCredentials(provider: SandboxProvider): {
  clientId: string;
  clientSecret: string;
} {
  const { clientId, clientSecret } = seededClient(provider);
  return { clientId, clientSecret };
}

/** A sandbox integration: one per tether provider, pointed at the module that simulates it. */
export interface SandboxIntegrationSeed {
  key: string;
  provider: OAuthProviderName;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  endpoints: Record<string, string>;
}

/** The integrations a tether with the sandbox on holds (key `sandbox-<provider>`), derived from the modules. */
export function sandboxIntegrationSeeds(sandboxBaseUrl: string): SandboxIntegrationSeed[] {
  const base = sandboxBaseUrl.replace(/\/+$/, '');
  return SANDBOX_PROVIDER_MODULES.flatMap((module) => {
    const credentials = sandboxClientCredentials(module.name);
    const endpoints = Object.fromEntries(
      Object.entries(module.endpoints(base)).filter(([, url]) => url !== undefined),
    ) as Record<string, string>;
    return module.simulates.map((provider) => ({
      key: `sandbox-${provider}`,
      provider,
      ...credentials,
      scopes: module.seedScopes ?? [],
      endpoints,
    }));
  });
}

/** The simulator of a tether provider; every provider has exactly one (src/sandbox/index.test.ts). */
export function simulatorOf(provider: OAuthProviderName): SandboxProvider {
  const module = SANDBOX_PROVIDER_MODULES.find((m) => m.simulates.includes(provider));
  if (!module) throw new TypeError(`no sandbox module simulates "${provider}"`);
  return module.name;
}
