import { randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type IntegrationRow, integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import type { SandboxWebhookSecrets, WebhookSenderFacts } from '../sandbox/webhooks/index.ts';
import { getIntegrationRow, openWebhookSecrets } from './integration-store.ts';

/**
 * With the sandbox on, one integration per webhook source (`sandbox-stripe`, `sandbox-paypal`,
 * `sandbox-docusign-connect`, `sandbox-gmail-pubsub`) that accepts what the sandbox's senders
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

/** What earlier versions seeded and published: a database still holding one gets a new secret. */
export const PUBLISHED_SANDBOX_SECRETS: readonly string[] = [
  'whsec_tether_sandbox_stripe',
  'tether-sandbox-docusign-connect-key',
  'WH-TETHER-SANDBOX',
];

export async function seedSandboxWebhookSources(
  db: Db,
  sealer: Sealer,
  facts: WebhookSenderFacts,
): Promise<SandboxWebhookSecrets> {
  const given = facts.secrets;
  const stripe = given
    ? await storeSigningSecret(db, sealer, 'sandbox-stripe', 'stripe', given.stripe)
    : await seedSigningSecret(db, sealer, 'sandbox-stripe', 'stripe', stripeSecret);
  const docusignConnect = given
    ? await storeSigningSecret(
        db,
        sealer,
        'sandbox-docusign-connect',
        'docusign-connect',
        given.docusignConnect,
      )
    : await seedSigningSecret(db, sealer, 'sandbox-docusign-connect', 'docusign-connect', () =>
        randomBytes(32).toString('base64'),
      );
  const paypalWebhookId = await seedPaypal(db, facts, given?.paypalWebhookId);
  await seedGmailPubsub(db, facts);
  return { stripe, docusignConnect, paypalWebhookId };
}

const stripeSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

/** The secret the senders sign with: the first stored one, unless none or a published one is stored. */
async function seedSigningSecret(
  db: Db,
  sealer: Sealer,
  key: string,
  provider: string,
  generate: () => string,
): Promise<string> {
  const seal = (secret: string) =>
    sealer.seal(JSON.stringify([secret]), sealContext.integrationWebhookSecrets(key));
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
  const sealed = sealer.seal(JSON.stringify([secret]), sealContext.integrationWebhookSecrets(key));
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

/** PayPal signs with the sandbox's certificates (new each start); the webhook id is kept, unless given. */
async function seedPaypal(db: Db, facts: WebhookSenderFacts, givenWebhookId?: string): Promise<string> {
  const webhook = {
    webhookId: givenWebhookId ?? `WH-${randomBytes(9).toString('hex').toUpperCase()}`,
    paypal: {
      allowedCertOrigins: [new URL(facts.paypal.certUrl).origin],
      trustedCaPems: [facts.paypal.caPem],
    },
  };
  const published = PUBLISHED_SANDBOX_SECRETS.map((s) => `'${s}'`).join(', ');
  const [row] = await db
    .insert(integrations)
    .values({ key: 'sandbox-paypal', provider: 'paypal', webhook })
    .onConflictDoUpdate({
      target: integrations.key,
      set: {
        webhook: givenWebhookId
          ? sql`excluded.webhook`
          : sql`excluded.webhook || jsonb_build_object('webhookId', coalesce(
          case when ${integrations.webhook}->>'webhookId' in (${sql.raw(published)}) then null
               else ${integrations.webhook}->>'webhookId' end,
          excluded.webhook->>'webhookId'))`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return String(row!.webhook.webhookId);
}

/** Pub/Sub pushes carry a token signed by the sandbox's Google keys, published at its JWKS URL. */
async function seedGmailPubsub(db: Db, facts: WebhookSenderFacts): Promise<void> {
  const values = {
    webhook: { pubsub: { serviceAccountEmail: facts.gmailPubsub.serviceAccount } },
    endpoints: { jwksUrl: facts.gmailPubsub.jwksUrl },
  };
  await db
    .insert(integrations)
    .values({ key: 'sandbox-gmail-pubsub', provider: 'gmail-pubsub', ...values })
    .onConflictDoUpdate({ target: integrations.key, set: { ...values, updatedAt: sql`now()` } });
}
