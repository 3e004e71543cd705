import formbody from '@fastify/formbody';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { registerControlRoutes } from './control-routes.ts';
import { registerDatasetRoutes } from './datasets/routes.ts';
import { makeFaultHooks } from './fault-hook.ts';
import { makeSnapshotWriter, readSnapshot, restoreSnapshot } from './persistence.ts';
import { SANDBOX_PROVIDER_MODULES } from './providers/index.ts';
import { makeSandboxState, releaseHung, type SandboxState } from './state.ts';
import { type WebhookSenderRoutesOptions, webhookSenderRoutes } from './webhooks/routes.ts';

// The provider sandbox as a Fastify plugin. tether registers it with prefix '/sandbox'; tests
// start it alone with startSandboxServer(). Register it plainly (not through fastify-plugin):
// its hooks, parsers and error handler must stay inside its own scope.

export interface SandboxPluginOptions {
  state: SandboxState;
  /** The webhook senders' key material and default secrets (tether passes those it seeded). */
  senders?: Pick<WebhookSenderRoutesOptions, 'state' | 'secrets'>;
  /**
   * Keep the state in this JSON file (in the data dir): loaded at registration, written after
   * changes (persistence.ts). `saveSecrets`: keep the senders' default secrets in it too (the
   * standalone sandbox, which has no database to keep them in).
   */
  stateFile?: { path: string; saveSecrets?: boolean; onError?: (error: unknown) => void };
}

export async function sandboxPlugin(app: FastifyInstance, options: SandboxPluginOptions): Promise<void> {
  const { state } = options;
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);

  const modules = new Map(SANDBOX_PROVIDER_MODULES.map((m) => [m.name as string, m]));
  const hooks = makeFaultHooks(state, (hit, key) => {
    const module = modules.get(key.split('.')[0] ?? '');
    return (
      module?.rateLimited(hit, key) ?? {
        status: 429,
        headers: { 'retry-after': String(hit.retryAfterSec) },
        body: { error: 'rate_limited', error_description: 'Too many requests.' },
      }
    );
  });
  app.addHook('onRequest', hooks.onRequest);
  app.addHook('onResponse', hooks.onResponse);
  if (options.stateFile) {
    const { path, saveSecrets, onError } = options.stateFile;
    const snapshot = readSnapshot(path);
    if (snapshot) restoreSnapshot(state, snapshot);
    const writer = makeSnapshotWriter(state, path, {
      onError,
      webhookSecrets: saveSecrets ? options.senders?.secrets : undefined,
    });
    // Any call may have changed something (a token issued, a grant revoked, a dataset changed);
    // the writer compares before it writes.
    app.addHook('onResponse', async () => writer.changed());
    app.addHook('onClose', async () => writer.close());
  }
  // Hung connections would keep close() waiting forever.
  app.addHook('preClose', async () => releaseHung(state));

  // Unparseable bodies and the like: an OAuth-style error, not tether's envelope.
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    return reply
      .code(status)
      .send({ error: status < 500 ? 'invalid_request' : 'server_error', error_description: error.message });
  });

  for (const module of SANDBOX_PROVIDER_MODULES) {
    await app.register(async (scope) => module.routes(scope, state), { prefix: `/${module.name}` });
  }
  await app.register(
    async (scope) => {
      registerControlRoutes(scope, state, SANDBOX_PROVIDER_MODULES);
      registerDatasetRoutes(scope, state);
    },
    { prefix: '/_control' },
  );
  // The webhook senders (Stripe, PayPal, DocuSign Connect, Pub/Sub): same prefix, same hook.
  await app.register(webhookSenderRoutes, { clock: state.clock, ...options.senders });
}

export interface SandboxServerOptions {
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  seed?: string;
  /** Share a state made elsewhere instead of a new one. */
  state?: SandboxState;
  senders?: SandboxPluginOptions['senders'];
  stateFile?: SandboxPluginOptions['stateFile'];
}

export interface SandboxServer {
  /** The sandbox base URL, e.g. 'http://127.0.0.1:54321/sandbox'. */
  url: string;
  origin: string;
  state: SandboxState;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** A standalone Fastify on 127.0.0.1 with the sandbox mounted at /sandbox. */
export async function startSandboxServer(options: SandboxServerOptions = {}): Promise<SandboxServer> {
  const state = options.state ?? makeSandboxState({ seed: options.seed });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(sandboxPlugin, {
    prefix: '/sandbox',
    state,
    senders: options.senders,
    stateFile: options.stateFile,
  });
  const origin = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { url: `${origin}/sandbox`, origin, state, app, close: () => app.close() };
}

export { SandboxControl } from './control-client.ts';
export {
  type SandboxIntegrationSeed,
  sandboxClientCredentials,
  sandboxEndpoints,
  sandboxIntegrationSeeds,
  simulatorOf,
} from './endpoints.ts';
export type { SandboxProviderEndpoints } from './providers/provider.ts';
export { NOTION_LEGACY, type SandboxProvider, slackTokenRotation } from './settings.ts';
export { makeSandboxState, type SandboxState } from './state.ts';
