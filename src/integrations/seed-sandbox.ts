import { sql } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { type SandboxProvider, sandboxClientCredentials, sandboxEndpoints } from '../sandbox/index.ts';

/**
 * With the sandbox on, one integration per provider (key `sandbox-<provider>`)
 * pointed at the simulators, so `npm start` → connect → a working connection
 * with no internet. Idempotent: each start creates what is missing and points
 * the endpoints at the sandbox's current URL (the port may have changed).
 */
const SEEDS: { key: string; provider: string; sandbox: SandboxProvider; scopes?: string[] }[] = [
  { key: 'sandbox-google', provider: 'google', sandbox: 'google' },
  { key: 'sandbox-gmail', provider: 'gmail', sandbox: 'google' },
  { key: 'sandbox-google-calendar', provider: 'google-calendar', sandbox: 'google' },
  { key: 'sandbox-google-drive', provider: 'google-drive', sandbox: 'google' },
  { key: 'sandbox-youtube', provider: 'youtube', sandbox: 'google' },
  { key: 'sandbox-xero', provider: 'xero', sandbox: 'xero' },
  { key: 'sandbox-docusign', provider: 'docusign', sandbox: 'docusign' },
  { key: 'sandbox-notion', provider: 'notion', sandbox: 'notion' },
  { key: 'sandbox-instagram', provider: 'instagram', sandbox: 'instagram' },
  { key: 'sandbox-tiktok', provider: 'tiktok', sandbox: 'tiktok' },
  { key: 'sandbox-slack', provider: 'slack', sandbox: 'slack' },
  { key: 'sandbox-oauth2', provider: 'oauth2', sandbox: 'oauth2', scopes: ['openid', 'profile'] },
];

/** `sandboxUrl`: where the simulators answer, e.g. `${publicUrl}/sandbox` for the mounted sandbox. */
export async function seedSandboxIntegrations(db: Db, sealer: Sealer, sandboxUrl: string): Promise<string[]> {
  const endpoints = sandboxEndpoints(sandboxUrl);
  for (const seed of SEEDS) {
    const { clientId, clientSecret } = sandboxClientCredentials(seed.sandbox);
    const urls = Object.fromEntries(
      Object.entries(endpoints[seed.sandbox]).filter(([, url]) => url !== undefined),
    ) as Record<string, string>;
    await db
      .insert(integrations)
      .values({
        key: seed.key,
        provider: seed.provider,
        clientId,
        clientSecretSealed: sealer.seal(clientSecret, sealContext.integrationClientSecret(seed.key)),
        scopes: seed.scopes ?? [],
        endpoints: urls,
      })
      .onConflictDoUpdate({ target: integrations.key, set: { endpoints: urls, updatedAt: sql`now()` } });
  }
  return SEEDS.map((seed) => seed.key);
}
