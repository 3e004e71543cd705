import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { applyDocusignEvent, DOCUSIGN_EFFECT_TYPES } from '../effects/docusign-envelopes.ts';
import { makeDocusignConnectVerifier } from '../verifiers/docusign-connect.ts';
import { secret } from '../verifiers/settings.ts';
import { defineWebhookSource } from './source.ts';

const docusignConnectSettings = z.strictObject({
  /** Connect HMAC keys; two during a rotation. */
  keys: z.array(secret).min(1).max(10),
});

/** DocuSign Connect: HMAC-SHA256 of the body under each Connect key; envelope statuses. */
export const docusignConnectSource = defineWebhookSource({
  name: 'docusign-connect',
  body: {},
  requires: [{ field: 'webhookSecrets', message: 'webhookSecrets is required for docusign-connect' }],
  settings: docusignConnectSettings,
  settingsFrom: ({ secrets }) => ({ keys: secrets }),
  makeVerifier: (settings) => makeDocusignConnectVerifier(settings),
  effect: { types: DOCUSIGN_EFFECT_TYPES, apply: applyDocusignEvent },
  seedSandbox: async (context) => ({
    docusignConnect: await context.signingSecret(() => randomBytes(32).toString('base64')),
  }),
});
