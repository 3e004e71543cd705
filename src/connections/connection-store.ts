import type { SQL } from 'drizzle-orm';
import { eq } from 'drizzle-orm';
import type { Sealer } from '../crypto/seal.ts';
import type { Database, Db } from '../db/client.ts';
import { type ConnectionRow, connections, type IntegrationRow, integrations } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { getProvider } from '../providers/index.ts';
import type {
  IntegrationOptions,
  OAuthProviderName,
  ProviderDefinition,
  ProviderRuntime,
} from '../providers/provider.ts';
import { type ConnectionChanges, listenForConnectionChanges } from './connection-changes.ts';
import { disconnect } from './disconnect.ts';
import { markGrantLost } from './grant-lost.ts';
import { writeRefreshed, writeRefreshFailure } from './refresh-writes.ts';
import { makeTokenCache, type TokenCache } from './token-cache.ts';

/**
 * Connections as the routes, the proxy, Slack and the token lifecycle see
 * them: a row read with its integration and provider, and the writes that
 * change one. Each write here drops the connection's cached token in this
 * process the moment it commits; the other instances hear of it from the
 * change announcement (connection-changes.ts), which the database sends for
 * every write, these and any other.
 *
 * Reads here always go to the database (a view must show what is stored);
 * only the token lifecycle serves from the cache, and only a fresh token.
 */
export interface LoadedConnection {
  row: ConnectionRow;
  integration: IntegrationRow;
  provider: ProviderDefinition;
  options: IntegrationOptions;
}

export interface ConnectionStoreDeps {
  db: Db;
  sealer: Sealer;
  logger: Logger;
  runtime: ProviderRuntime;
  /** Absent: no cache (a token service of its own in a test, TETHER_TOKEN_CACHE_SIZE=0). */
  cache?: TokenCache<LoadedConnection>;
}

export type ConnectionStore = ReturnType<typeof makeConnectionStore>;

export function makeConnectionStore(deps: ConnectionStoreDeps) {
  const { db } = deps;
  const cache = deps.cache ?? makeTokenCache<LoadedConnection>({ size: 0, maxStalenessMs: 0 });

  async function load(id: string): Promise<LoadedConnection> {
    const [found] = await db
      .select({ row: connections, integration: integrations })
      .from(connections)
      .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
      .where(eq(connections.id, id));
    if (!found) throw new AppError('not_found', `No connection with id "${id}".`);
    const provider = getProvider(found.integration.provider as OAuthProviderName);
    return { ...found, provider, options: found.integration.options as IntegrationOptions };
  }

  /** Runs a write, then drops what this process holds about the connection. */
  async function changing<T>(id: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      cache.invalidate(id);
    }
  }

  return {
    db,
    cache,
    load,
    disconnect: (row: ConnectionRow, actor: string) => changing(row.id, () => disconnect(deps, row, actor)),
    markGrantLost: (input: Parameters<typeof markGrantLost>[1], guard?: SQL) =>
      changing(input.connectionId, () => markGrantLost(db, input, guard)),
    writeRefreshed: (input: Parameters<typeof writeRefreshed>[2]) =>
      changing(input.row.id, () => writeRefreshed(db, deps.sealer, input)),
    async writeRefreshFailure(input: Parameters<typeof writeRefreshFailure>[1]) {
      const written = await changing(input.row.id, () => writeRefreshFailure(db, input));
      if (input.misconfigured) cache.invalidateIntegration(input.row.integrationKey);
      return written;
    },
  };
}

/**
 * The store of a running tether: with its token cache (TETHER_TOKEN_CACHE_SIZE, 0 = none) and the
 * listener that keeps the cache in step with every instance's writes.
 */
export async function openConnectionStore(
  deps: Omit<ConnectionStoreDeps, 'db' | 'cache'> & {
    database: Database;
    cacheSize: number;
    maxStalenessMs: number;
  },
): Promise<{ store: ConnectionStore; changes: ConnectionChanges | undefined }> {
  const { database, cacheSize, maxStalenessMs, ...rest } = deps;
  const cache = makeTokenCache<LoadedConnection>({ size: cacheSize, maxStalenessMs });
  const changes = cache.enabled ? await listenForConnectionChanges(database, cache, deps.logger) : undefined;
  return { store: makeConnectionStore({ ...rest, db: database.db, cache }), changes };
}
