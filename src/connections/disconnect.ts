import { and, eq, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type ConnectionRow, connections } from '../db/schema.ts';
import { emitConnectionEvent } from '../events/state-events.ts';
import { getIntegrationRow, integrationContext } from '../integrations/integration-store.ts';
import type { Logger } from '../logger.ts';
import { getProvider } from '../providers/index.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { movableBy, statusAfter } from './connection-status.ts';
import { connectionContext, openCredentials } from './credentials.ts';

/**
 * DELETE /v1/connections/:id: revoke at the provider where it can (a failed
 * revocation is logged, never fatal: the person asked to disconnect), then
 * wipe the credentials and mark the connection disconnected.
 */
export async function disconnect(
  deps: { db: Db; sealer: Sealer; runtime: ProviderRuntime; logger: Logger },
  row: ConnectionRow,
  actor: string,
): Promise<{ revoked: boolean }> {
  let revoked = false;
  const credentials = openCredentials(deps.sealer, row);
  const integration = await getIntegrationRow(deps.db, row.integrationKey);
  const ctx = integrationContext(deps.sealer, integration);
  const provider = getProvider(ctx.provider);
  if (credentials && provider.revoke) {
    try {
      await provider.revoke(ctx, deps.runtime, connectionContext(row, credentials));
      revoked = true;
    } catch (error) {
      deps.logger.warn(
        { connectionId: row.id, provider: provider.name, err: error },
        'revocation at the provider failed',
      );
    }
  }
  await deps.db.transaction(async (tx) => {
    const [written] = await tx
      .update(connections)
      .set({
        ...statusAfter('disconnected'),
        credentialsSealed: null,
        previousRefreshTokenSealed: null,
        nextAttemptAt: null,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        credentialsVersion: sql`${connections.credentialsVersion} + 1`,
        updatedAt: new Date(),
      })
      .where(and(eq(connections.id, row.id), movableBy('disconnected')))
      .returning();
    // Zero rows: a concurrent disconnect got there first; it wrote the audit entry.
    if (!written) return;
    await recordAudit(tx, {
      actor,
      action: 'connection.disconnected',
      subjectType: 'connection',
      subjectId: row.id,
      metadata: { provider: provider.name, revokedAtProvider: revoked },
    });
    await emitConnectionEvent(tx, 'connection.disconnected', written);
  });
  return { revoked };
}
