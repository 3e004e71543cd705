import { z } from 'zod';
import type { ConnectionRow } from '../db/schema.ts';

export const ConnectionView = z.object({
  id: z.string(),
  integration: z.string(),
  provider: z.string(),
  endUserId: z.string(),
  providerAccountId: z.string(),
  status: z.enum(['connected', 'degraded', 'reauthorization_required', 'disconnected']),
  expiresAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  nextAttemptAt: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

/** What the API shows of a connection: never its credentials. */
export function toConnectionView(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    integration: row.integrationKey,
    provider: row.provider,
    endUserId: row.endUserId,
    providerAccountId: row.providerAccountId,
    status: row.status,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastRefreshAt: row.lastRefreshAt?.toISOString() ?? null,
    lastError: row.lastError ?? null,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
