import type { z } from 'zod';
import { AppError } from '../../errors.ts';
import { makeDocusignConnectVerifier } from './docusign-connect.ts';
import { GOOGLE_JWKS_URL, makeGmailPubsubVerifier } from './gmail-pubsub.ts';
import { type JwksCache, makeJwksCache } from './jwks-cache.ts';
import { makePaypalVerifier } from './paypal.ts';
import { makePaypalCertStore, type PaypalCertStore } from './paypal-certs.ts';
import { describeIssues, WEBHOOK_SETTINGS } from './settings.ts';
import { makeStripeVerifier } from './stripe.ts';
import { WEBHOOK_SOURCES, type WebhookSource, type WebhookVerifier } from './types.ts';

// The verifier registry: source name → settings schema and factory. The webhook route builds
// (and may cache) one verifier per integration from its settings and calls verify() on each
// delivery; nothing outside this folder names a source's scheme.

export interface VerifierDeps {
  /** Shared by every PayPal verifier built here, so a certificate is fetched once per URL. */
  paypalCerts: PaypalCertStore;
  /** Shared by every Pub/Sub verifier built here, so Google's keys are fetched once per URL. */
  jwks: JwksCache;
}

type Factories = {
  [S in WebhookSource]: (
    settings: z.infer<(typeof WEBHOOK_SETTINGS)[S]>,
    deps: VerifierDeps,
  ) => WebhookVerifier;
};

const FACTORIES: Factories = {
  stripe: (s) => makeStripeVerifier(s),
  paypal: (s, deps) => makePaypalVerifier({ ...s, certStore: deps.paypalCerts }),
  'docusign-connect': (s) => makeDocusignConnectVerifier(s),
  'gmail-pubsub': (s, deps) =>
    makeGmailPubsubVerifier({
      audience: s.audience,
      serviceAccount: s.serviceAccount,
      jwksUrl: s.endpoints?.jwksUrl ?? GOOGLE_JWKS_URL,
      jwksCache: deps.jwks,
      clockToleranceSeconds: s.clockToleranceSeconds,
    }),
};

export function isWebhookSource(value: string): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly string[]).includes(value);
}

/** Checks an integration's webhook settings (e.g. when it is created); never throws. */
export function parseWebhookSettings(
  source: string,
  settings: unknown,
): { ok: true; source: WebhookSource; settings: unknown } | { ok: false; message: string } {
  if (!isWebhookSource(source)) {
    return { ok: false, message: `No webhook source "${source}"; use one of ${WEBHOOK_SOURCES.join(', ')}.` };
  }
  const parsed = WEBHOOK_SETTINGS[source].safeParse(settings);
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
      const factory = FACTORIES[parsed.source] as (s: unknown, d: VerifierDeps) => WebhookVerifier;
      return factory(parsed.settings, shared);
    },
  };
}

export { GMAIL_EVENT_TYPE, type GmailNotification } from './gmail-pubsub.ts';
export { type JwksCache, makeJwksCache } from './jwks-cache.ts';
export { PAYPAL_CERT_CN_SUFFIX, PAYPAL_CERT_HOSTS } from './paypal-cert-checks.ts';
export { makePaypalCertStore, type PaypalCertStore } from './paypal-certs.ts';
export * from './settings.ts';
export * from './types.ts';
