import { sql } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { sandboxIntegrationSeeds } from '../sandbox/index.ts';

/**
 * With the sandbox on, one integration per provider (key `sandbox-<provider>`)
 * pointed at the simulators, so `npm start` → connect → a working connection
 * with no internet. Idempotent: each start creates what is missing and points
 * the endpoints at the sandbox's current URL (the port may have changed). The list derives from the
 * sandbox modules (`simulates`), so a new provider is seeded once its simulator says so.
 */
/** `sandboxUrl`: where the simulators answer, e.g. `${publicUrl}/sandbox` for the mounted sandbox. */
export async function seedSandboxIntegrations(db: Db, sealer: Sealer, sandboxUrl: string): Promise<string[]> {
  const seeds = sandboxIntegrationSeeds(sandboxUrl);
  for (const seed of seeds) {
    await db
      .insert(integrations)
      .values({
        key: seed.key,
        provider: seed.provider,
        clientId: seed.clientId,
        clientSecretSealed: sealer.seal(seed.clientSecret, sealContext.integrationClientSecret(seed.key)),
        scopes: seed.scopes,
        endpoints: seed.endpoints,
      })
      .onConflictDoUpdate({
        target: integrations.key,
        set: { endpoints: seed.endpoints, updatedAt: sql`now()` },
      });
  }
  return seeds.map((seed) => seed.key);
}
