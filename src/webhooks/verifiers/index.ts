import { AppError } from '../../errors.ts';
import { isWebhookSource, WEBHOOK_SOURCES, webhookSource } from '../sources/index.ts';
import { makeJwksCache } from './jwks-cache.ts';
import { makePaypalCertStore } from './paypal-certs.ts';
import { describeIssues } from './settings.ts';
import type { VerifierDeps, WebhookSource, WebhookVerifier } from './types.ts';

// The verifier registry: a source's settings schema and factory come from its definition
// (sources/). The webhook route builds (and may cache) one verifier per integration from its
// settings and calls verify() on each delivery.

/** Checks an integration's webhook settings (e.g. when it is created); never throws. */
export function parseWebhookSettings(
  source: string,
  settings: unknown,
): { ok: true; source: WebhookSource; settings: unknown } | { ok: false; message: string } {
  if (!isWebhookSource(source)) {
    return { ok: false, message: `No webhook source "${source}"; use one of ${WEBHOOK_SOURCES.join(', ')}.` };
  }
  const parsed = webhookSource(source)!.settings.safeParse(settings);
  if (!parsed.success) {
    return { ok: false, message: `Invalid ${source} webhook settings: ${describeIssues(parsed.error)}` };
  }
  return { ok: true, source, settings: parsed.data };
}

export interface WebhookVerifierRegistry {
  /** Throws AppError validation_failed naming every bad field when the settings are wrong. */
  build(source: string, settings: unknown): WebhookVerifier;
}

export function makeWebhookVerifierRegistry(deps: Partial<VerifierDeps> = {}): WebhookVerifierRegistry {
  const shared: VerifierDeps = {
    paypalCerts: deps.paypalCerts ?? makePaypalCertStore(),
    jwks: deps.jwks ?? makeJwksCache(),
  };
  return {
    build(source, settings) {
      const parsed = parseWebhookSettings(source, settings);
      if (!parsed.ok) throw new AppError('validation_failed', parsed.message);
      return webhookSource(parsed.source)!.makeVerifier(parsed.settings, shared);
    },
  };
}

export { GMAIL_EVENT_TYPE, type GmailNotification } from './gmail-pubsub.ts';
export { type JwksCache, makeJwksCache } from './jwks-cache.ts';
export { PAYPAL_CERT_CN_SUFFIX, PAYPAL_CERT_HOSTS } from './paypal-cert-checks.ts';
export { makePaypalCertStore, type PaypalCertStore } from './paypal-certs.ts';
export * from './settings.ts';
export * from './types.ts';
export { isWebhookSource, WEBHOOK_SOURCES };
