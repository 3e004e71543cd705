import type { Sealer } from '../crypto/seal.ts';
import type { IntegrationRow } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';

/** An integration's OAuth client secret, opened (undefined when it has none). */
export function openClientSecret(sealer: Sealer, row: IntegrationRow): string | undefined {
  return row.clientSecretSealed
    ? sealer.open(row.clientSecretSealed, sealContext.integrationClientSecret(row.key))
    : undefined;
}

/** An integration's webhook secrets, opened (none when it has none). */
export function openWebhookSecrets(sealer: Sealer, row: IntegrationRow): string[] {
  if (!row.webhookSecretsSealed) return [];
  return JSON.parse(
    sealer.open(row.webhookSecretsSealed, sealContext.integrationWebhookSecrets(row.key)),
  ) as string[];
}

/** An integration's webhook secrets, sealed for its `webhook_secrets_sealed` column. */
export function sealWebhookSecrets(sealer: Sealer, key: string, secrets: readonly string[]): string {
  return sealer.seal(JSON.stringify(secrets), sealContext.integrationWebhookSecrets(key));
}
