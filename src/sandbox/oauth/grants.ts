import { randomUUID } from 'node:crypto';
import type { SandboxProvider } from '../settings.ts';
import { randomToken } from '../tokens.ts';

// A grant is one account's consent to one client. Access and refresh tokens hang off it;
// revoking the grant kills all of them at once (refresh → invalid_grant, APIs → 401).
//
// A refresh token moves: active → rotated (a successor was issued; still accepted until the
// provider's grace ends) → dead; or active → revoked / expired at any time.

export interface Grant {
  id: string;
  provider: SandboxProvider;
  clientId: string;
  accountId: string;
  scopes: string[];
  createdAt: number;
  revokedAt: number | null;
  /** Provider facts fixed at consent (Slack webhook id, Notion bot id...). */
  data: Record<string, string>;
}

export interface AccessToken {
  value: string;
  grantId: string;
  issuedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Instagram: a long-lived token (from ig_exchange_token or ig_refresh_token). */
  longLived: boolean;
}

export interface RefreshToken {
  value: string;
  grantId: string;
  issuedAt: number;
  expiresAt: number | null;
  /** When a successor was issued (single-use rotation); null while it is the current one. */
  rotatedAt: number | null;
  revokedAt: number | null;
}

export interface NewGrant {
  provider: SandboxProvider;
  clientId: string;
  accountId: string;
  scopes: string[];
  data?: Record<string, string>;
}

export interface GrantStore {
  create(input: NewGrant, now: number): Grant;
  get(id: string): Grant | undefined;
  /** The newest unrevoked grant of this account to this client. */
  findActive(provider: SandboxProvider, clientId: string, accountId: string): Grant | undefined;
  list(): Grant[];
  issueAccess(
    grant: Grant,
    options: { now: number; ttlSec: number | null; prefix: string; longLived?: boolean },
  ): AccessToken;
  issueRefresh(grant: Grant, options: { now: number; ttlSec: number | null; prefix: string }): RefreshToken;
  access(value: string): AccessToken | undefined;
  refresh(value: string): RefreshToken | undefined;
  accessTokensOf(grantId: string): AccessToken[];
  refreshTokensOf(grantId: string): RefreshToken[];
  revoke(grantId: string, now: number): void;
  clear(): void;
  /** Everything held, as plain data (the sandbox's snapshot in the data dir). */
  dump(): GrantDump;
  /** Replaces what is held with a dump. */
  load(dump: GrantDump): void;
}

export interface GrantDump {
  grants: Grant[];
  accessTokens: AccessToken[];
  refreshTokens: RefreshToken[];
}

export function makeGrantStore(): GrantStore {
  const grants = new Map<string, Grant>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();
  const expiry = (now: number, ttlSec: number | null) => (ttlSec === null ? null : now + ttlSec * 1000);

  return {
    create(input, now) {
      const grant: Grant = { data: {}, ...input, id: `grt_${randomUUID()}`, createdAt: now, revokedAt: null };
      grants.set(grant.id, grant);
      return grant;
    },
    get: (id) => grants.get(id),
    findActive(provider, clientId, accountId) {
      return [...grants.values()]
        .reverse()
        .find(
          (g) =>
            g.provider === provider && g.clientId === clientId && g.accountId === accountId && !g.revokedAt,
        );
    },
    list: () => [...grants.values()],
    issueAccess(grant, { now, ttlSec, prefix, longLived = false }) {
      const token: AccessToken = {
        value: randomToken(prefix),
        grantId: grant.id,
        issuedAt: now,
        expiresAt: expiry(now, ttlSec),
        revokedAt: null,
        longLived,
      };
      accessTokens.set(token.value, token);
      return token;
    },
    issueRefresh(grant, { now, ttlSec, prefix }) {
      const token: RefreshToken = {
        value: randomToken(prefix),
        grantId: grant.id,
        issuedAt: now,
        expiresAt: expiry(now, ttlSec),
        rotatedAt: null,
        revokedAt: null,
      };
      refreshTokens.set(token.value, token);
      return token;
    },
    access: (value) => accessTokens.get(value),
    refresh: (value) => refreshTokens.get(value),
    accessTokensOf: (grantId) => [...accessTokens.values()].filter((t) => t.grantId === grantId),
    refreshTokensOf: (grantId) => [...refreshTokens.values()].filter((t) => t.grantId === grantId),
    revoke(grantId, now) {
      const grant = grants.get(grantId);
      if (!grant || grant.revokedAt !== null) return;
      grant.revokedAt = now;
      for (const t of accessTokens.values()) if (t.grantId === grantId) t.revokedAt ??= now;
      for (const t of refreshTokens.values()) if (t.grantId === grantId) t.revokedAt ??= now;
    },
    clear() {
      grants.clear();
      accessTokens.clear();
      refreshTokens.clear();
    },
    dump: () => ({
      grants: [...grants.values()],
      accessTokens: [...accessTokens.values()],
      refreshTokens: [...refreshTokens.values()],
    }),
    load(dump) {
      grants.clear();
      accessTokens.clear();
      refreshTokens.clear();
      for (const g of dump.grants) grants.set(g.id, g);
      for (const t of dump.accessTokens) accessTokens.set(t.value, t);
      for (const t of dump.refreshTokens) refreshTokens.set(t.value, t);
    },
  };
}
