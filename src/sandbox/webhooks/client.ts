import type { IssueCertBody } from './control-routes.ts';
import type { DeliveryReport } from './deliver.ts';
import type { WebhookSource } from './delivery.ts';
import type { SendBody } from './send-specs.ts';
import type { WebhookSenderFacts } from './sender-facts.ts';

// A typed client for the webhook senders' control API, for tests and scripts:
//   const sandbox = makeWebhookSandboxClient('http://127.0.0.1:3000/sandbox');
//   await sandbox.send('stripe', { target, secrets: 'whsec_…', events: [{ type: 'invoice.paid' }] });

export interface IssuedCert {
  name: string;
  certUrl: string;
  commonName: string;
  notBefore: string;
  notAfter: string;
}

export type WebhookSandboxConfig = WebhookSenderFacts;

export interface WebhookSandboxClient {
  send<S extends WebhookSource>(source: S, body: SendBody<S>): Promise<DeliveryReport>;
  issuePaypalCert(body: IssueCertBody): Promise<IssuedCert>;
  config(): Promise<WebhookSandboxConfig>;
}

export class WebhookSandboxError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    super(`Sandbox control call failed with ${status}: ${JSON.stringify(body)}`);
    this.name = 'WebhookSandboxError';
    this.status = status;
    this.body = body;
  }
}

/** `sandboxUrl` is where the sandbox is mounted, e.g. `http://127.0.0.1:3000/sandbox`. */
export function makeWebhookSandboxClient(sandboxUrl: string): WebhookSandboxClient {
  const base = sandboxUrl.replace(/\/+$/, '');
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed: unknown = await res.json();
    if (!res.ok) throw new WebhookSandboxError(res.status, parsed);
    return parsed as T;
  };
  return {
    send: (source, body) => call('POST', `/_control/webhooks/${source}/send`, body),
    issuePaypalCert: (body) => call('POST', '/_control/webhooks/paypal/certs', body),
    config: () => call('GET', '/_control/webhooks/config'),
  };
}
