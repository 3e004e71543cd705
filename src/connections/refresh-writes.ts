import { and, eq, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import {
  type ConnectionRow,
  connections,
  type IntegrationRow,
  integrations,
  type LastError,
} from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { emitConnectionEvent } from '../events/state-events.ts';
import type { ProviderDefinition, TokenSet } from '../providers/provider.ts';
import { movableBy, statusAfter } from './connection-status.ts';
import { type Credentials, sealCredentials } from './credentials.ts';
import { heldBy } from './refresh-lease.ts';

/**
 * The two writes that end a refresh with an answer from the provider (the
 * third, a lost grant, is grant-lost.ts). Each is one conditional UPDATE on
 * the lease holder and the status move's from-states, with its audit entries
 * in the same transaction; each returns null (and writes nothing) when the
 * caller no longer holds the lease: someone else's refresh has the last word.
 */
export interface RefreshWriteInput {
  row: ConnectionRow;
  owner: string;
  provider: ProviderDefinition;
  now: Date;
}

/** Seals and stores the new credentials (the previous refresh token kept when it rotated). */
export async function writeRefreshed(
  db: Db,
  sealer: Sealer,
  input: RefreshWriteInput & { old: Credentials; tokens: TokenSet },
): Promise<{ credentials: Credentials; expiresAt: Date | null } | null> {
  const { row, owner, provider, now, old, tokens } = input;
  const refreshToken = tokens.refreshToken === undefined ? old.refreshToken : tokens.refreshToken;
  const rotated = refreshToken !== old.refreshToken && old.refreshToken !== null;
  const credentials: Credentials = {
    accessToken: tokens.accessToken,
    refreshToken,
    secretExtras: { ...old.secretExtras, ...tokens.secretExtras },
  };
  const expiresAt = tokens.expiresIn !== undefined ? new Date(now.getTime() + tokens.expiresIn * 1000) : null;
  return db.transaction(async (tx) => {
    const [written] = await tx
      .update(connections)
      .set({
        ...statusAfter('refreshed'),
        credentialsSealed: sealCredentials(sealer, row.id, credentials),
        ...(rotated
          ? {
              previousRefreshTokenSealed: sealer.seal(
                old.refreshToken!,
                sealContext.connectionPreviousRefreshToken(row.id),
              ),
              refreshTokenRotatedAt: now,
            }
          : {}),
        accessTokenIssuedAt: now,
        expiresAt,
        ...(tokens.refreshExpiresIn !== undefined
          ? { refreshExpiresAt: new Date(now.getTime() + tokens.refreshExpiresIn * 1000) }
          : {}),
        lastRefreshAt: now,
        failureCount: 0,
        nextAttemptAt: null,
        lastError: null,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        credentialsVersion: sql`${connections.credentialsVersion} + 1`,
        updatedAt: now,
      })
      .where(and(heldBy(row.id, owner), movableBy('refreshed')))
      .returning({ status: connections.status });
    if (!written) return null;
    const subject = { actor: 'tether', subjectType: 'connection', subjectId: row.id };
    await recordAudit(tx, {
      ...subject,
      action: 'connection.refreshed',
      metadata: { provider: provider.name, rotated },
    });
    if (row.status === 'degraded') {
      await recordAudit(tx, {
        ...subject,
        action: 'connection.recovered',
        metadata: { provider: provider.name, afterFailures: row.failureCount },
      });
      await emitConnectionEvent(tx, 'connection.recovered', { ...row, status: 'connected', updatedAt: now });
    }
    return { credentials, expiresAt };
  });
}

/**
 * Records a passing failure: degraded, with the backoff's next attempt. A configuration failure
 * (invalid_client) is the integration's too: its lastError is set, audited once.
 */
export async function writeRefreshFailure(
  db: Db,
  input: RefreshWriteInput & {
    integration: IntegrationRow;
    lastError: LastError;
    providerCode: string;
    nextAttemptAt: Date;
    misconfigured: boolean;
  },
): Promise<boolean> {
  const { row, owner, provider, now, lastError, nextAttemptAt } = input;
  return db.transaction(async (tx) => {
    const [written] = await tx
      .update(connections)
      .set({
        ...statusAfter('refreshFailed'),
        lastError,
        failureCount: row.failureCount + 1,
        nextAttemptAt,
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
        updatedAt: now,
      })
      .where(and(heldBy(row.id, owner), movableBy('refreshFailed')))
      .returning({ id: connections.id });
    if (!written) return false;
    if (row.status !== 'degraded') {
      await recordAudit(tx, {
        actor: 'tether',
        subjectType: 'connection',
        subjectId: row.id,
        action: 'connection.degraded',
        metadata: { provider: provider.name, reason: lastError.code },
      });
      await emitConnectionEvent(
        tx,
        'connection.degraded',
        { ...row, status: 'degraded', updatedAt: now },
        lastError.code,
      );
    }
    if (input.misconfigured) {
      const code = input.providerCode;
      const [integration] = await tx
        .update(integrations)
        .set({ lastError: { code, message: lastError.message, at: now.toISOString() } })
        .where(eq(integrations.key, row.integrationKey))
        .returning({ key: integrations.key });
      if (integration && !input.integration.lastError) {
        await recordAudit(tx, {
          actor: 'tether',
          action: 'integration.misconfigured',
          subjectType: 'integration',
          subjectId: integration.key,
          metadata: { provider: provider.name, reason: code },
        });
      }
    }
    return true;
  });
}
