import type { FastifyInstance } from 'fastify';
import type { OAuthProviderName } from '../../providers/provider.ts';
import type { FaultAction } from '../faults.ts';
import type { ProviderReply } from '../http.ts';
import type { RateLimitHit } from '../rate-limits.ts';
import type { SandboxProvider } from '../settings.ts';
import type { SandboxState } from '../state.ts';

// What one simulated provider declares. sandboxPlugin mounts each module's routes under
// /<name>; the fault hook answers its rate limits with its own 429.

export interface SandboxProviderEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl?: string;
  /** Root the API paths hang off (tether's proxy joins paths to it). */
  apiBaseUrl: string;
  userinfoUrl?: string;
  [extra: string]: string | undefined;
}

export interface SandboxProviderModule {
  name: SandboxProvider;
  /**
   * The tether providers this module simulates (Google's serves the whole Google family). Each
   * gets a `sandbox-<provider>` integration when the sandbox is on.
   */
  simulates: readonly OAuthProviderName[];
  /** Scopes the seeded integrations ask for, where the provider has no defaults (the generic one). */
  seedScopes?: string[];
  /** Registers the routes on an instance already prefixed with /<name>. */
  routes(app: FastifyInstance, state: SandboxState): void;
  /** The provider's own 429 answer for an exhausted sandbox rate limit. */
  rateLimited(hit: RateLimitHit, endpoint: string): ProviderReply;
  /** The URLs tether should use, from the sandbox base URL (ending in /sandbox). */
  endpoints(sandboxBaseUrl: string): SandboxProviderEndpoints;
  /** Named faults for the provider's notable failures (`google.invalid_rapt`...). */
  faultPresets?: Record<string, { endpoint: string; action: FaultAction }>;
}
