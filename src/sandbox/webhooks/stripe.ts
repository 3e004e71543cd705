import { createHmac } from 'node:crypto';
import { type Outbound, readJsonId } from './delivery.ts';

// Stripe's webhook signature: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, where each
// v1 is HMAC-SHA256 over `${t}.${rawBody}` keyed with the whole secret string (the `whsec_`
// prefix included, not base64-decoded). During a secret roll Stripe signs with every active
// secret, one v1 entry each.

export function stripeSignature(payload: string, secret: string, timestamp: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestamp}.${payload}`, 'utf8')
    .digest('hex');
}

export function stripeSignatureHeader(
  payload: string,
  secrets: string | readonly string[],
  timestamp: number,
): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new TypeError('"secrets" must hold at least one secret');
  if (!Number.isInteger(timestamp)) throw new TypeError('"timestamp" must be whole unix seconds');
  return [`t=${timestamp}`, ...list.map((s) => `v1=${stripeSignature(payload, s, timestamp)}`)].join(',');
}

export interface StripeOutboundOptions {
  secrets: string | readonly string[];
  /** Signs every attempt with this timestamp instead of the attempt's clock (stale/future tests). */
  timestamp?: number;
}

/**
 * A Stripe delivery. The body is the same bytes on every attempt (same event id: the
 * dedupe key); each attempt is signed afresh with the attempt's time, as Stripe does.
 */
export function makeStripeOutbound(event: object | string, options: StripeOutboundOptions): Outbound {
  const body = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  const id = readJsonId(body);
  return {
    source: 'stripe',
    dedupeKey: id,
    build: ({ now }) => {
      const t = options.timestamp ?? Math.floor(now.getTime() / 1000);
      return {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          accept: '*/*; q=0.5, application/xml',
          'cache-control': 'no-cache',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': stripeSignatureHeader(body, options.secrets, t),
        },
        body,
      };
    },
  };
}
