import { and, eq, type SQL, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { emitConnectionEvent } from '../events/state-events.ts';
import { movableBy, statusAfter } from './connection-status.ts';

/**
 * The one move to reauthorization_required: the provider said the grant is
 * dead (invalid_grant, revoked, a Slack webhook gone, an access token that
 * cannot be renewed rejected). Credentials are wiped in the same transaction
 * as the status and its audit entry, and the error every later call gets
 * names the provider and the reason.
 *
 * `guard` narrows the write to the caller's view of the row (the refresh
 * lease it holds, the credentials version it saw): a caller that lost the
 * race changes nothing and gets null, so it can re-read what the winner stored.
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
  guard?: SQL,
): Promise<AppError | null> {
  const written = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(connections)
      .set({
        ...statusAfter('grantLost'),
        credentialsSealed: null,
        previousRefreshTokenSealed: null,
        lastError: { code: input.reason, message: input.message, at: input.now.toISOString() },
        nextAttemptAt: null,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        credentialsVersion: sql`${connections.credentialsVersion} + 1`,
        updatedAt: input.now,
      })
      .where(and(eq(connections.id, input.connectionId), movableBy('grantLost'), guard))
      .returning();
    if (!row) return false;
    await recordAudit(tx, {
      actor: 'tether',
      action: 'connection.reauthorization_required',
      subjectType: 'connection',
      subjectId: input.connectionId,
      metadata: { provider: input.provider, reason: input.reason },
    });
    await emitConnectionEvent(tx, 'connection.reauthorization_required', row, input.reason);
    return true;
  });
  return written ? grantLostError(input.displayName, input.reason) : null;
}

export function grantLostError(displayName: string, reason: string): AppError {
  return new AppError(
    'reauthorization_required',
    `${displayName} no longer accepts this connection's grant (${reason}); the end user must reconnect.`,
  );
}
