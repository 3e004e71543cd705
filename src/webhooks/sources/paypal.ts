import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { integrations } from '../../db/schema.ts';
import { applyPaypalEvent, PAYPAL_EFFECT_TYPES } from '../effects/paypal-payments.ts';
import { makePaypalVerifier } from '../verifiers/paypal.ts';
import { certificatePem, hostname, httpUrl, origin, seconds } from '../verifiers/settings.ts';
import { PUBLISHED_SANDBOX_SECRETS } from './published-sandbox-secrets.ts';
import { defineWebhookSource, type SandboxSeedContext } from './source.ts';

/** As the integration API's other URLs are checked (integration-schema.ts). */
const bodyUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

interface PaypalStored {
  verification?: 'offline' | 'online';
  [option: string]: unknown;
}

/** The PayPal verifier's settings. */
const paypalSettings = z.strictObject({
  webhookId: z.string().min(1),
  allowedCertHosts: z.array(hostname).min(1).optional(),
  allowedCertOrigins: z.array(origin).optional(),
  certCommonNameSuffix: z
    .string()
    .regex(/^\.[A-Za-z0-9.-]+$/, 'must start with a dot, e.g. .paypal.com')
    .optional(),
  trustedCaPems: z.array(certificatePem).min(1).optional(),
  verifyCertChain: z.boolean().optional(),
  maxAgeSeconds: seconds(86_400).optional(),
  maxFutureSeconds: seconds(3600).optional(),
  /** Verify through PayPal's verify-webhook-signature API instead of offline. */
  online: z
    .strictObject({
      apiBaseUrl: httpUrl,
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      timeoutMs: z.int().min(100).max(60_000).optional(),
    })
    .optional(),
});

/** PayPal: a certificate-signed CRC32 string (offline) or PayPal's verify API (online); payments. */
export const paypalSource = defineWebhookSource({
  name: 'paypal',
  body: {
    webhookId: z.string().min(1).max(200).optional(),
    paypal: z
      .object({
        verification: z.enum(['offline', 'online']).optional(),
        allowedCertHosts: z.array(z.string().max(253)).max(10).optional(),
        allowedCertOrigins: z.array(bodyUrl).max(10).optional(),
        certCommonNameSuffix: z.string().max(200).optional(),
        trustedCaPems: z.array(z.string().max(20_000)).max(10).optional(),
        verifyCertChain: z.boolean().optional(),
        maxAgeSeconds: z.number().int().min(1).max(86_400).optional(),
        maxFutureSeconds: z.number().int().min(0).max(3600).optional(),
      })
      .optional(),
  },
  requires: [
    { field: 'webhookId', message: 'webhookId is required for paypal (the id PayPal gave the webhook)' },
  ],
  settings: paypalSettings,
  settingsFrom: ({ row, clientSecret }) => {
    const { verification, ...options } = (row.webhook.paypal ?? {}) as PaypalStored;
    return {
      webhookId: row.webhook.webhookId,
      ...options,
      ...(verification === 'online'
        ? { online: { apiBaseUrl: row.endpoints.apiBaseUrl, clientId: row.clientId, clientSecret } }
        : {}),
    };
  },
  makeVerifier: (s, deps) => makePaypalVerifier({ ...s, certStore: deps.paypalCerts }),
  effect: { types: PAYPAL_EFFECT_TYPES, apply: applyPaypalEvent },
  seedSandbox: async (context) => ({ paypalWebhookId: await seedPaypal(context) }),
});

/** PayPal signs with the sandbox's certificates (new each start); the webhook id is kept. */
async function seedPaypal({ db, key, facts }: SandboxSeedContext): Promise<string> {
  const webhook = {
    webhookId: `WH-${randomBytes(9).toString('hex').toUpperCase()}`,
    paypal: {
      allowedCertOrigins: [new URL(facts.paypal.certUrl).origin],
      trustedCaPems: [facts.paypal.caPem],
    },
  };
  const published = PUBLISHED_SANDBOX_SECRETS.map((s) => `'${s}'`).join(', ');
  const [row] = await db
    .insert(integrations)
    .values({ key, provider: 'paypal', webhook })
    .onConflictDoUpdate({
      target: integrations.key,
      set: {
        webhook: sql`excluded.webhook || jsonb_build_object('webhookId', coalesce(
          case when ${integrations.webhook}->>'webhookId' in (${sql.raw(published)}) then null
               else ${integrations.webhook}->>'webhookId' end,
          excluded.webhook->>'webhookId'))`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return String(row!.webhook.webhookId);
}
