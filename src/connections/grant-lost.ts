import { eq, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';

/**
 * The one move to reauthorization_required: the provider said the grant is
 * dead (invalid_grant, revoked, a Slack webhook gone). Credentials are wiped
 * in the same transaction as the status and its audit entry, and the error
 * every later call gets names the provider and the reason.
 */
export async function markGrantLost(
  db: Db,
  input: {
    connectionId: string;
    provider: string;
    displayName: string;
    reason: string;
    message: string;
    now: Date;
  },
): Promise<AppError> {
  await db.transaction(async (tx) => {
    await tx
      .update(connections)
      .set({
        status: 'reauthorization_required',
        credentialsSealed: null,
        previousRefreshTokenSealed: null,
        lastError: { code: input.reason, message: input.message, at: input.now.toISOString() },
        nextAttemptAt: null,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        credentialsVersion: sql`${connections.credentialsVersion} + 1`,
        updatedAt: input.now,
      })
      .where(eq(connections.id, input.connectionId));
    await recordAudit(tx, {
      actor: 'tether',
      action: 'connection.reauthorization_required',
      subjectType: 'connection',
      subjectId: input.connectionId,
      metadata: { provider: input.provider, reason: input.reason },
    });
  });
  return new AppError(
    'reauthorization_required',
    `${input.displayName} no longer accepts this connection's grant (${input.reason}); the end user must reconnect.`,
  );
}
