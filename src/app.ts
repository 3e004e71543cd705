import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { connectRoutes } from './connections/connect-routes.ts';
import { connectionRoutes } from './connections/connection-routes.ts';
import { proxyRoutes } from './connections/proxy-routes.ts';
import type { RedirectPolicy } from './connections/redirect-url.ts';
import { slackMessageRoutes } from './connections/slack-messages.ts';
import type { TokenService } from './connections/token-service.ts';
import type { Sealer } from './crypto/seal.ts';
import type { Database } from './db/client.ts';
import type { Events } from './events/index.ts';
import { auditRoutes } from './http/audit-routes.ts';
import { requireApiKey } from './http/auth.ts';
import { makeAuthFailureLimiter } from './http/auth-failure-limiter.ts';
import { makeClientErrorHandler } from './http/client-errors.ts';
import { installErrorHandling, renderFrameworkError } from './http/error-handler.ts';
import { healthRoutes } from './http/health-routes.ts';
import { installOpenApi } from './http/openapi.ts';
import { capConnections, type ServerLimits, serverTimeoutOptions } from './http/server-limits.ts';
import { rejectUnknownBodyFields } from './http/unknown-fields.ts';
import { integrationRoutes } from './integrations/integration-routes.ts';
import type { PgBoss } from './jobs/boss.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ProviderRuntime } from './providers/provider.ts';
import { recordsRoutes } from './syncs/records-routes.ts';
import { providerHasModel } from './syncs/registry.ts';
import type { SyncEngine } from './syncs/sync-jobs.ts';
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
  metrics: Metrics;
  inbox: InboxWriter;
  rejections: RejectionAudit;
  /** Events to the host app (absent: the event subscription routes are not mounted). */
  events?: Pick<Events, 'routes'>;
  /** Sync runs (absent: the sync control routes are not mounted). */
  syncs?: SyncEngine;
  publicUrl: string;
  bodyLimitBytes: number;
  /** Where connect sessions may send the person back to (TETHER_ALLOWED_REDIRECT_ORIGINS). */
  redirectPolicy: RedirectPolicy;
  serverLimits: ServerLimits;
  isAcceptingTraffic?: () => boolean;
  /** Routes mounted without the API key (the sandbox, tests' own probes). */
  publicPlugins?: ((app: FastifyInstance) => Promise<void>)[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The Fastify instance with every route, not listening: tests drive it with inject(). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
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
  // One limiter for every scope that takes the API key, so /metrics is no way around it.
  const authGuard = {
    limiter: makeAuthFailureLimiter(),
    onFailure: (outcome: 'unauthorized' | 'rate_limited') => deps.metrics.authFailures.inc({ outcome }),
  };
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const accepting = deps.isAcceptingTraffic ?? (() => true);
  // Callback hooks rather than async ones: they run on every request, webhook ingest included,
  // and spare a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // During shutdown, answers to in-flight requests close their keep-alive
  // connection, so the server can finish closing without waiting for it.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!accepting()) reply.header('connection', 'close');
    done(null, payload);
  });
  installErrorHandling(app);
  await app.register(formbody);
  await installOpenApi(app, deps.publicUrl);

  await app.register(healthRoutes, {
    database: deps.database,
    boss: deps.boss,
    isAcceptingTraffic: accepting,
  });
  await app.register(
    async (v1) => {
      requireApiKey(v1, deps.apiKey, authGuard);
      v1.setValidatorCompiler(rejectUnknownBodyFields);
      const { db } = deps.database;
      const shared = {
        db,
        sealer: deps.sealer,
        runtime: deps.runtime,
        logger: deps.logger,
        publicUrl: deps.publicUrl,
      };
      await v1.register(auditRoutes, { db });
      await v1.register(integrationRoutes, shared);
      await v1.register(connectionRoutes, {
        ...shared,
        tokens: deps.tokens,
        redirectPolicy: deps.redirectPolicy,
      });
      await v1.register(slackMessageRoutes, { ...shared, tokens: deps.tokens });
      await v1.register(eventRoutes, { db, boss: deps.boss });
      await v1.register(domainRoutes, { db });
      await v1.register(recordsRoutes, { db, hasModel: providerHasModel });
      if (deps.events) await v1.register(deps.events.routes);
      await v1.register(proxyRoutes, { sealer: deps.sealer, runtime: deps.runtime, tokens: deps.tokens });
    },
    { prefix: '/v1' },
  );
  await app.register(connectRoutes, {
    db: deps.database.db,
    sealer: deps.sealer,
    runtime: deps.runtime,
    publicUrl: deps.publicUrl,
  });
  await app.register(receiveRoutes, {
    db: deps.database.db,
    sealer: deps.sealer,
    logger: deps.logger,
    metrics: deps.metrics,
    inbox: deps.inbox,
    rejections: deps.rejections,
    publicUrl: deps.publicUrl,
    bodyLimitBytes: deps.bodyLimitBytes,
  });
  // Scrapers send the API key as a bearer token too (Prometheus: `authorization` in the scrape config).
  await app.register(async (scope) => {
    requireApiKey(scope, deps.apiKey, authGuard);
    scope.get(
      '/metrics',
      {
        schema: {
          tags: ['health'],
          summary: 'Prometheus metrics (text format)',
          documentedResponses: { 200: { description: 'Prometheus text exposition format' } },
        },
      },
      async (_request, reply) =>
        reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
    );
  });
  for (const plugin of deps.publicPlugins ?? []) await plugin(app);
  return app;
}
