import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { applyStripeEvent, STRIPE_EFFECT_TYPES } from '../effects/stripe-payments.ts';
import { seconds, secret } from '../verifiers/settings.ts';
import { makeStripeVerifier } from '../verifiers/stripe.ts';
import { defineWebhookSource } from './source.ts';

const stripeSettings = z.strictObject({
  /** Every active endpoint secret (whsec_…): two during a roll. */
  secrets: z.array(secret).min(1).max(10),
  toleranceSeconds: seconds(3600).optional(),
  futureToleranceSeconds: seconds(3600).optional(),
});

/** Stripe: HMAC-SHA256 over `t.body` with each endpoint secret (whsec_…); payments. */
export const stripeSource = defineWebhookSource({
  name: 'stripe',
  body: {},
  requires: [{ field: 'webhookSecrets', message: 'webhookSecrets is required for stripe' }],
  settings: stripeSettings,
  settingsFrom: ({ secrets }) => ({ secrets }),
  makeVerifier: (settings) => makeStripeVerifier(settings),
  effect: { types: STRIPE_EFFECT_TYPES, apply: applyStripeEvent },
  seedSandbox: async (context) => ({
    stripe: await context.signingSecret(() => `whsec_${randomBytes(24).toString('base64url')}`),
  }),
});
