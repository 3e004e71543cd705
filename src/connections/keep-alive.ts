import { and, eq, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { connections, integrations } from '../db/schema.ts';
import type { PgBoss } from '../jobs/boss.ts';
import { REFRESH_QUEUE, type RefreshJob, SWEEP_QUEUE } from '../jobs/queues.ts';
import type { Logger } from '../logger.ts';
import { getProvider } from '../providers/index.ts';
import type { IntegrationOptions, OAuthProviderName } from '../providers/provider.ts';
import { wantsRefresh } from './refresh-policy.ts';
import type { TokenService } from './token-service.ts';

/**
 * Keep-alive: a pg-boss cron job (`connections.sweep`, every minute, one at
 * a time across instances) finds connections whose token will enter its
 * refresh margin soon, or whose refresh token would lapse from disuse (Xero
 * 60 days, Google ~6 months), and queues one `connections.refresh` job per
 * connection (a singleton per connection id), and retries degraded
 * connections once their backoff (next_attempt_at) has passed. Workers refresh through the
 * token service, so the lease and backoff rules hold here too. Batches and
 * worker concurrency are bounded.
 */
/** Refresh this long before a token would enter its margin. */
const LOOKAHEAD_MS = 2 * 60_000;
/** Refresh an idle refresh token this long before it would lapse. */
const IDLE_SAFETY_MS = 7 * 86_400_000;

export interface KeepAliveOptions {
  batchSize?: number;
  concurrency?: number;
  pollingIntervalSeconds?: number;
}

export interface DueConnection {
  id: string;
  reason: 'expiring' | 'idle' | 'retry';
}

/** The connections due for a keep-alive refresh now, at most `limit`. */
export async function findDueConnections(db: Db, now: Date, limit: number): Promise<DueConnection[]> {
  const soon = new Date(now.getTime() + LOOKAHEAD_MS);
  // A coarse SQL filter (anything expiring within 8 days, or refreshed over 20 days ago), then each
  // provider's own rule in code.
  const candidates = await db
    .select({ row: connections, options: integrations.options, provider: integrations.provider })
    .from(connections)
    .innerJoin(integrations, eq(integrations.key, connections.integrationKey))
    .where(
      and(
        inArray(connections.status, ['connected', 'degraded']),
        isNotNull(connections.credentialsSealed),
        or(sql`${connections.nextAttemptAt} is null`, lt(connections.nextAttemptAt, now)),
        or(
          eq(connections.status, 'degraded'),
          lt(connections.expiresAt, new Date(now.getTime() + 8 * 86_400_000)),
          lt(connections.lastRefreshAt, new Date(now.getTime() - 20 * 86_400_000)),
        ),
      ),
    )
    .orderBy(connections.expiresAt)
    .limit(limit * 4);
  const due: DueConnection[] = [];
  for (const { row, options, provider: name } of candidates) {
    const provider = getProvider(name as OAuthProviderName);
    // A degraded connection whose backoff has ended is retried now, not at the next API call.
    if (row.status === 'degraded') due.push({ id: row.id, reason: 'retry' });
    else if (wantsRefresh(provider, row, options as IntegrationOptions, soon))
      due.push({ id: row.id, reason: 'expiring' });
    else if (isIdle(provider.refresh.idleLifetimeSeconds, row.lastRefreshAt, now))
      due.push({ id: row.id, reason: 'idle' });
    if (due.length >= limit) break;
  }
  return due;
}

function isIdle(lifetimeSeconds: number | undefined, lastRefreshAt: Date | null, now: Date): boolean {
  if (!lifetimeSeconds || !lastRefreshAt) return false;
  return lastRefreshAt.getTime() + lifetimeSeconds * 1000 - IDLE_SAFETY_MS <= now.getTime();
}

export async function startKeepAlive(
  boss: PgBoss,
  deps: { db: Db; tokens: TokenService; logger: Logger },
  options: KeepAliveOptions = {},
): Promise<{ sweep: () => Promise<number> }> {
  const batchSize = options.batchSize ?? 200;
  await boss.createQueue(SWEEP_QUEUE, { policy: 'singleton' });
  await boss.createQueue(REFRESH_QUEUE, { policy: 'short', retryLimit: 0 });
  const sweep = async () => {
    const due = await findDueConnections(deps.db, new Date(), batchSize);
    for (const { id, reason } of due) {
      const job: RefreshJob = { connectionId: id, reason };
      await boss.send(REFRESH_QUEUE, job, { singletonKey: id });
    }
    if (due.length) deps.logger.info({ due: due.length }, 'keep-alive refreshes queued');
    return due.length;
  };
  await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 5 }, async () => {
    await sweep();
  });
  await boss.work<RefreshJob>(
    REFRESH_QUEUE,
    {
      localConcurrency: options.concurrency ?? 4,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2,
    },
    async ([job]) => {
      const { connectionId } = job!.data;
      try {
        // Forced: the sweep looked ahead, so the token may not be inside the margin yet.
        await deps.tokens.getAccessToken(connectionId, { force: true });
      } catch (error) {
        // The token service already recorded the outcome (degraded, reauthorization_required).
        deps.logger.info({ connectionId, err: error }, 'keep-alive refresh did not succeed');
      }
    },
  );
  await boss.schedule(SWEEP_QUEUE, '* * * * *');
  return { sweep };
}
