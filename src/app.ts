import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { connectRoutes } from './connections/connect-routes.ts';
import { connectionRoutes } from './connections/connection-routes.ts';
import type { ConnectionStore } from './connections/connection-store.ts';
import { connectionSummaryRoutes } from './connections/connection-summary-route.ts';
import { proxyRoutes } from './connections/proxy-routes.ts';
import type { RedirectPolicy } from './connections/redirect-url.ts';
import { slackMessageRoutes } from './connections/slack-messages.ts';
import type { TokenService } from './connections/token-service.ts';
import type { Sealer } from './crypto/seal.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import type { Database } from './db/client.ts';
import type { Events } from './events/index.ts';
import { auditRoutes } from './http/audit-routes.ts';
import { requireApiKey } from './http/auth.ts';
import { makeAuthFailureLimiter } from './http/auth-failure-limiter.ts';
import { makeClientErrorHandler } from './http/client-errors.ts';
import { installErrorHandling, renderFrameworkError } from './http/error-handler.ts';
import { healthRoutes } from './http/health-routes.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { refuseNulInRequests } from './http/nul-refusal.ts';
import { installOpenApi } from './http/openapi.ts';
import { recordRoutes } from './http/route-inventory.ts';
import { capConnections, type ServerLimits, serverTimeoutOptions } from './http/server-limits.ts';
import { rejectUnknownBodyFields } from './http/unknown-fields.ts';
import { integrationRoutes } from './integrations/integration-routes.ts';
import type { PgBoss } from './jobs/boss.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ProviderRuntime } from './providers/provider.ts';
import { recordsRoutes } from './syncs/records-routes.ts';
import { providerHasModel } from './syncs/registry.ts';
import { syncControlRoutes } from './syncs/sync-control-routes.ts';
import type { SyncEngine } from './syncs/sync-jobs.ts';
import { syncRunRoutes } from './syncs/sync-run-routes.ts';
import { domainRoutes } from './webhooks/domain-routes.ts';
import { eventRoutes } from './webhooks/event-routes.ts';
import type { InboxWriter } from './webhooks/inbox-writer.ts';
import { receiveRoutes } from './webhooks/receive-route.ts';
import type { RejectionAudit } from './webhooks/rejection-audit.ts';

export interface AppDeps {
  database: Database;
  boss: PgBoss;
  logger: Logger;
  apiKey: string;
  sealer: Sealer;
  runtime: ProviderRuntime;
  tokens: TokenService;
  connections: ConnectionStore;
  metrics: Metrics;
  inbox: InboxWriter;
  rejections: RejectionAudit;
  /** Events to the host app (absent: the event subscription routes are not mounted). */
  events?: Pick<Events, 'routes'>;
  /** Sync runs (absent: the sync control routes are not mounted). */
  syncs?: SyncEngine;
  publicUrl: string;
  /** Dashboard sign-in besides the API key (TETHER_ADMIN_PASSWORD). */
  adminPassword?: string;
  bodyLimitBytes: number;
  /** Where connect sessions may send the person back to (TETHER_ALLOWED_REDIRECT_ORIGINS). */
  redirectPolicy: RedirectPolicy;
  serverLimits: ServerLimits;
  isAcceptingTraffic?: () => boolean;
  /** Routes mounted without the API key (the sandbox, tests' own probes). */
  publicPlugins?: ((app: FastifyInstance) => Promise<void>)[];
}

/**
 * One route plugin registered with its options on a scope. The route lists below are lists of
 * these, one line per route file, so adding a capability's routes is adding one line.
 */
type RouteMount = (scope: FastifyInstance) => PromiseLike<unknown>;

