import { timingSafeEqual } from 'node:crypto';
import { SANDBOX_PROVIDERS, type SandboxProvider } from '../settings.ts';

// OAuth clients (apps) registered with each simulated provider. One is seeded per provider:
// id `sandbox-<provider>-client`, secret `sandbox-<provider>-secret`, any redirect URI.

export interface SandboxClient {
  provider: SandboxProvider;
  clientId: string;
  clientSecret: string;
  /** Allowed redirect URIs (exact match); null: any. */
  redirectUris: string[] | null;
  name: string;
}

export interface ClientRegistry {
  register(client: SandboxClient): SandboxClient;
  find(provider: SandboxProvider, clientId: string): SandboxClient | undefined;
  /** The client when the id exists and the secret matches; compared in constant time. */
  authenticate(provider: SandboxProvider, clientId: string, clientSecret: string): SandboxClient | undefined;
  list(): SandboxClient[];
  reset(): void;
}

export function seededClient(provider: SandboxProvider): SandboxClient {
  return {
    provider,
    clientId: `sandbox-${provider}-client`,
    clientSecret: `sandbox-${provider}-secret`,
    redirectUris: null,
    name: `tether sandbox (${provider})`,
  };
}

export function makeClientRegistry(): ClientRegistry {
  const clients = new Map<string, SandboxClient>();
  const key = (provider: string, clientId: string) => `${provider}\u0000${clientId}`;
  const registry: ClientRegistry = {
    register(client) {
      clients.set(key(client.provider, client.clientId), client);
      return client;
    },
    find: (provider, clientId) => clients.get(key(provider, clientId)),
    authenticate(provider, clientId, clientSecret) {
      const client = registry.find(provider, clientId);
      return client && sameSecret(client.clientSecret, clientSecret) ? client : undefined;
    },
    list: () => [...clients.values()],
    reset() {
      clients.clear();
      for (const provider of SANDBOX_PROVIDERS) registry.register(seededClient(provider));
    },
  };
  registry.reset();
  return registry;
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function redirectAllowed(client: SandboxClient, redirectUri: string): boolean {
  if (!URL.canParse(redirectUri)) return false;
  return client.redirectUris === null || client.redirectUris.includes(redirectUri);
}
