import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { ConnectionChanges } from './connections/connection-changes.ts';
import { type ConnectionStore, openConnectionStore } from './connections/connection-store.ts';
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
import { seedRemoteSandbox } from './integrations/seed-remote-sandbox.ts';
import { seedSandboxIntegrations } from './integrations/seed-sandbox.ts';
import { seedSandboxWebhookSources } from './integrations/seed-sandbox-webhooks.ts';
import { type PgBoss, startBoss, stopBoss } from './jobs/boss.ts';
import { startGmailWatchRenewal } from './jobs/gmail-watch-renewal.ts';
import { startRetention } from './jobs/retention.ts';
import { type Logger, makeLogger } from './logger.ts';
import { type Metrics, makeMetrics } from './metrics.ts';
import { makeProviderRuntime } from './providers/runtime.ts';
import { makeSandboxState, sandboxPlugin } from './sandbox/index.ts';
import { makeWebhookSenderState, webhookSenderFacts } from './sandbox/webhooks/index.ts';
import { registerStateMetrics } from './state-metrics.ts';
import { startSyncSchedule } from './syncs/schedule.ts';
import { type SyncEngine, startSyncJobs } from './syncs/sync-jobs.ts';
import { makeTeardown, type Teardown } from './teardown.ts';
import { makeInboxWriter } from './webhooks/inbox-writer.ts';
import { makeIngestPressure } from './webhooks/ingest-pressure.ts';
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
  connections: ConnectionStore;
  /** The token cache's change listener (absent when TETHER_TOKEN_CACHE_SIZE=0). */
  connectionChanges: ConnectionChanges | undefined;
  /** Processes inbox events now (the workers do it in the background). */
  webhooks: Pick<WebhookProcessing, 'processEvent' | 'processEvents'>;
  /** Runs one keep-alive sweep now (the cron job runs it every minute). */
  keepAlive: { sweep: () => Promise<number> };
  /** Runs one retention pass now (the cron job runs it every 15 minutes). */
  retention: Awaited<ReturnType<typeof startRetention>>;
  /** Writes the rejected-webhook counts held in memory to the audit log now. */
  rejections: Pick<RejectionAudit, 'flush'>;
  /** Sync runs: ask for one (the workers run it in the background). */
  syncs: Pick<SyncEngine, 'startRun' | 'resetRun'>;
  /** Renews the Gmail watches due now (the cron job runs it hourly). */
  gmailWatches: Awaited<ReturnType<typeof startGmailWatchRenewal>>;
  /** Runs one look at the sync schedule now (the cron job runs it every minute). */
  syncSchedule: { tick: () => Promise<number> };
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
  /** Whether the sync schedule's cron runs (default true); tests look at the schedule by hand. */
  syncScheduleCron?: boolean;
  /** tether's clock (`runtime.now()`: token expiry, the sync schedule); tests move it. */
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
  const teardown = makeTeardown();
  try {
    const database = await openDatabaseFor(config, options, teardown);
    await migrate(database);
    const boss = await startBoss(database, logger);
    teardown.add((hurried) => stopBoss(boss, hurried ? 1000 : config.shutdownTimeoutMs));
    const core = { database, boss, sealer, logger };
    // On the embedded default the mounted sandbox keeps its state beside the database.
    const sandboxStateFile =
      !options.database && !config.databaseUrl ? join(config.dataDir, 'sandbox.json') : undefined;
    const mountSandbox = config.sandbox
      ? await seedSandbox(database.db, sealer, config.publicUrl, sandboxStateFile, logger)
      : undefined;
    if (config.sandboxUrl) await seedRemoteSandbox(database.db, sealer, config.sandboxUrl);
    const capabilities = await startCapabilities(config, options, core, teardown);
    let accepting = true;
    const app = await buildApp({
      ...core,
      ...capabilities,
      apiKey,
      ...httpSettings(config),
      isAcceptingTraffic: () => accepting,
      publicPlugins: [...(mountSandbox ? [mountSandbox] : []), ...(options.publicPlugins ?? [])],
    });
    teardown.add(async () => {
      accepting = false;
      await app.close();
    });
    const url = options.listen === false ? '' : await app.listen({ port: config.port, host: config.host });
    let stopping: Promise<void> | undefined;
    return {
      app,
      ...core,
      ...capabilities,
      apiKey,
      url,
      stop: () => {
        stopping ??= teardown.run({ hurried: false });
        return stopping;
      },
    };
  } catch (error) {
    await teardown.run({ hurried: true });
    throw error;
  }
}

/** The given database (tests: left open at stop) or the configured one (closed, lock released). */
async function openDatabaseFor(config: Config, options: StartOptions, teardown: Teardown): Promise<Database> {
  if (options.database) return options.database;
  const { database, release } = await openConfiguredDatabase(config);
  teardown.add(release);
  teardown.add(() => database.close());
  return database;
}

interface Core {
  database: Database;
  boss: PgBoss;
  sealer: Sealer;
  logger: Logger;
}

/**
 * The capabilities on the job queue, each started with what it needs and its stop added to the
 * teardown. A new capability is one more line here and its field in the result.
 */
