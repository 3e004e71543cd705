import { z } from 'zod';
import { getProvider, OAUTH_PROVIDERS } from '../providers/index.ts';
import type { OAuthProviderName } from '../providers/provider.ts';
import { Frequency } from '../syncs/frequency.ts';
import { providerSyncs } from '../syncs/registry.ts';
import {
  WEBHOOK_BODY_FIELDS,
  WEBHOOK_SOURCES,
  type WebhookSource,
  webhookSource,
} from '../webhooks/sources/index.ts';

/** OAuth providers, and the webhook sources: providers that push webhooks rather than hold grants. */
export type ProviderName = OAuthProviderName | WebhookSource;

export function isOAuthProvider(name: string): name is OAuthProviderName {
  return (OAUTH_PROVIDERS as readonly string[]).includes(name);
}

/** Per sync of the provider: how often the schedule runs it and whether it does, for every connection. */
const IntegrationSyncSettings = z
  .record(
    z.string().max(64),
    // Strict: the unknown-fields check does not walk into a record's values.
    z.strictObject({ frequency: Frequency.optional(), enabled: z.boolean().optional() }),
  )
  .describe('Per sync name: {frequency: "15m" | "1h" | "1d" …, enabled}; a connection can override both');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Settings shared by create and update; every field optional here, required ones checked per provider. */
export const IntegrationFields = z.object({
  clientId: z.string().min(1).max(500).optional(),
  clientSecret: z.string().min(1).max(2000).optional(),
  scopes: z.array(z.string().min(1).max(300)).max(100).optional(),
  endpoints: z.record(z.string().max(64), httpUrl).optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  scopeSeparator: z.string().min(1).max(3).optional(),
  extraAuthorizeParams: z.record(z.string().max(100), z.string().max(1000)).optional(),
  rotatesRefreshTokens: z.boolean().optional(),
  refreshMarginSeconds: z.number().int().min(0).max(86_400).optional(),
  refreshWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(60 * 86_400)
    .optional(),
  notionVersion: z.string().max(20).optional(),
  /** Gmail push: the Pub/Sub topic users.watch publishes to (projects/<project>/topics/<topic>). */
  gmailWatchTopic: z
    .string()
    .regex(/^projects\/[^/]{1,100}\/topics\/[^/]{1,255}$/, 'must be projects/<project>/topics/<topic>')
    .optional(),
  syncs: IntegrationSyncSettings.optional(),
  pkce: z.boolean().optional(),
  /** Signing secrets (Stripe endpoint secrets, DocuSign Connect keys), sealed at rest. */
  webhookSecrets: z.array(z.string().min(1).max(500)).min(1).max(10).optional(),
  // What each webhook source adds (PayPal's webhookId and paypal, Gmail's pubsub, ...).
  ...WEBHOOK_BODY_FIELDS,
});
export type IntegrationFields = z.infer<typeof IntegrationFields>;

export const IntegrationInput = IntegrationFields.extend({
  key: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      'must be 1-64 lowercase letters, digits, "-" or "_", starting with a letter or digit',
    ),
  provider: z.enum([...OAUTH_PROVIDERS, ...WEBHOOK_SOURCES]),
});
export type IntegrationInput = z.infer<typeof IntegrationInput>;

/** What each provider needs beyond the schema; returns the first missing field's message. */
export function missingRequirement(provider: ProviderName, fields: IntegrationFields): string | undefined {
  if (isOAuthProvider(provider)) {
    if (!fields.clientId) return 'clientId is required for OAuth providers';
    if (!fields.clientSecret) return 'clientSecret is required for OAuth providers';
    const unknownSync = Object.keys(fields.syncs ?? {}).find(
      (name) => !providerSyncs(provider).some((s) => s.name === name),
    );
    if (unknownSync) return `syncs.${unknownSync} is not a sync of ${provider}`;
    for (const name of getProvider(provider).requiredEndpoints ?? []) {
      if (!fields.endpoints?.[name]) return `endpoints.${name} is required for the ${provider} provider`;
    }
    return undefined;
  }
  if (fields.syncs) return `${provider} has no syncs`;
  const required = webhookSource(provider)?.requires ?? [];
  return required.find(({ field }) => (fields as Record<string, unknown>)[field] === undefined)?.message;
}

export const IntegrationView = z.object({
  key: z.string(),
  provider: z.string(),
  clientId: z.string().nullable(),
  hasClientSecret: z.boolean(),
  scopes: z.array(z.string()),
  endpoints: z.record(z.string(), z.string()),
  options: z.record(z.string(), z.unknown()),
  webhook: z.record(z.string(), z.unknown()),
  webhookSecretsCount: z.number(),
  redirectUri: z.string().optional(),
  webhookUrl: z.string().optional(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type IntegrationView = z.infer<typeof IntegrationView>;
