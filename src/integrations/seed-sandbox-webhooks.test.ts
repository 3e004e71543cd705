import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { makeSealer } from '../crypto/seal.ts';
import { migrate } from '../db/migrate.ts';
import { integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import {
  makeWebhookSenderState,
  type WebhookSenderState,
  webhookSenderFacts,
} from '../sandbox/webhooks/index.ts';
import { openWebhookSecrets } from './integration-secrets.ts';
import { getIntegrationRow } from './integration-store.ts';
import { PUBLISHED_SANDBOX_SECRETS, seedSandboxWebhookSources } from './seed-sandbox-webhooks.ts';

const sealer = makeSealer([randomBytes(32)]);
let senders: WebhookSenderState;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  senders = await makeWebhookSenderState();
});
afterEach(async () => {
  for (const database of databases.splice(0)) await database.dispose();
});

async function freshDatabase() {
  const database = await makeTestDatabase();
  databases.push(database);
  await migrate(database.database);
  return database.database.db;
}

const facts = (sandboxUrl = 'http://127.0.0.1:3000/sandbox') => webhookSenderFacts(sandboxUrl, senders);

describe('seedSandboxWebhookSources', () => {
  it('generates the secrets once per database and keeps them across starts', async () => {
    const db = await freshDatabase();
    const first = await seedSandboxWebhookSources(db, sealer, facts());
    const again = await seedSandboxWebhookSources(db, sealer, facts());
    expect(again).toEqual(first);
    const elsewhere = await seedSandboxWebhookSources(await freshDatabase(), sealer, facts());
    expect(elsewhere.stripe).not.toBe(first.stripe);
    expect(elsewhere.docusignConnect).not.toBe(first.docusignConnect);
    expect(elsewhere.paypalWebhookId).not.toBe(first.paypalWebhookId);
    for (const value of Object.values(first)) expect(PUBLISHED_SANDBOX_SECRETS).not.toContain(value);
  });

  it("stores the secrets sealed, as the integrations' own secrets", async () => {
    const db = await freshDatabase();
    const secrets = await seedSandboxWebhookSources(db, sealer, facts());
    const stripe = await getIntegrationRow(db, 'sandbox-stripe');
    expect(stripe.webhookSecretsSealed).not.toContain(secrets.stripe);
    expect(openWebhookSecrets(sealer, stripe)).toEqual([secrets.stripe]);
    const docusign = await getIntegrationRow(db, 'sandbox-docusign-connect');
    expect(openWebhookSecrets(sealer, docusign)).toEqual([secrets.docusignConnect]);
    expect((await getIntegrationRow(db, 'sandbox-paypal')).webhook.webhookId).toBe(secrets.paypalWebhookId);
  });

  it('replaces the published constants a database seeded by an earlier version still holds', async () => {
    const db = await freshDatabase();
    const sealed = (key: string, secret: string) =>
      sealer.seal(JSON.stringify([secret]), sealContext.integrationWebhookSecrets(key));
    await db.insert(integrations).values([
      {
        key: 'sandbox-stripe',
        provider: 'stripe',
        webhook: { secretsCount: 1 },
        webhookSecretsSealed: sealed('sandbox-stripe', 'whsec_tether_sandbox_stripe'),
      },
      {
        key: 'sandbox-docusign-connect',
        provider: 'docusign-connect',
        webhook: { secretsCount: 1 },
        webhookSecretsSealed: sealed('sandbox-docusign-connect', 'tether-sandbox-docusign-connect-key'),
      },
      { key: 'sandbox-paypal', provider: 'paypal', webhook: { webhookId: 'WH-TETHER-SANDBOX' } },
    ]);
    const secrets = await seedSandboxWebhookSources(db, sealer, facts());
    for (const value of Object.values(secrets)) expect(PUBLISHED_SANDBOX_SECRETS).not.toContain(value);
    expect(openWebhookSecrets(sealer, await getIntegrationRow(db, 'sandbox-stripe'))).toEqual([
      secrets.stripe,
    ]);
    expect(openWebhookSecrets(sealer, await getIntegrationRow(db, 'sandbox-docusign-connect'))).toEqual([
      secrets.docusignConnect,
    ]);
  });

  it('signs with the first secret an operator stored instead of generating one', async () => {
    const db = await freshDatabase();
    await seedSandboxWebhookSources(db, sealer, facts());
    await db
      .update(integrations)
      .set({
        webhookSecretsSealed: sealer.seal(
          JSON.stringify(['whsec_operator_one', 'whsec_operator_two']),
          sealContext.integrationWebhookSecrets('sandbox-stripe'),
        ),
      })
      .where(eq(integrations.key, 'sandbox-stripe'));
    expect((await seedSandboxWebhookSources(db, sealer, facts())).stripe).toBe('whsec_operator_one');
  });

  it('points PayPal and Pub/Sub at the sandbox under the URL it is given, not at localhost', async () => {
    const db = await freshDatabase();
    await seedSandboxWebhookSources(db, sealer, facts('https://tether.example.com:8443/sandbox'));
    const pubsub = await getIntegrationRow(db, 'sandbox-gmail-pubsub');
    expect(pubsub.endpoints.jwksUrl).toBe('https://tether.example.com:8443/sandbox/google/oauth2/v3/certs');
    const paypal = await getIntegrationRow(db, 'sandbox-paypal');
    expect(paypal.webhook.paypal).toMatchObject({
      allowedCertOrigins: ['https://tether.example.com:8443'],
      trustedCaPems: [senders.paypalCerts.caPem],
    });
  });
});
