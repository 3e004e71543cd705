import { z } from 'zod';
import { GMAIL_MAILBOX_SYNC_QUEUE, GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS } from '../../jobs/queues.ts';
import { applyGmailNotification, GMAIL_EFFECT_TYPES } from '../effects/gmail-history.ts';
import { GOOGLE_JWKS_URL, makeGmailPubsubVerifier } from '../verifiers/gmail-pubsub.ts';
import { httpUrl, seconds } from '../verifiers/settings.ts';
import { defineWebhookSource } from './source.ts';

interface PubsubStored {
  audience?: string;
  serviceAccountEmail: string;
}

const gmailPubsubSettings = z.strictObject({
  /** Default: the URL the push was addressed to (the subscription's default audience). */
  audience: z.string().min(1).optional(),
  serviceAccount: z.email(),
  endpoints: z.strictObject({ jwksUrl: httpUrl.optional() }).optional(),
  clockToleranceSeconds: seconds(300).optional(),
});

/** Gmail push through Pub/Sub: a Google-signed OIDC token per push; mailbox history, then a sync. */
export const gmailPubsubSource = defineWebhookSource({
  name: 'gmail-pubsub',
  body: {
    pubsub: z
      .object({ audience: z.string().min(1).max(500).optional(), serviceAccountEmail: z.email() })
      .optional(),
  },
  requires: [{ field: 'pubsub', message: 'pubsub.serviceAccountEmail is required for gmail-pubsub' }],
  settings: gmailPubsubSettings,
  settingsFrom: ({ row }) => {
    const pubsub = row.webhook.pubsub as PubsubStored | undefined;
    return {
      serviceAccount: pubsub?.serviceAccountEmail,
      ...(pubsub?.audience ? { audience: pubsub.audience } : {}),
      ...(row.endpoints.jwksUrl ? { endpoints: { jwksUrl: row.endpoints.jwksUrl } } : {}),
    };
  },
  makeVerifier: (s, deps) =>
    makeGmailPubsubVerifier({
      audience: s.audience,
      serviceAccount: s.serviceAccount,
      jwksUrl: s.endpoints?.jwksUrl ?? GOOGLE_JWKS_URL,
      jwksCache: deps.jwks,
      clockToleranceSeconds: s.clockToleranceSeconds,
    }),
  effect: {
    types: GMAIL_EFFECT_TYPES,
    apply: applyGmailNotification,
    followUpQueues: [{ name: GMAIL_MAILBOX_SYNC_QUEUE, options: GMAIL_MAILBOX_SYNC_QUEUE_OPTIONS }],
  },
  // Pub/Sub pushes carry a token signed by the sandbox's Google keys, published at its JWKS URL.
  seedSandbox: async ({ facts, upsert }) => {
    await upsert({
      webhook: { pubsub: { serviceAccountEmail: facts.gmailPubsub.serviceAccount } },
      endpoints: { jwksUrl: facts.gmailPubsub.jwksUrl },
    });
    return {};
  },
});
