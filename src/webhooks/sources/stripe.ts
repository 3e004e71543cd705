import { randomBytes } from 'node:crypto';
import { applyStripeEvent, STRIPE_EFFECT_TYPES } from '../effects/stripe-payments.ts';
import { stripeSettings } from '../verifiers/settings.ts';
import { makeStripeVerifier } from '../verifiers/stripe.ts';
import { defineWebhookSource } from './source.ts';

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
