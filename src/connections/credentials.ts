import type { Sealer } from '../crypto/seal.ts';
import type { ConnectionRow } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import type { ConnectionContext } from '../providers/provider.ts';

/** A connection's secrets, sealed together as one JSON value. */
export interface Credentials {
  accessToken: string;
  refreshToken: string | null;
  /** Slack's incoming webhook URL and the like. */
  secretExtras?: Record<string, string>;
}

export function sealCredentials(sealer: Sealer, connectionId: string, credentials: Credentials): string {
  return sealer.seal(JSON.stringify(credentials), sealContext.connectionCredentials(connectionId));
}

export function openCredentials(sealer: Sealer, row: ConnectionRow): Credentials | null {
  if (!row.credentialsSealed) return null;
  return JSON.parse(
    sealer.open(row.credentialsSealed, sealContext.connectionCredentials(row.id)),
  ) as Credentials;
}

export function openPreviousRefreshToken(sealer: Sealer, row: ConnectionRow): string | null {
  if (!row.previousRefreshTokenSealed) return null;
  return sealer.open(row.previousRefreshTokenSealed, sealContext.connectionPreviousRefreshToken(row.id));
}

export function connectionContext(row: ConnectionRow, credentials: Credentials): ConnectionContext {
  return {
    accessToken: credentials.accessToken,
    refreshToken: credentials.refreshToken,
    issuedAt: row.accessTokenIssuedAt ?? row.createdAt,
    expiresAt: row.expiresAt,
    metadata: row.metadata,
  };
}