/** The operator API, under /v1 behind the API key. */
function apiRoutes(deps: AppDeps): RouteMount[] {
  const { db } = deps.database;
  const { sealer, runtime, logger, publicUrl, tokens, connections } = deps;
  const shared = { db, sealer, runtime, logger, publicUrl };
  return [
    (v1) => v1.register(auditRoutes, { db }),
    (v1) => v1.register(integrationRoutes, shared),
    (v1) => v1.register(connectionSummaryRoutes, { db }),
    (v1) =>
      v1.register(connectionRoutes, { ...shared, tokens, connections, redirectPolicy: deps.redirectPolicy }),
    (v1) => v1.register(slackMessageRoutes, { ...shared, connections }),
    (v1) => v1.register(eventRoutes, { db, boss: deps.boss, now: () => runtime.now() }),
    (v1) => v1.register(domainRoutes, { db }),
    (v1) => v1.register(recordsRoutes, { db, hasModel: providerHasModel }),
    (v1) => v1.register(syncRunRoutes, { db }),
    ...(deps.events ? [(v1: FastifyInstance) => v1.register(deps.events!.routes)] : []),
    ...(deps.syncs
      ? [
          (v1: FastifyInstance) =>
            v1.register(syncControlRoutes, { db, tokens, syncs: deps.syncs!, now: runtime.now }),
        ]
      : []),
    (v1) => v1.register(proxyRoutes, { sealer, runtime, tokens, connections }),
  ];
}

/** What browsers and providers reach without the API key: connect pages and webhook ingest. */
function openRoutes(deps: AppDeps): RouteMount[] {
  const { db } = deps.database;
  const { sealer, runtime, logger, publicUrl } = deps;
  return [
    (app) => app.register(connectRoutes, { db, sealer, runtime, publicUrl }),
    (app) =>
      app.register(receiveRoutes, {
        db,
        sealer,
        logger,
        metrics: deps.metrics,
        inbox: deps.inbox,
        rejections: deps.rejections,
        publicUrl,
        bodyLimitBytes: deps.bodyLimitBytes,
        now: () => runtime.now(),
      }),
  ];
}

/** The Fastify instance with every route, not listening: tests drive it with inject(). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const accepting = deps.isAcceptingTraffic ?? (() => true);
  const app = makeServer(deps, accepting);
  installErrorHandling(app);
  await app.register(formbody);
  await installOpenApi(app, deps.publicUrl);

  // One limiter for every scope that takes the API key, so /metrics is no way around it.
  const guard = {
    limiter: makeAuthFailureLimiter(),
    onFailure: (outcome: 'unauthorized' | 'rate_limited') => deps.metrics.authFailures.inc({ outcome }),
  };
  const behindApiKey =
    (routes: RouteMount[], { strictBodies }: { strictBodies: boolean }) =>
    async (scope: FastifyInstance) => {
      requireApiKey(scope, deps.apiKey, guard);
      if (strictBodies) scope.setValidatorCompiler(rejectUnknownBodyFields);
      for (const mount of routes) await mount(scope);
    };

  await app.register(healthRoutes, {
    database: deps.database,
    boss: deps.boss,
    isAcceptingTraffic: accepting,
  });
  await app.register(behindApiKey(apiRoutes(deps), { strictBodies: true }), { prefix: '/v1' });
  for (const mount of openRoutes(deps)) await mount(app);
  // Scrapers send the API key as a bearer token too (Prometheus: `authorization` in the scrape config).
  await app.register(
    behindApiKey([(scope) => scope.register(metricsRoute, { metrics: deps.metrics })], {
      strictBodies: false,
    }),
  );
  // The dashboard signs in with the key (or the admin password) and shares the failure limiter.
  await dashboardRoutes(app, {
    db: deps.database.db,
    apiKey: deps.apiKey,
    adminPassword: deps.adminPassword,
    publicUrl: deps.publicUrl,
    authGuard: guard,
    now: () => deps.runtime.now(),
  });
  for (const plugin of deps.publicPlugins ?? []) await plugin(app);
  return app;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The server itself: limits, request ids, validation, and closing keep-alive on shutdown. */
function makeServer(deps: AppDeps, accepting: () => boolean): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // A caller's request id is kept when it is sane, so logs join across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...serverTimeoutOptions(deps.serverLimits),
    clientErrorHandler: makeClientErrorHandler((reason) => deps.metrics.httpRejected.inc({ reason })),
    frameworkErrors: renderFrameworkError,
  });
  capConnections(app.server, deps.serverLimits.maxConnections, () =>
    deps.metrics.httpRejected.inc({ reason: 'connection_limit' }),
  );
  recordRoutes(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Callback hooks rather than async ones: they run on every request, webhook ingest included,
  // and spare a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  refuseNulInRequests(app);
  // The route's template, not its URL, so ids do not make a label value each; unmatched: 'unknown'.
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  // During shutdown, answers to in-flight requests close their keep-alive
  // connection, so the server can finish closing without waiting for it.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!accepting()) reply.header('connection', 'close');
    done(null, payload);
  });
  return app;
}
