import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { startKeepAlive } from './connections/keep-alive.ts';
import { makeTokenService, type TokenService } from './connections/token-service.ts';
import { makeSealer, type Sealer } from './crypto/seal.ts';
import { type Database, type Db, openDatabase } from './db/client.ts';
import { lockDataDir } from './db/data-dir-lock.ts';
import { migrate } from './db/migrate.ts';
import { loadOrCreateDevSecrets } from './dev-secrets.ts';
import type { EventDeliveryOptions } from './events/delivery-worker.ts';
import { type Events, startEvents } from './events/index.ts';
import { idleSocketTimeoutMs } from './http/server-limits.ts';
import { seedSandboxIntegrations } from './integrations/seed-sandbox.ts';
import { seedSandboxWebhookSources } from './integrations/seed-sandbox-webhooks.ts';
import { type PgBoss, startBoss, stopBoss } from './jobs/boss.ts';
import { startRetention } from './jobs/retention.ts';
import { type Logger, makeLogger } from './logger.ts';
import { makeMetrics } from './metrics.ts';
import { makeProviderRuntime } from './providers/runtime.ts';
import { makeSandboxState, sandboxPlugin } from './sandbox/index.ts';
import { makeWebhookSenderState, webhookSenderFacts } from './sandbox/webhooks/index.ts';
import { type SyncEngine, startSyncJobs } from './syncs/sync-jobs.ts';
import { makeInboxWriter } from './webhooks/inbox-writer.ts';
import { type IngestPressure, makeIngestPressure } from './webhooks/ingest-pressure.ts';
import { startWebhookProcessing, type WebhookProcessing } from './webhooks/process-worker.ts';
import { makeRejectionAudit, type RejectionAudit } from './webhooks/rejection-audit.ts';

/**
 * Composition root: one running tether = database (migrated) + job queue +
 * HTTP app. stop() is the graceful shutdown: stop accepting, let in-flight
 * requests and jobs finish (bounded), then close the database.
 */
export interface Tether {
  app: FastifyInstance;
  database: Database;
  boss: PgBoss;
  sealer: Sealer;
  tokens: TokenService;
  /** Processes inbox events now (the workers do it in the background). */
  webhooks: Pick<WebhookProcessing, 'processEvent' | 'processEvents'>;
  /** Runs one keep-alive sweep now (the cron job runs it every minute). */
  keepAlive: { sweep: () => Promise<number> };
  /** Runs one retention pass now (the cron job runs it every 15 minutes). */
  retention: Awaited<ReturnType<typeof startRetention>>;
  /** Writes the rejected-webhook counts held in memory to the audit log now. */
  rejections: Pick<RejectionAudit, 'flush'>;
  /** Sync runs: ask for one (the workers run it in the background). */
  syncs: Pick<SyncEngine, 'startRun'>;
  /** Events to the host app: the delivery worker (its repair sweep can be run now). */
  events: Events;
  logger: Logger;
  apiKey: string;
  /** Where it listens, e.g. http://127.0.0.1:3000 (empty when not listening). */
  url: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** An already open database (tests); otherwise opened from the config. */
  database?: Database;
  listen?: boolean;
  /** How often job workers poll (seconds); tests shorten it. */
  jobPollingIntervalSeconds?: number;
  publicPlugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** tether's clock (tests move it); default the wall clock. */
  now?: () => Date;
  /** Event delivery settings (tests shorten the retry schedule and the timeout). */
  events?: Partial<EventDeliveryOptions>;
  /** Called with the generated secrets' news, so `serve` can tell the person. */
  onGeneratedSecrets?: (news: { apiKey?: string; encryptionKey: boolean }) => void;
}

export async function resolveSecrets(config: Config, onGenerated?: StartOptions['onGeneratedSecrets']) {
  if (config.apiKey && config.encryptionKeys) return { apiKey: config.apiKey, keys: config.encryptionKeys };
  const dev = loadOrCreateDevSecrets(config.dataDir);
  if (dev.generated.apiKey || dev.generated.encryptionKey) {
    onGenerated?.({
      apiKey: dev.generated.apiKey && !config.apiKey ? dev.apiKey : undefined,
      encryptionKey: dev.generated.encryptionKey && !config.encryptionKeys,
    });
  }
  return { apiKey: config.apiKey ?? dev.apiKey, keys: config.encryptionKeys ?? [dev.encryptionKey] };
}

/** Opens the configured database; on the embedded default also takes the data-dir lock. */
export async function openConfiguredDatabase(
  config: Config,
): Promise<{ database: Database; release: () => void }> {
  if (config.databaseUrl)
    return { database: await openDatabase({ url: config.databaseUrl }), release: () => {} };
  const release = lockDataDir(config.dataDir);
  try {
    return { database: await openDatabase({ dataDir: config.dataDir }), release };
  } catch (error) {
    release();
    throw error;
  }
}

