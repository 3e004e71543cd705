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