async function startCapabilities(config: Config, options: StartOptions, core: Core, teardown: Teardown) {
  const { database, boss, sealer, logger } = core;
  const { db } = database;
  const polling = { pollingIntervalSeconds: options.jobPollingIntervalSeconds };
  const runtime = makeProviderRuntime({ timeoutMs: config.providerTimeoutMs, now: options.now });
  const metrics = makeMetrics();
  registerStateMetrics(metrics.registry, { db, boss });
  const events = await startEvents(
    boss,
    { db, sealer, logger, registry: metrics.registry, now: runtime.now },
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
  // Connections' reads and writes, with the access-token cache that notifications keep coherent.
  const { store: connections, changes: connectionChanges } = await openConnectionStore({
    database,
    sealer,
    logger,
    runtime,
    cacheSize: config.tokenCacheSize,
    maxStalenessMs: config.tokenCacheMaxStalenessMs,
  });
  // Stops listening before the database closes (the teardown runs last-added first).
  teardown.add(() => connectionChanges?.stop() ?? Promise.resolve());
  const tokens = makeTokenService({
    db,
    sealer,
    logger,
    runtime,
    leaseMs: config.refreshLeaseMs,
    connections,
    onRefreshCall: metrics.observeRefresh,
  });
  const keepAlive = await startKeepAlive(boss, { db, tokens, logger }, polling);
  const retention = await startRetention(boss, { db, logger }, config, polling);
  const webhooks = await startWebhooks(config, options, { ...core, metrics }, teardown);
  const syncs = await startSyncJobs(
    boss,
    { db, tokens, sealer, runtime, logger },
    { ...polling, leaseMs: config.syncLeaseMs },
  );
  teardown.add(() => syncs.stop());
  const gmailWatches = await startGmailWatchRenewal(boss, { db, tokens, sealer, runtime, logger }, polling);
  const syncSchedule = await startSyncSchedule(
    boss,
    { db, engine: syncs, now: runtime.now, logger },
    { ...polling, cron: options.syncScheduleCron },
  );
  return {
    runtime,
    connections,
    connectionChanges,
    tokens,
    events,
    keepAlive,
    retention,
    metrics,
    syncs,
    gmailWatches,
    syncSchedule,
    ...webhooks,
  };
}

/** Webhooks in: the inbox writer, the processing workers, and the rejection counts. */
async function startWebhooks(
  config: Config,
  options: StartOptions,
  { database, boss, logger, metrics }: Core & { metrics: Metrics },
  teardown: Teardown,
) {
  const rejections = makeRejectionAudit({ db: database.db, logger });
  teardown.add(() => rejections.stop());
  // Each needs the other: the inbox wakes the workers, and the workers give way to ingest.
  let processing: WebhookProcessing | undefined;
  const inbox = makeInboxWriter({ database, boss, metrics }, { onStored: () => processing?.wake() });
  const pressure = makeIngestPressure(inbox.receiving);
  teardown.add(() => pressure.stop());
  processing = await startWebhookProcessing(
    boss,
    { db: database.db, logger, metrics },
    {
      pollingIntervalSeconds: options.jobPollingIntervalSeconds,
      maxAttempts: config.webhookMaxAttempts,
      ingestSaturated: pressure.saturated,
      ...(database.kind === 'pglite' ? { maxEventsPerTransaction: 32 } : {}),
    },
  );
  return { rejections, inbox, webhooks: processing };
}

/** The HTTP settings buildApp takes from the configuration. */
function httpSettings(config: Config) {
  return {
    publicUrl: config.publicUrl,
    adminPassword: config.adminPassword,
    bodyLimitBytes: config.bodyLimitBytes,
    redirectPolicy: { allowedOrigins: config.allowedRedirectOrigins, production: config.production },
    serverLimits: {
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      idleSocketTimeoutMs: idleSocketTimeoutMs(config),
      maxConnections: config.maxConnections,
    },
  };
}

/**
 * Seeds the sandbox integrations against the simulators at `${publicUrl}/sandbox` and returns the
 * plugin that mounts those simulators there, holding the keys and secrets the seed trusts. Their
 * accounts derive from the seed 'tether', so the demo's are the same on every start; with a
 * `stateFile` their grants, tokens and datasets are too.
 */
async function seedSandbox(
  db: Db,
  sealer: Sealer,
  publicUrl: string,
  stateFile: string | undefined,
  logger: Logger,
) {
  const senders = await makeWebhookSenderState();
  await seedSandboxIntegrations(db, sealer, `${publicUrl}/sandbox`);
  const secrets = await seedSandboxWebhookSources(
    db,
    sealer,
    webhookSenderFacts(`${publicUrl}/sandbox`, senders),
  );
  const state = makeSandboxState({ seed: 'tether' });
  return async (app: FastifyInstance) => {
    await app.register(sandboxPlugin, {
      prefix: '/sandbox',
      state,
      senders: { state: senders, secrets },
      ...(stateFile
        ? {
            stateFile: {
              path: stateFile,
              onError: (error: unknown) => logger.error({ err: error }, 'could not save the sandbox state'),
            },
          }
        : {}),
    });
  };
}
