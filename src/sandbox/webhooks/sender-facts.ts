import { DEFAULT_PUSH_SERVICE_ACCOUNT } from './pubsub.ts';
import type { WebhookSenderState } from './sender-state.ts';

// What a tether verifier must be configured with to accept what the senders send, built from
// the URL the sandbox is mounted at (e.g. http://127.0.0.1:3000/sandbox). The control API
// answers it (GET /_control/webhooks/config); tether's start-up seeds its sandbox integrations
// from it without calling the sandbox.

/** The secrets the senders sign with when a send names none; only a sandbox mounted by tether has them. */
export interface SandboxWebhookSecrets {
  stripe: string;
  docusignConnect: string;
  paypalWebhookId: string;
}

export interface WebhookSenderFacts {
  paypal: {
    certUrl: string;
    certHost: string;
    commonNameSuffix: string;
    caPem: string;
    tokenUrl: string;
    verifyUrl: string;
  };
  gmailPubsub: { jwksUrl: string; issuer: string; serviceAccount: string; kid: string };
  /** Present when the sandbox was given default secrets (tether's own sandbox). */
  secrets?: SandboxWebhookSecrets;
}

export function paypalCertUrl(sandboxUrl: string, name: string): string {
  return `${sandboxUrl}/paypal/v1/notifications/certs/${encodeURIComponent(name)}`;
}

export function webhookSenderFacts(
  sandboxUrl: string,
  state: WebhookSenderState,
  secrets?: SandboxWebhookSecrets,
): WebhookSenderFacts {
  return {
    paypal: {
      certUrl: paypalCertUrl(sandboxUrl, state.paypalCerts.defaultCert.name),
      certHost: new URL(sandboxUrl).host,
      commonNameSuffix: '.paypal.com',
      caPem: state.paypalCerts.caPem,
      tokenUrl: `${sandboxUrl}/paypal/v1/oauth2/token`,
      verifyUrl: `${sandboxUrl}/paypal/v1/notifications/verify-webhook-signature`,
    },
    gmailPubsub: {
      jwksUrl: `${sandboxUrl}/google/oauth2/v3/certs`,
      issuer: 'https://accounts.google.com',
      serviceAccount: DEFAULT_PUSH_SERVICE_ACCOUNT,
      kid: state.pushKeys.current.kid,
    },
    ...(secrets ? { secrets } : {}),
  };
}
