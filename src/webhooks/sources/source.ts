import type { z } from 'zod';
import type { Db } from '../../db/client.ts';
import type { IntegrationRow } from '../../db/schema.ts';
import type { SandboxWebhookSecrets, WebhookSenderFacts } from '../../sandbox/webhooks/sender-facts.ts';
import type { EffectHandler } from '../effects/types.ts';
import type { VerifierDeps, WebhookVerifier } from '../verifiers/types.ts';

/**
 * A webhook source: everything tether knows about one sender (Stripe, PayPal, …) in one typed
 * object, the way a provider file describes an OAuth provider. The integration schema, the
 * source list, the verifier registry, the effect dispatch and the sandbox seeding are all derived
 * from the list of definitions (sources/index.ts); nothing else names a source.
 */
export interface WebhookSourceDefinition<
  N extends string = string,
  S extends z.ZodType = z.ZodType,
  B extends z.ZodRawShape = z.ZodRawShape,
> {
  readonly name: N;
  /**
   * The fields of an integration's body this source owns (beside the shared ones such as
   * `webhookSecrets`), as zod fields of the create/update body. Stored as given in
   * `integrations.webhook`, under the same names.
   */
  readonly body: B;
  /** Fields the source cannot work without, each with the message naming it. */
  readonly requires: readonly { field: string; message: string }[];
  /** The verifier's settings (strict: a misspelt key is an error). */
  readonly settings: S;
  /** The stored integration, secrets opened, as the verifier's settings (checked with `settings`). */
  settingsFrom(stored: StoredIntegration): unknown;
  makeVerifier(settings: z.infer<S>, deps: VerifierDeps): WebhookVerifier;
  readonly effect: {
    /** The event types it has an effect for (the rest are stored and `ignored`). */
    readonly types: readonly string[];
    readonly apply: EffectHandler;
    /** Every queue a follow-up of its effect may name, with its options (created at start). */
    readonly followUpQueues?: readonly { name: string; options: { policy: 'stately' } }[];
  };
  /**
   * Makes the integration `sandbox-<name>` accept what the sandbox's sender sends (and nothing
   * signed by anyone else); answers the secrets the sender must sign with, if it has any.
   */
  seedSandbox(context: SandboxSeedContext): Promise<Partial<SandboxWebhookSecrets>>;
}

/** An integration row with its secrets opened: what `settingsFrom` reads. */
export interface StoredIntegration {
  row: IntegrationRow;
  secrets: string[];
  clientSecret: string | undefined;
}

export interface SandboxSeedContext {
  db: Db;
  /** `sandbox-<source name>` */
  key: string;
  facts: WebhookSenderFacts;
  /**
   * The secret the sandbox's sender signs with: generated once per database (sealed), kept
   * across starts, replaced when none or a published one is stored.
   */
  signingSecret(generate: () => string): Promise<string>;
  /** Inserts the integration, or rewrites these columns of it (safe when instances start at once). */
  upsert(values: { webhook: Record<string, unknown>; endpoints?: Record<string, string> }): Promise<void>;
}

/** Types a definition, keeping its name a literal (so the source list is a union of names). */
export function defineWebhookSource<const N extends string, S extends z.ZodType, B extends z.ZodRawShape>(
  definition: WebhookSourceDefinition<N, S, B>,
): WebhookSourceDefinition<N, S, B> {
  return definition;
}
