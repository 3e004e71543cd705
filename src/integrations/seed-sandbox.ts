import { sql } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { type SandboxProvider, sandboxClientCredentials, sandboxEndpoints } from '../sandbox/index.ts';

/**
 * With the sandbox on, one integration per provider (key `sandbox-<provider>`)
 * pointed at the simulators, so `npm start` → connect → a working connection
 * with no internet. Idempotent: each start creates what is missing and points
 * the endpoints at the current public URL (the port may have changed).
 */
const SEEDS: { key: string; provider: string; sandbox: SandboxProvider; scopes?: string[] }[] = [
  { key: 'sandbox-google', provider: 'google', sandbox: 'google' },
  { key: 'sandbox-gmail', provider: 'gmail', sandbox: 'google' },
  { key: 'sandbox-google-calendar', provider: 'google-calendar', sandbox: 'google' },
  { key: 'sandbox-google-drive', provider: 'google-drive', sandbox: 'google' },
  { key: 'sandbox-youtube', provider: 'youtube', sandbox: 'google' },
  { key: 'sandbox-xero', provider: 'xero', sandbox: 'xero' },
  { key: 'sandbox-docusign', provider: 'docusign', sandbox: 'docusign' },
  { key: 'sandbox-notion', provider: 'notion', sandbox: 'notion' },
  { key: 'sandbox-instagram', provider: 'instagram', sandbox: 'instagram' },
  { key: 'sandbox-tiktok', provider: 'tiktok', sandbox: 'tiktok' },
  { key: 'sandbox-slack', provider: 'slack', sandbox: 'slack' },
  { key: 'sandbox-oauth2', provider: 'oauth2', sandbox: 'oauth2', scopes: ['openid', 'profile'] },
];

export async function seedSandboxIntegrations(db: Db, sealer: Sealer, publicUrl: string): Promise<string[]> {
  const endpoints = sandboxEndpoints(`${publicUrl}/sandbox`);
  for (const seed of SEEDS) {
    const { clientId, clientSecret } = sandboxClientCredentials(seed.sandbox);
    const urls = Object.fromEntries(
      Object.entries(endpoints[seed.sandbox]).filter(([, url]) => url !== undefined),
    ) as Record<string, string>;
    await db
      .insert(integrations)
      .values({
        key: seed.key,
        provider: seed.provider,
        clientId,
        clientSecretSealed: sealer.seal(clientSecret, sealContext.integrationClientSecret(seed.key)),
        scopes: seed.scopes ?? [],
        endpoints: urls,
      })
      .onConflictDoUpdate({ target: integrations.key, set: { endpoints: urls, updatedAt: sql`now()` } });
  }
  return SEEDS.map((seed) => seed.key);
}

/** The sandbox webhook senders' facts tether's verifiers need (from GET /sandbox/_control/webhooks/config). */
export interface SandboxWebhookFacts {
  paypal: { caPem: string };
  gmailPubsub: { jwksUrl: string; serviceAccount: string };
}

/** Secrets of the sandbox sources: fixed, so demos and scripts can sign with them. Sandbox only. */
export const SANDBOX_WEBHOOK_SECRETS = {
  stripe: 'whsec_tether_sandbox_stripe',
  docusignConnect: 'tether-sandbox-docusign-connect-key',
  paypalWebhookId: 'WH-TETHER-SANDBOX',
} as const;

/**
 * One integration per webhook source (`sandbox-stripe`, `sandbox-paypal`, `sandbox-docusign-connect`,
 * `sandbox-gmail-pubsub`) that accepts what the sandbox's senders send. Refreshed on each start:
 * the sandbox makes new PayPal and Pub/Sub keys every time.
 */
export async function seedSandboxWebhookSources(
  db: Db,
  sealer: Sealer,
  publicUrl: string,
  facts: SandboxWebhookFacts,
): Promise<void> {
  const sources: {
    key: string;
    provider: string;
    secrets: string[] | null;
    webhook: Record<string, unknown>;
    endpoints: Record<string, string>;
  }[] = [
    {
      key: 'sandbox-stripe',
      provider: 'stripe',
      secrets: [SANDBOX_WEBHOOK_SECRETS.stripe],
      webhook: { secretsCount: 1 },
      endpoints: {},
    },
    {
      key: 'sandbox-docusign-connect',
      provider: 'docusign-connect',
      secrets: [SANDBOX_WEBHOOK_SECRETS.docusignConnect],
      webhook: { secretsCount: 1 },
      endpoints: {},
    },
    {
      key: 'sandbox-paypal',
      provider: 'paypal',
      secrets: null,
      webhook: {
        webhookId: SANDBOX_WEBHOOK_SECRETS.paypalWebhookId,
        paypal: { allowedCertOrigins: [new URL(publicUrl).origin], trustedCaPems: [facts.paypal.caPem] },
      },
      endpoints: {},
    },
    {
      key: 'sandbox-gmail-pubsub',
      provider: 'gmail-pubsub',
      secrets: null,
      webhook: { pubsub: { serviceAccountEmail: facts.gmailPubsub.serviceAccount } },
      endpoints: { jwksUrl: facts.gmailPubsub.jwksUrl },
    },
  ];
  for (const source of sources) {
    const values = {
      webhook: source.webhook,
      endpoints: source.endpoints,
      webhookSecretsSealed: source.secrets
        ? sealer.seal(JSON.stringify(source.secrets), sealContext.integrationWebhookSecrets(source.key))
        : null,
    };
    await db
      .insert(integrations)
      .values({ key: source.key, provider: source.provider, ...values })
      .onConflictDoUpdate({ target: integrations.key, set: { ...values, updatedAt: sql`now()` } });
  }
}
