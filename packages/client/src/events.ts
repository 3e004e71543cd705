import { Webhook } from 'standardwebhooks';

/**
 * Verifying tether's events on the host app's side (Standard Webhooks). Pass the raw body as
 * received (not re-serialized JSON), the request's headers and the subscription's `whsec_…`
 * secret; a bad signature, a stale timestamp or a missing header throws. Dedupe on the
 * `webhook-id` header (stable across retries), which `id` carries.
 */
export interface TetherEvent<D = Record<string, unknown>> {
  id: string;
  type: string;
  timestamp: string;
  data: D;
}

export function verifyTetherEvent<D = Record<string, unknown>>(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
): TetherEvent<D> & { webhookId: string } {
  const header = (name: string) => {
    const value = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const webhookHeaders = {
    'webhook-id': header('webhook-id') ?? '',
    'webhook-timestamp': header('webhook-timestamp') ?? '',
    'webhook-signature': header('webhook-signature') ?? '',
  };
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const event = new Webhook(secret).verify(body, webhookHeaders) as TetherEvent<D>;
  return { ...event, webhookId: webhookHeaders['webhook-id'] };
}