export async function startTether(config: Config, options: StartOptions = {}): Promise<Tether> {
  const logger = options.logger ?? makeLogger({ level: config.logLevel });
  const { apiKey, keys } = await resolveSecrets(config, options.onGeneratedSecrets);
  const sealer = makeSealer(keys);
  const opened = options.database
    ? { database: options.database, release: () => {} }
    : await openConfiguredDatabase(config);
  const { database } = opened;
  let boss: PgBoss | undefined;
  let pressure: IngestPressure | undefined;
  let rejections: RejectionAudit | undefined;
  let syncs: SyncEngine | undefined;
  try {
    await migrate(database);
    boss = await startBoss(database, logger);
    const mountSandbox = config.sandbox
      ? await seedSandbox(database.db, sealer, config.publicUrl)
      : undefined;
    let accepting = true;
    const now = options.now ?? (() => new Date());
    const runtime = makeProviderRuntime({ timeoutMs: config.providerTimeoutMs, now });
    const tokens = makeTokenService({
      db: database.db,
      sealer,
      logger,
      runtime,
      leaseMs: config.refreshLeaseMs,
    });
    const keepAlive = await startKeepAlive(
      boss,
      { db: database.db, tokens, logger },
      { pollingIntervalSeconds: options.jobPollingIntervalSeconds },
    );
    const retention = await startRetention(boss, { db: database.db, logger }, config, {
      pollingIntervalSeconds: options.jobPollingIntervalSeconds,
    });
    const metrics = makeMetrics();
    const events = await startEvents(
      boss,
      { db: database.db, sealer, logger, registry: metrics.registry, now },
      config,
      {
        // PGlite has no LISTEN/NOTIFY: a new event waits for the next poll, so poll often. One
        // embedded connection: fewer attempts in flight keep its queue (and each claim) short.
        pollingIntervalSeconds:
          options.jobPollingIntervalSeconds ?? (database.kind === 'pglite' ? 0.5 : undefined),
        ...(database.kind === 'pglite' ? { concurrency: 2, batchSize: 8 } : {}),
        ...options.events,
      },
    );
    rejections = makeRejectionAudit({ db: database.db, logger });
    // Each needs the other: the inbox wakes the workers, and the workers give way to ingest.
    let processing: WebhookProcessing | undefined;
    const inbox = makeInboxWriter({ database, boss, metrics }, { onStored: () => processing?.wake() });
    pressure = makeIngestPressure(inbox.receiving);
    const webhooks = await startWebhookProcessing(
      boss,
      { db: database.db, logger, metrics },
      {
        pollingIntervalSeconds: options.jobPollingIntervalSeconds,
        maxAttempts: config.webhookMaxAttempts,
        ingestSaturated: pressure.saturated,
        ...(database.kind === 'pglite' ? { maxEventsPerTransaction: 32 } : {}),
      },
    );
    processing = webhooks;
    syncs = await startSyncJobs(
      boss,
      { db: database.db, tokens, sealer, runtime, logger },
      { pollingIntervalSeconds: options.jobPollingIntervalSeconds },
    );
    const app = await buildApp({
      syncs,
      events,
      metrics,
      inbox,
      rejections,
      database,
      boss,
      logger,
      apiKey,
      sealer,
      runtime,
      tokens,
      publicUrl: config.publicUrl,
      bodyLimitBytes: config.bodyLimitBytes,
      redirectPolicy: { allowedOrigins: config.allowedRedirectOrigins, production: config.production },
      serverLimits: {
        requestTimeoutMs: config.requestTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        idleSocketTimeoutMs: idleSocketTimeoutMs(config),
        maxConnections: config.maxConnections,
      },
      isAcceptingTraffic: () => accepting,
      publicPlugins: [...(mountSandbox ? [mountSandbox] : []), ...(options.publicPlugins ?? [])],
    });
    const url = options.listen === false ? '' : await app.listen({ port: config.port, host: config.host });
    const startedBoss = boss;
    const startedRejections = rejections;
    let stopping: Promise<void> | undefined;
    return {
      app,
      database,
      boss,
      sealer,
      tokens,
      keepAlive,
      retention,
      rejections,
      webhooks,
      syncs,
      events,
      logger,
      apiKey,
      url,
      stop() {
        stopping ??= (async () => {
          accepting = false;
          await app.close();
          await startedRejections.stop();
          syncs?.stop();
          await stopBoss(startedBoss, config.shutdownTimeoutMs);
          pressure?.stop();
          if (!options.database) await database.close();
          opened.release();
        })();
        return stopping;
      },
    };
  } catch (error) {
    pressure?.stop();
    await rejections?.stop().catch(() => {});
    if (boss) await stopBoss(boss, 1000).catch(() => {});
    if (!options.database) await database.close().catch(() => {});
    opened.release();
    throw error;
  }
}

/**
 * Seeds the sandbox integrations against the simulators at `${publicUrl}/sandbox` and returns the
 * plugin that mounts those simulators there, holding the keys and secrets the seed trusts. Their
 * accounts derive from the seed 'tether', so the demo's are the same on every start.
 */
async function seedSandbox(db: Db, sealer: Sealer, publicUrl: string) {
  const senders = await makeWebhookSenderState();
  await seedSandboxIntegrations(db, sealer, publicUrl);
  const secrets = await seedSandboxWebhookSources(
    db,
    sealer,
    webhookSenderFacts(`${publicUrl}/sandbox`, senders),
  );
  const state = makeSandboxState({ seed: 'tether' });
  return async (app: FastifyInstance) => {
    await app.register(sandboxPlugin, { prefix: '/sandbox', state, senders: { state: senders, secrets } });
  };
}
