import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type IntegrationRow, integrations } from '../db/schema.ts';
import type { SandboxWebhookSecrets, WebhookSenderFacts } from '../sandbox/webhooks/index.ts';
import { WEBHOOK_SOURCE_DEFINITIONS } from '../webhooks/sources/index.ts';
import { PUBLISHED_SANDBOX_SECRETS } from '../webhooks/sources/published-sandbox-secrets.ts';
import { openWebhookSecrets, sealWebhookSecrets } from './integration-secrets.ts';
import { getIntegrationRow } from './integration-store.ts';

/**
 * With the sandbox on, one integration per webhook source (`sandbox-<source>`: each source's
 * definition says how, in its `seedSandbox`) that accepts what the sandbox's senders
 * send, and nothing signed by anyone else:
 * - the Stripe and DocuSign Connect secrets and the PayPal webhook id are generated once per
 *   database (secrets sealed like every secret) and kept across starts; the sandbox's senders
 *   sign with them and its control API tells them (GET /sandbox/_control/webhooks/config);
 * - PayPal's CA and Google's push keys are made anew by the sandbox on each start, so those
 *   settings are rewritten every start, with URLs built from the public URL.
 * Safe when several instances start at once: each secret is written only where none (or a
 * published one) is stored, and every instance uses what the database holds.
 *
 * Against a sandbox running alone (TETHER_SANDBOX_URL), the sandbox holds the secrets and its
 * control API tells them (`facts.secrets`): those are stored instead, whatever was there.
 */

export { PUBLISHED_SANDBOX_SECRETS };

export async function seedSandboxWebhookSources(
  db: Db,
  sealer: Sealer,
  facts: WebhookSenderFacts,
): Promise<SandboxWebhookSecrets> {
  const secrets: Partial<SandboxWebhookSecrets> = {};
  for (const source of WEBHOOK_SOURCE_DEFINITIONS) {
    const key = `sandbox-${source.name}`;
    const provider: string = source.name;
    Object.assign(
      secrets,
      await source.seedSandbox({
        db,
        key,
        facts,
        signingSecret: (generate) => seedSigningSecret(db, sealer, key, provider, generate),
        upsert: async (values) => {
          await db
            .insert(integrations)
            .values({ key, provider, ...values })
            .onConflictDoUpdate({ target: integrations.key, set: { ...values, updatedAt: sql`now()` } });
        },
      }),
    );
  }
  if (facts.secrets) return adoptSandboxSecrets(db, sealer, facts.secrets);
  const { stripe, docusignConnect, paypalWebhookId } = secrets;
  if (stripe === undefined || docusignConnect === undefined || paypalWebhookId === undefined)
    throw new Error('a webhook source did not seed the secret its sandbox sender signs with');
  return { stripe, docusignConnect, paypalWebhookId };
}

/** The secret the senders sign with: the first stored one, unless none or a published one is stored. */
async function seedSigningSecret(
  db: Db,
  sealer: Sealer,
  key: string,
  provider: string,
  generate: () => string,
): Promise<string> {
  const seal = (secret: string) => sealWebhookSecrets(sealer, key, [secret]);
  const fresh = generate();
  const [inserted] = await db
    .insert(integrations)
    .values({ key, provider, webhook: { secretsCount: 1 }, webhookSecretsSealed: seal(fresh) })
    .onConflictDoNothing()
    .returning();
  if (inserted) return fresh;
  let current = await getIntegrationRow(db, key);
  // Replaced only if nobody changed it meanwhile (another instance starting, an operator's PATCH).
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = openWebhookSecrets(sealer, current);
    if (stored.length > 0 && !stored.some((s) => PUBLISHED_SANDBOX_SECRETS.includes(s))) return stored[0]!;
    const [replaced] = await db
      .update(integrations)
      .set({
        webhookSecretsSealed: seal(fresh),
        webhook: sql`${integrations.webhook} || '{"secretsCount": 1}'::jsonb`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(integrations.key, key), sameSealed(current)))
      .returning();
    if (replaced) return fresh;
    current = await getIntegrationRow(db, key);
  }
  throw new Error(`could not seed the webhook secret of the sandbox integration "${key}"`);
}

/** The sandbox's own secret, stored as the only one (a sandbox running alone decides it). */
async function storeSigningSecret(
  db: Db,
  sealer: Sealer,
  key: string,
  provider: string,
  secret: string,
): Promise<string> {
  const sealed = sealWebhookSecrets(sealer, key, [secret]);
  await db
    .insert(integrations)
    .values({ key, provider, webhook: { secretsCount: 1 }, webhookSecretsSealed: sealed })
    .onConflictDoUpdate({
      target: integrations.key,
      set: {
        webhookSecretsSealed: sealed,
        webhook: sql`${integrations.webhook} || '{"secretsCount": 1}'::jsonb`,
        updatedAt: sql`now()`,
      },
    });
  return secret;
}

function sameSealed(row: IntegrationRow) {
  return row.webhookSecretsSealed === null
    ? isNull(integrations.webhookSecretsSealed)
    : eq(integrations.webhookSecretsSealed, row.webhookSecretsSealed);
}

/**
 * A sandbox running alone decides its secrets: each is stored as the only one of its integration
 * (the sources seeded theirs first, so every other setting is in place).
 */
async function adoptSandboxSecrets(
  db: Db,
  sealer: Sealer,
  given: SandboxWebhookSecrets,
): Promise<SandboxWebhookSecrets> {
  await storeSigningSecret(db, sealer, 'sandbox-stripe', 'stripe', given.stripe);
  await storeSigningSecret(db, sealer, 'sandbox-docusign-connect', 'docusign-connect', given.docusignConnect);
  await db
    .update(integrations)
    .set({
      webhook: sql`${integrations.webhook} || jsonb_build_object('webhookId', ${given.paypalWebhookId}::text)`,
      updatedAt: sql`now()`,
    })
    .where(eq(integrations.key, 'sandbox-paypal'));
  return given;
}
