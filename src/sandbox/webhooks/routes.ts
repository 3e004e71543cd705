import type { FastifyInstance } from 'fastify';
import { registerControlRoutes } from './control-routes.ts';
import { registerProviderRoutes } from './provider-routes.ts';
import { paypalCertUrl, type SandboxWebhookSecrets } from './sender-facts.ts';
import { makeWebhookSenderState, type WebhookSenderState } from './sender-state.ts';

// The webhook senders' Fastify plugin, for the sandbox core to register under its prefix
// (`/sandbox`). Every route names its endpoint key in `config.endpoint`, so the core's
// fault, rate-limit and call-count hook covers it.

export interface WebhookSenderRoutesOptions {
  /** Key material; made at registration when not given (share one to reuse keys across apps). */
  state?: WebhookSenderState;
  /** The sandbox clock (ms since epoch); real time when not given. */
  clock?: { now(): number };
  /**
   * Which URLs the send route may deliver to. Default: loopback only (127.0.0.0/8, ::1,
   * localhost), so the control API cannot be turned against other hosts.
   */
  allowTarget?: (url: URL) => boolean;
  /** Serve GET /google/oauth2/v3/certs; turn off if another simulator serves Google's JWKS. */
  serveJwks?: boolean;
  /** Signing secrets for sends that name none (tether's own sandbox: those its integrations hold). */
  secrets?: SandboxWebhookSecrets;
}

export async function webhookSenderRoutes(
  app: FastifyInstance,
  options: WebhookSenderRoutesOptions,
): Promise<void> {
  const now = () => new Date(options.clock?.now() ?? Date.now());
  const state = options.state ?? (await makeWebhookSenderState(now()));
  const prefix = app.prefix;
  const certPath = (name: string) => paypalCertUrl(prefix, name);

  registerProviderRoutes(app, { state, now, certPath, serveJwks: options.serveJwks ?? true });
  registerControlRoutes(app, {
    state,
    prefix,
    secrets: options.secrets,
    now,
    certPath,
    allowTarget: options.allowTarget ?? isLoopback,
  });
}

export function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
