import type { Sealer } from '../crypto/seal.ts';
import type { IntegrationRow } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { openWebhookSecrets } from '../integrations/integration-store.ts';
import type { WebhookSource } from './verifiers/types.ts';

/**
 * How an integration's stored settings become its verifier's settings, one
 * entry per webhook source. Secrets are opened here and go nowhere else.
 */
interface Stored {
  row: IntegrationRow;
  secrets: string[];
  clientSecret: string | undefined;
}

interface PubsubStored {
  audience?: string;
  serviceAccountEmail: string;
}

interface PaypalStored {
  verification?: 'offline' | 'online';
  [option: string]: unknown;
}

const SETTINGS: Record<WebhookSource, (stored: Stored) => unknown> = {
  stripe: ({ secrets }) => ({ secrets }),
  'docusign-connect': ({ secrets }) => ({ keys: secrets }),
  paypal: ({ row, clientSecret }) => {
    const { verification, ...options } = (row.webhook.paypal ?? {}) as PaypalStored;
    return {
      webhookId: row.webhook.webhookId,
      ...options,
      ...(verification === 'online'
        ? { online: { apiBaseUrl: row.endpoints.apiBaseUrl, clientId: row.clientId, clientSecret } }
        : {}),
    };
  },
  'gmail-pubsub': ({ row }) => {
    const pubsub = row.webhook.pubsub as PubsubStored | undefined;
    return {
      serviceAccount: pubsub?.serviceAccountEmail,
      ...(pubsub?.audience ? { audience: pubsub.audience } : {}),
      ...(row.endpoints.jwksUrl ? { endpoints: { jwksUrl: row.endpoints.jwksUrl } } : {}),
    };
  },
};

export function verifierSettings(sealer: Sealer, row: IntegrationRow, source: WebhookSource): unknown {
  const clientSecret = row.clientSecretSealed
    ? sealer.open(row.clientSecretSealed, sealContext.integrationClientSecret(row.key))
    : undefined;
  return SETTINGS[source]({ row, secrets: openWebhookSecrets(sealer, row), clientSecret });
}
