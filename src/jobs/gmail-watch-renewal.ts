import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { TokenService } from '../connections/token-service.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { connections, gmailWatches, integrations } from '../db/schema.ts';
import { isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { watchMailbox } from '../providers/gmail-watch.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { syncsOf } from '../syncs/registry.ts';
import { makeSyncContext } from '../syncs/sync-http.ts';
import type { PgBoss } from './boss.ts';
import { GMAIL_MAILBOX_SYNC_QUEUE, GMAIL_WATCH_QUEUE } from './queues.ts';

/**
 * Gmail watch renewal: a pg-boss cron job (`syncs.gmail-watch`, hourly, one at a time across
 * instances) calls users.watch for every connection whose Gmail sync takes push notifications and
 * whose integration names a Pub/Sub topic (`gmailWatchTopic`), when its watch is missing, a day
 * old, two days from lapsing, or made for another topic. So each mailbox's watch is renewed daily,
 * well before the seven days Gmail gives it, and a missed hour (every process down) is caught up
 * at the next. A renewal that fails is recorded on the watch (`last_error`) and tried again next
 * hour; it never touches the connection's status (the token service does that).
 */

const DAY_MS = 86_400_000;
/** Renew a watch this old. */
const RENEW_AFTER_MS = DAY_MS;
/** …or this close to its expiration, whatever its age. */
const EXPIRY_MARGIN_MS = 2 * DAY_MS;
const CALL_TIMEOUT_MS = 60_000;

export interface GmailWatchDeps {
  db: Db;
  tokens: TokenService;
  sealer: Sealer;
  runtime: ProviderRuntime;
  logger: Logger;
}

export interface RenewalResult {
  renewed: number;
  failed: number;
}

/** The connections whose watch is due at `now`, with their topic, at most `limit`. */
export async function findDueWatches(
  db: Db,
  now: Date,
  limit: number,
): Promise<{ connectionId: string; topicName: string }[]> {
  const topic = sql<string>`${integrations.options}->>'gmailWatchTopic'`;
  const rows = await db
    .select({
      connectionId: connections.id,
      provider: integrations.provider,
      scopes: integrations.scopes,
      topicName: topic,
    })
    .from(connections)
    .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
    .leftJoin(gmailWatches, eq(gmailWatches.connectionId, connections.id))
    .where(
      and(
        inArray(connections.status, ['connected', 'degraded']),
        isNotNull(connections.credentialsSealed),
        sql`${topic} is not null`,
        sql`(${gmailWatches.connectionId} is null
          or ${gmailWatches.renewedAt} <= ${new Date(now.getTime() - RENEW_AFTER_MS).toISOString()}::timestamptz
          or ${gmailWatches.expiresAt} <= ${new Date(now.getTime() + EXPIRY_MARGIN_MS).toISOString()}::timestamptz
          or ${gmailWatches.topicName} <> ${topic})`,
      ),
    )
    .orderBy(sql`${gmailWatches.renewedAt} nulls first`, connections.id)
    .limit(limit * 4);
  return rows
    .filter((row) =>
      syncsOf(row.provider, row.scopes).some((s) => s.pushQueues?.includes(GMAIL_MAILBOX_SYNC_QUEUE)),
    )
    .slice(0, limit)
    .map(({ connectionId, topicName }) => ({ connectionId, topicName }));
}

/** Makes or renews one connection's watch and stores it; a failure is stored on the watch and thrown. */
export async function renewWatch(
  deps: GmailWatchDeps,
  connectionId: string,
  topicName: string,
): Promise<void> {
  const now = deps.runtime.now();
  try {
    const ctx = await makeSyncContext(deps, { connectionId, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const watch = await watchMailbox(ctx, topicName);
    const values = {
      topicName,
      historyId: watch.historyId,
      expiresAt: watch.expiresAt,
      renewedAt: now,
      lastError: null,
      updatedAt: now,
    };
    await deps.db
      .insert(gmailWatches)
      .values({ connectionId, ...values })
      .onConflictDoUpdate({ target: gmailWatches.connectionId, set: values });
  } catch (error) {
    const lastError = {
      code: isAppError(error) ? error.code : 'internal_error',
      message: isAppError(error) ? error.message : 'The watch could not be renewed; the error was logged.',
      at: now.toISOString(),
    };
    await deps.db
      .update(gmailWatches)
      .set({ lastError, updatedAt: now })
      .where(eq(gmailWatches.connectionId, connectionId));
    throw error;
  }
}

export async function renewDueWatches(
  deps: GmailWatchDeps,
  options: { limit?: number } = {},
): Promise<RenewalResult> {
  const due = await findDueWatches(deps.db, deps.runtime.now(), options.limit ?? 500);
  const result: RenewalResult = { renewed: 0, failed: 0 };
  for (const { connectionId, topicName } of due) {
    try {
      await renewWatch(deps, connectionId, topicName);
      result.renewed++;
    } catch (error) {
      result.failed++;
      deps.logger.warn(
        { connectionId, err: isAppError(error) ? { code: error.code } : error },
        'gmail watch not renewed',
      );
    }
  }
  if (due.length) deps.logger.info(result, 'gmail watches renewed');
  return result;
}

export async function startGmailWatchRenewal(
  boss: PgBoss,
  deps: GmailWatchDeps,
  options: { pollingIntervalSeconds?: number } = {},
): Promise<{ renew: () => Promise<RenewalResult> }> {
  await boss.createQueue(GMAIL_WATCH_QUEUE, { policy: 'singleton' });
  const renew = () => renewDueWatches(deps);
  await boss.work(
    GMAIL_WATCH_QUEUE,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 30 },
    async () => {
      await renew();
    },
  );
  await boss.schedule(GMAIL_WATCH_QUEUE, '17 * * * *');
  return { renew };
}
