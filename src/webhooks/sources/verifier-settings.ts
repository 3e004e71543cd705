import type { Sealer } from '../../crypto/seal.ts';
import type { IntegrationRow } from '../../db/schema.ts';
import { openClientSecret, openWebhookSecrets } from '../../integrations/integration-secrets.ts';
import { type WebhookSource, webhookSource } from './index.ts';

/**
 * How an integration's stored settings become its verifier's settings (each source's
 * `settingsFrom`). Secrets are opened here and go nowhere else.
 */
export function verifierSettings(sealer: Sealer, row: IntegrationRow, source: WebhookSource): unknown {
  return webhookSource(source)!.settingsFrom({
    row,
    secrets: openWebhookSecrets(sealer, row),
    clientSecret: openClientSecret(sealer, row),
  });
}
