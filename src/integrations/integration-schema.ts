import { z } from 'zod';
import { OAUTH_PROVIDERS, type OAuthProviderName } from '../providers/provider.ts';
import { Frequency } from '../syncs/frequency.ts';
import { providerSyncs } from '../syncs/registry.ts';

/** Providers that push webhooks to tether rather than hold OAuth grants. */
export const WEBHOOK_PROVIDERS = ['stripe', 'paypal', 'docusign-connect', 'gmail-pubsub'] as const;
export type WebhookProviderName = (typeof WEBHOOK_PROVIDERS)[number];
export type ProviderName = OAuthProviderName | WebhookProviderName;

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
  syncs: IntegrationSyncSettings.optional(),
  pkce: z.boolean().optional(),
  webhookSecrets: z.array(z.string().min(1).max(500)).min(1).max(10).optional(),
  webhookId: z.string().min(1).max(200).optional(),
  pubsub: z
    .object({ audience: z.string().min(1).max(500).optional(), serviceAccountEmail: z.email() })
    .optional(),
  paypal: z
    .object({
      verification: z.enum(['offline', 'online']).optional(),
      allowedCertHosts: z.array(z.string().max(253)).max(10).optional(),
      allowedCertOrigins: z.array(httpUrl).max(10).optional(),
      certCommonNameSuffix: z.string().max(200).optional(),
      trustedCaPems: z.array(z.string().max(20_000)).max(10).optional(),
      verifyCertChain: z.boolean().optional(),
      maxAgeSeconds: z.number().int().min(1).max(86_400).optional(),
      maxFutureSeconds: z.number().int().min(0).max(3600).optional(),
    })
    .optional(),
});
export type IntegrationFields = z.infer<typeof IntegrationFields>;

export const IntegrationInput = IntegrationFields.extend({
  key: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      'must be 1-64 lowercase letters, digits, "-" or "_", starting with a letter or digit',
    ),
  provider: z.enum([...OAUTH_PROVIDERS, ...WEBHOOK_PROVIDERS]),
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
    if (provider === 'oauth2') {
      // No apiBaseUrl needed: an app may want only tokens (the proxy answers 409 proxy_not_configured).
      for (const name of ['authorizationUrl', 'tokenUrl']) {
        if (!fields.endpoints?.[name]) return `endpoints.${name} is required for the generic oauth2 provider`;
      }
    }
    return undefined;
  }
  if (fields.syncs) return `${provider} has no syncs`;
  switch (provider) {
    case 'stripe':
    case 'docusign-connect':
      return fields.webhookSecrets ? undefined : `webhookSecrets is required for ${provider}`;
    case 'paypal':
      return fields.webhookId
        ? undefined
        : 'webhookId is required for paypal (the id PayPal gave the webhook)';
    case 'gmail-pubsub':
      return fields.pubsub ? undefined : 'pubsub.serviceAccountEmail is required for gmail-pubsub';
  }
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
