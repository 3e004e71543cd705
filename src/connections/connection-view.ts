import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { ConnectionRow } from '../db/schema.ts';
import { getProvider } from '../providers/index.ts';
import type { OAuthProviderName } from '../providers/provider.ts';
import { openCredentials } from './credentials.ts';
import { canRenew } from './refresh-policy.ts';

export const ConnectionView = z.object({
  id: z.string(),
  integration: z.string(),
  provider: z.string(),
  endUserId: z.string(),
  providerAccountId: z.string(),
  status: z.enum(['connected', 'degraded', 'reauthorization_required', 'disconnected']),
  expiresAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  refreshable: z
    .boolean()
    .describe('Whether tether can renew the access token; false: no refresh token is held (see lastError).'),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  nextAttemptAt: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

/** What the API shows of a connection: never its credentials (they are opened only to say whether it can renew). */
export function toConnectionView(row: ConnectionRow, sealer: Sealer): ConnectionView {
  const credentials = openCredentials(sealer, row);
  const provider = getProvider(row.provider as OAuthProviderName);
  return {
    id: row.id,
    integration: row.integrationKey,
    provider: row.provider,
    endUserId: row.endUserId,
    providerAccountId: row.providerAccountId,
    status: row.status,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastRefreshAt: row.lastRefreshAt?.toISOString() ?? null,
    refreshable: credentials !== null && canRenew(provider, credentials.refreshToken),
    lastError: row.lastError ?? null,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
